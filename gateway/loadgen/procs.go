package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// every Linux the project runs on (getconf CLK_TCK).
const clockTicks = 100

// procSample is one look at a process.
type procSample struct {
	At  time.Time
	RSS int64         // bytes; 0 if unknown
	CPU time.Duration // user + system since start; 0 if unknown
	// From the server's /metrics, when it has one.
	Metrics map[string]float64
}

// watched is a process the report covers: a gateway or peer node (URL set)
// or another process (redis, mariadb, routing) named on the command line.
type watched struct {
	name string
	url  string // "" for processes without HTTP
	pid  int    // 0 if unknown
	// conns is how many of the load generator's clients use this node.
	conns int
}

// metricNames are the /metrics series the report uses: Go's and Node's
// memory, goroutines, and the servers' own connection counts.
var metricNames = []string{
	"process_resident_memory_bytes",
	"go_goroutines",
	"go_memstats_heap_inuse_bytes",
	"go_memstats_stack_inuse_bytes",
	"go_memstats_sys_bytes",
	"kefu_socket_connections",
	"nodejs_heap_used_bytes",
	"nodejs_external_memory_bytes",
	"nodejs_array_buffers_bytes",
	"socketio_connections",
}

func (w *watched) sample(ctx context.Context, hc *http.Client) procSample {
	s := procSample{At: time.Now()}
	if w.url != "" {
		if m, err := scrapeMetrics(ctx, hc, w.url+"/metrics"); err == nil {
			s.Metrics = m
			s.RSS = int64(m["process_resident_memory_bytes"])
		}
	}
	if w.pid > 0 {
		if rss, err := readRSS(w.pid); err == nil {
			s.RSS = rss
		}
		if cpu, err := readCPU(w.pid); err == nil {
			s.CPU = cpu
		}
	}
	return s
}

// readRSS reads VmRSS from /proc/<pid>/status.
func readRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmRSS")
}

// readCPU reads utime + stime from /proc/<pid>/stat.
func readCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may contain spaces; fields after its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("malformed stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, errors.New("short stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// scrapeMetrics reads the series in metricNames from a Prometheus text
// endpoint, summing the label sets of each.
func scrapeMetrics(ctx context.Context, hc *http.Client, url string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return parseMetrics(resp.Body)
}

func parseMetrics(r io.Reader) (map[string]float64, error) {
	out := make(map[string]float64)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		var name, rest string
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			name, rest = line[:i], line[j+1:]
		} else {
			name, rest, _ = strings.Cut(line, " ")
		}
		wanted := false
		for _, m := range metricNames {
			wanted = wanted || m == name
		}
		if !wanted {
			continue
		}
		val, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			continue
		}
		out[name] += v
	}
	return out, sc.Err()
}

// ProcReport is what the report says about one process.
type ProcReport struct {
	Name  string `json:"name"`
	URL   string `json:"url,omitempty"`
	PID   int    `json:"pid,omitempty"`
	Conns int    `json:"conns"` // the load generator's connections to it
	// ServerConns is what the server itself counts (kefu_socket_connections
	// or socketio_connections), when it says.
	ServerConns float64 `json:"server_conns,omitempty"`

	RSSBefore    int64 `json:"rss_before"`    // before any client connected
	RSSConnected int64 `json:"rss_connected"` // every client connected (idle: after settling)
	RSSEnd       int64 `json:"rss_end"`       // end of the measured window
	// RSSPerConn is RSSEnd / Conns (the whole process, base included);
	// DeltaRSSPerConn is (RSSConnected - RSSBefore) / Conns: what one more
	// connection costs.
	RSSPerConn      float64 `json:"rss_per_conn"`
	DeltaRSSPerConn float64 `json:"delta_rss_per_conn"`

	// Go servers (from /metrics): per connection, at RSSConnected's moment.
	Goroutines        float64 `json:"goroutines,omitempty"`
	GoroutinesPerConn float64 `json:"goroutines_per_conn,omitempty"`
	HeapInusePerConn  float64 `json:"heap_inuse_per_conn,omitempty"`
	StackInusePerConn float64 `json:"stack_inuse_per_conn,omitempty"`
	// Node servers (from /metrics).
	NodeHeapPerConn     float64 `json:"node_heap_per_conn,omitempty"`
	NodeExternalPerConn float64 `json:"node_external_per_conn,omitempty"`

	// CPU over the measured window (idle: the settle time).
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUPercent float64 `json:"cpu_percent"` // of one core
}

// procReport summarises samples taken before, once connected, and at the
// start and end of the measured window.
func procReport(w *watched, before, connected, start, end procSample) ProcReport {
	r := ProcReport{
		Name: w.name, URL: w.url, PID: w.pid, Conns: w.conns,
		RSSBefore: before.RSS, RSSConnected: connected.RSS, RSSEnd: end.RSS,
	}
	if m := connected.Metrics; m != nil {
		r.ServerConns = m["kefu_socket_connections"] + m["socketio_connections"]
		r.Goroutines = m["go_goroutines"]
	}
	if w.conns > 0 {
		n := float64(w.conns)
		r.RSSPerConn = float64(end.RSS) / n
		if before.RSS > 0 && connected.RSS > 0 {
			r.DeltaRSSPerConn = float64(connected.RSS-before.RSS) / n
		}
		if b, c := before.Metrics, connected.Metrics; b != nil && c != nil {
			per := func(k string) float64 { return (c[k] - b[k]) / n }
			r.GoroutinesPerConn = per("go_goroutines")
			r.HeapInusePerConn = per("go_memstats_heap_inuse_bytes")
			r.StackInusePerConn = per("go_memstats_stack_inuse_bytes")
			r.NodeHeapPerConn = per("nodejs_heap_used_bytes")
			r.NodeExternalPerConn = per("nodejs_external_memory_bytes")
		}
	}
	if d := end.At.Sub(start.At); d > 0 && w.pid > 0 {
		cpu := end.CPU - start.CPU
		r.CPUSeconds = round3(cpu.Seconds())
		r.CPUPercent = round3(100 * cpu.Seconds() / d.Seconds())
	}
	return r
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// saveProfile fetches /debug/pprof/<what> from the first gateway into
// <profileDir>/<label>-<name>.pprof (.txt for text profiles).
func (r *runner) saveProfile(ctx context.Context, what, name string) {
	if !strings.HasSuffix(name, ".txt") {
		name += ".pprof"
	}
	path := filepath.Join(r.cfg.profileDir, r.cfg.label+"-"+name)
	err := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.gateways[0]+"/debug/pprof/"+what, nil)
		if err != nil {
			return err
		}
		resp, err := r.hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s", resp.Status)
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, resp.Body); err != nil {
			_ = f.Close()
			return err
		}
		return f.Close()
	}()
	if err != nil {
		r.log.Warn("profile not saved", "profile", what, "err", err)
		return
	}
	r.log.Info("profile saved", "path", path)
}

// loadAverage is the machine's 1-minute load average, 0 where /proc has
// none.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), " ")
	v, _ := strconv.ParseFloat(first, 64)
	return v
}
