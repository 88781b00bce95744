package eio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kefu-im/kefu/gateway/loadgen/eio"
	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/pkg/protocol"
)

// wait bounds anything a test awaits; it is a deadline, not a measurement.
const wait = 10 * time.Second

var transports = []string{eio.Websocket, eio.Polling}

// server is Kefu's real Socket.IO server, in process, with a namespace /t.
type server struct {
	url   string
	srv   *sio.Server
	discs chan string // socket ids, from OnDisconnect
	stop  func()
}

type echoArg struct {
	Text string `json:"text"`
	N    int    `json:"n"`
}

func startServer(t *testing.T, cfg sio.Config) *server {
	t.Helper()
	cfg.NodeID = "eio-test"
	if cfg.PingInterval == 0 {
		// A short ping timeout: the library holds a polling POST that is in
		// flight when its session closes until then, and the test server's
		// Close waits for it.
		cfg.PingInterval, cfg.PingTimeout = time.Second, 2*time.Second
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := sio.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{srv: srv, discs: make(chan string, 64)}
	ns := srv.Namespace("/t")
	ns.OnConnect(func(ctx context.Context, sock *sio.Socket) error {
		q := sock.Query()
		if q.Get("deny") != "" {
			return protocol.Errorf(protocol.CodeUnauthorized, "go away")
		}
		sock.Emit("hello", map[string]string{"name": q.Get("name")})
		return nil
	})
	ns.OnDisconnect(func(sock *sio.Socket, _ string) { s.discs <- sock.ID() })
	sio.Handle(ns, "echo", func(ctx context.Context, sock *sio.Socket, p echoArg) (any, error) {
		return p, nil
	})
	sio.Handle(ns, "burst", func(ctx context.Context, sock *sio.Socket, p echoArg) (any, error) {
		for i := range p.N {
			sock.Emit("n", map[string]int{"i": i})
		}
		return protocol.OKAck{OK: true}, nil
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ts := httptest.NewServer(mux)
	s.url = ts.URL
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(ctx) }()
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-runErr:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(wait):
				t.Error("Run did not return")
			}
			ts.Close()
		})
	}
	t.Cleanup(s.stop)
	select {
	case <-srv.Started():
	case <-time.After(wait):
		t.Fatal("server did not start")
	}
	return s
}

func httpClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// events collects what OnEvent receives.
type events struct {
	ch chan event
}

type event struct {
	name string
	arg  string
}

func newEvents() *events { return &events{ch: make(chan event, 1024)} }

func (e *events) on(name string, arg json.RawMessage) { e.ch <- event{name, string(arg)} }

func (e *events) next(t *testing.T) event {
	t.Helper()
	select {
	case ev := <-e.ch:
		return ev
	case <-time.After(wait):
		t.Fatal("no event")
		return event{}
	}
}

func dial(t *testing.T, base, transport string, q url.Values, ev *events) *eio.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := eio.Dial(ctx, eio.Config{
		URL: base, Namespace: "/t", Query: q, Transport: transport, HTTPClient: httpClient(t), OnEvent: ev.on,
	})
	if err != nil {
		t.Fatalf("Dial %s: %v", transport, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestConnectQueryEventsAndAcks(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			s := startServer(t, sio.Config{})
			ev := newEvents()
			c := dial(t, s.url, tr, url.Values{"name": {"ada lovelace"}}, ev)
			if c.Transport() != tr || !strings.HasPrefix(c.SID(), "eio-test.") {
				t.Fatalf("transport %q sid %q", c.Transport(), c.SID())
			}

			// The server read the handshake query and emitted after connect.
			if got := ev.next(t); got.name != "hello" || got.arg != `{"name":"ada lovelace"}` {
				t.Fatalf("first event %+v", got)
			}

			// Acknowledgements carry the handler's answer, including
			// characters outside the BMP (UTF-16 framing over polling).
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			for i, text := range []string{"plain", "emoji 😀 and 中文", strings.Repeat("x", 10000)} {
				ack, err := c.Call(ctx, "echo", echoArg{Text: text, N: i})
				if err != nil {
					t.Fatal(err)
				}
				var got echoArg
				if err := json.Unmarshal(ack, &got); err != nil || got.Text != text || got.N != i {
					t.Fatalf("echo %d: %s %v", i, ack, err)
				}
			}

			// Server events arrive complete and in order.
			const n = 100
			ack, err := c.Call(ctx, "burst", echoArg{N: n})
			if err != nil || string(ack) != `{"ok":true}` {
				t.Fatalf("burst ack %s %v", ack, err)
			}
			for i := range n {
				if got := ev.next(t); got.name != "n" || got.arg != fmt.Sprintf(`{"i":%d}`, i) {
					t.Fatalf("event %d: %+v", i, got)
				}
			}

			// Many acknowledgements outstanding at once all come back.
			var wg sync.WaitGroup
			errs := make(chan error, 50)
			for i := range 50 {
				wg.Add(1)
				if err := c.EmitAsync("echo", echoArg{Text: "async", N: i}, func(ack json.RawMessage, err error) {
					defer wg.Done()
					var got echoArg
					if err == nil {
						err = json.Unmarshal(ack, &got)
					}
					if err == nil && got.N != i {
						err = fmt.Errorf("ack for %d answered %d", i, got.N)
					}
					errs <- err
				}); err != nil {
					t.Fatal(err)
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}

			// Emit without an acknowledgement reaches the handler too.
			if err := c.Emit("echo", echoArg{Text: "fire and forget"}); err != nil {
				t.Fatal(err)
			}

			// Close tells the server.
			id := c.SID() + "#/t"
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if !errors.Is(c.Err(), eio.ErrClosed) {
				t.Fatalf("Err after Close: %v", c.Err())
			}
			select {
			case got := <-s.discs:
				if got != id {
					t.Fatalf("disconnected %s, want %s", got, id)
				}
			case <-time.After(wait):
				t.Fatal("server saw no disconnect")
			}
			if err := c.Emit("echo", echoArg{Text: "late"}); err == nil {
				t.Fatal("Emit after Close succeeded")
			}
		})
	}
}

