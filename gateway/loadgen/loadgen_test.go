package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/relay"
	"github.com/kefu-im/kefu/gateway/relay/relaytest"
)

func TestHistogram(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	s := h.summary()
	near := func(got, want float64) bool { return got >= want*0.98 && got <= want*1.02 }
	if s.Count != 1000 || !near(s.P50, 500) || !near(s.P95, 950) || !near(s.P99, 990) || s.Max != 1000 || !near(s.Mean, 500.5) {
		t.Fatalf("summary %+v", s)
	}
	for _, v := range []int64{0, 1, 63, 64, 65, 1000, 1 << 20, 1<<40 - 1} {
		i := histIndex(v)
		if mid := histValue(i); v >= 64 && (mid < v-v/32 || mid > v+v/32) {
			t.Errorf("value %d: bucket %d middle %d", v, i, mid)
		}
	}
	if (&histogram{}).summary().Count != 0 {
		t.Error("empty histogram")
	}
}

func TestTracker(t *testing.T) {
	tr := newTracker()
	tr.sent(1, 2)
	tr.sent(2, 2)
	tr.sent(3, 2)
	if !tr.arrived(1, legForward) || tr.arrived(1, legForward) || tr.arrived(9, legForward) {
		t.Fatal("arrival, duplicate or unknown not told apart")
	}
	tr.arrived(1, legBack)
	tr.arrived(2, legForward)
	drained := tr.close()
	select {
	case <-drained:
		t.Fatal("drained with legs outstanding")
	default:
	}
	tr.unexpect(3) // message 2's reply and message 3 failed
	<-drained
	if fwd, back := tr.missing(true); fwd != 1 || back != 1 {
		t.Fatalf("missing %d %d", fwd, back)
	}
}

func TestParseStamp(t *testing.T) {
	fl, seq, ts, t2, ok := parseStamp("lr 3 17 123456 234567 xxxx", "lr", 4)
	if !ok || fl != 3 || seq != 17 || ts != 123456 || t2 != 234567 {
		t.Fatalf("%d %d %d %d %v", fl, seq, ts, t2, ok)
	}
	for _, bad := range []string{"", "lg 1 2", "lr 3 17 123456 234567", "lg x 2 3", "hello there 1 2 3"} {
		if _, _, _, _, ok := parseStamp(bad, "lg", 3); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 4.2e+07
go_goroutines 42
kefu_socket_connections{namespace="/im/user",transport="websocket"} 10
kefu_socket_connections{namespace="/im/agent",transport="polling"} 5
kefu_socket_events_in_total{namespace="/im/user",event="message",result="ok"} 99
socketio_connections 7
`
	m, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if m["process_resident_memory_bytes"] != 42e6 || m["go_goroutines"] != 42 || m["kefu_socket_connections"] != 15 || m["socketio_connections"] != 7 {
		t.Fatalf("%v", m)
	}
	if _, ok := m["kefu_socket_events_in_total"]; ok {
		t.Error("series not asked for was kept")
	}
}

func TestErrKind(t *testing.T) {
	err := fmt.Errorf("eio: poll: %w", errors.New(`Get "http://127.0.0.1:8081/socket.io/?EIO=3&sign=abc&userid=u1": dial tcp: connection refused`))
	if got := errKind("connect", err); got != "connect: eio: poll: Get URL: dial tcp: connection refused" {
		t.Fatalf("%q", got)
	}
}

func TestReadProc(t *testing.T) {
	rss, err := readRSS(os.Getpid())
	if err != nil || rss <= 0 {
		t.Fatalf("rss %d %v", rss, err)
	}
	if _, err := readCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}

// TestRelayRun drives a whole relay run, open and closed loop, over both
// transports, against two in-process nodes: every message and reply sent in
// the window arrives exactly once.
func TestRelayRun(t *testing.T) {
	urls := relaytest.Cluster(t, func(mux *http.ServeMux) { mux.Handle("/debug/pprof/", relay.Profiling()) })
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		rate float64
	}{{"open loop", 200}, {"closed loop", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config{
				gateways: urls, mode: "relay", visitors: 6, rate: tc.rate, window: 2,
				warmup: 50 * time.Millisecond, duration: 300 * time.Millisecond, drain: 10 * time.Second, timeout: 10 * time.Second,
				transport: "mix", reply: true, cross: true, payload: 8, connectConcurrency: 4, label: "test",
				pids: []int{os.Getpid()}, profileDir: dir,
			}
			rep, err := load(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			m := rep.Messages
			if rep.Connections.Established != 12 || rep.Connections.Failed != 0 || rep.Flows != 6 {
				t.Fatalf("connections %+v, flows %d", rep.Connections, rep.Flows)
			}
			if m.Sent == 0 || m.Acked != m.Sent || m.Delivered != m.Sent || m.RepliesSent != m.Sent || m.RepliesArrived != m.Sent ||
				m.Lost != 0 || m.LostReplies != 0 || m.Duplicates != 0 || m.AckErrors != 0 {
				t.Fatalf("messages %+v, errors %v", m, rep.Errors)
			}
			if rep.Latency.Forward.Count != m.Sent || rep.Latency.RTT.Count != m.Sent || rep.Throughput.Total <= 0 {
				t.Fatalf("latency %+v throughput %+v", rep.Latency, rep.Throughput)
			}
			if p := rep.Processes[0]; p.Conns != 6 || p.RSSEnd <= 0 {
				t.Fatalf("process %+v", p)
			}
			if fi, err := os.Stat(filepath.Join(dir, "test-cpu.pprof")); err != nil || fi.Size() == 0 {
				t.Fatalf("CPU profile: %v", err)
			}
			var sb strings.Builder
			rep.print(&sb)
			if !strings.Contains(sb.String(), "delivered:") {
				t.Fatalf("text report:\n%s", sb.String())
			}
		})
	}
}