func TestRefusedSocket(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			s := startServer(t, sio.Config{})
			ev := newEvents()
			c := dial(t, s.url, tr, url.Values{"deny": {"1"}}, ev)
			got := ev.next(t)
			var pe protocol.Error
			if got.name != protocol.EventRefused || json.Unmarshal([]byte(got.arg), &pe) != nil || pe.Code != protocol.CodeUnauthorized {
				t.Fatalf("got %+v, want refused unauthorized", got)
			}
			select {
			case <-c.Done():
			case <-time.After(wait):
				t.Fatal("refused connection was not closed")
			}
			if c.Err() == nil || errors.Is(c.Err(), eio.ErrClosed) {
				t.Fatalf("Err %v, want the server's close", c.Err())
			}
		})
	}
}

func TestPingsKeepTheConnection(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			// A short ping interval: the client must ping on it and the
			// server answer, or the server drops it.
			s := startServer(t, sio.Config{PingInterval: 20 * time.Millisecond, PingTimeout: 2 * time.Second})
			ev := newEvents()
			c := dial(t, s.url, tr, nil, ev)
			deadline := time.Now().Add(wait)
			for c.Pongs() < 5 {
				if c.Err() != nil {
					t.Fatalf("connection ended: %v", c.Err())
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d pongs", c.Pongs())
				}
				time.Sleep(5 * time.Millisecond)
			}
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			if _, err := c.Call(ctx, "echo", echoArg{Text: "still here"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestServerShutdownEndsClient(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			s := startServer(t, sio.Config{})
			c := dial(t, s.url, tr, nil, newEvents())
			s.stop()
			select {
			case <-c.Done():
			case <-time.After(wait):
				t.Fatal("client did not notice the shutdown")
			}
			if c.Err() == nil || errors.Is(c.Err(), eio.ErrClosed) {
				t.Fatalf("Err %v", c.Err())
			}
		})
	}
}

// silentServer is an Engine.IO 3 websocket server that connects the
// namespace and then never answers anything: no pongs, no acks.
func silentServer(t *testing.T, pingInterval, pingTimeout int) string {
	t.Helper()
	up := websocket.Upgrader{}
	var wg sync.WaitGroup
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer ws.Close()
		open := fmt.Sprintf(`0{"sid":"s1","upgrades":[],"pingInterval":%d,"pingTimeout":%d}`, pingInterval, pingTimeout)
		if ws.WriteMessage(websocket.TextMessage, []byte(open)) != nil || ws.WriteMessage(websocket.TextMessage, []byte("40")) != nil {
			return
		}
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if string(msg) == "40/t" && ws.WriteMessage(websocket.TextMessage, []byte("40/t,")) != nil {
				return
			}
		}
	}))
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		wg.Wait()
	})
	return ts.URL
}

func TestPingTimeout(t *testing.T) {
	base := silentServer(t, 10, 30)
	c := dial(t, base, eio.Websocket, nil, newEvents())
	select {
	case <-c.Done():
	case <-time.After(wait):
		t.Fatal("no ping timeout")
	}
	if !errors.Is(c.Err(), eio.ErrPingTimeout) {
		t.Fatalf("Err %v, want ErrPingTimeout", c.Err())
	}
}

func TestPendingAcksFailOnClose(t *testing.T) {
	base := silentServer(t, 60000, 60000)
	c := dial(t, base, eio.Websocket, nil, newEvents())
	got := make(chan error, 1)
	if err := c.EmitAsync("anything", map[string]int{"a": 1}, func(_ json.RawMessage, err error) { got <- err }); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	select {
	case err := <-got:
		if !errors.Is(err, eio.ErrClosed) {
			t.Fatalf("ack callback got %v", err)
		}
	default:
		t.Fatal("pending acknowledgement not failed by Close")
	}
	if err := c.EmitAsync("anything", nil, func(json.RawMessage, error) { t.Error("callback after Close") }); err == nil {
		t.Fatal("EmitAsync after Close succeeded")
	}
}
