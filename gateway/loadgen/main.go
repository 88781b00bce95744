// Command loadgen drives Kefu gateways, or the socket.io peer it is
// compared with, speaking Engine.IO 3 / Socket.IO 2 over websocket and
// long-polling (package eio), and reports connections, delivered messages
// per second, end-to-end latency, errors, and each node's memory per
// connection and CPU.
//
//	go run ./gateway/loadgen -mode kefu -gateways http://127.0.0.1:8081,http://127.0.0.1:8082 \
//	    -admin-password PASSWORD -visitors 1000 -agents 20 -rate 2000 -duration 20s
//	go run ./gateway/loadgen -mode relay -gateways URL1,URL2 -visitors 1000 -rate 2000
//	go run ./gateway/loadgen -mode relay -gateways URL1 -visitors 10000 -idle -pids PID
//	go run ./gateway/loadgen table results/*.json
//
// Modes:
//   - kefu: -agents agents (created through the admin API, logged in, on
//     /im/agent, ready) and -visitors visitors (signed identities, /im/user,
//     `new`, assigned), spread round-robin over the gateways so that each
//     visitor asks for an agent on another node. Visitors send -rate
//     messages per second in all; each agent answers each message (-reply).
//     Measured: visitor send → agent receive ("forward"), agent send →
//     visitor receive ("back"), the round trip, and the acknowledgement.
//     -supervisors N adds N monitoring sockets of the admin (the whole
//     tenant in scope, `monitor {on}`), spread over the gateways: every
//     message's mirror (audit_message) is timed from its send ("mirror").
//   - relay: -visitors pairs of clients on the /relay namespace, each pair
//     in a room of its own with its two clients on different nodes; the
//     first sends, the second answers. The same legs are measured.
//
// -rate 0 runs a closed loop instead: each visitor (pair) keeps -window
// messages in flight, sending the next as soon as one has come back; the
// delivered rate is then the throughput the servers sustain. -idle only
// connects (kefu: /im/user without `new`; relay: one client per room),
// holds the connections for -duration and reports memory per connection.
//
// Messages carry their send time (this process's monotonic clock), so
// latencies need no clock agreement: every client runs here.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

type config struct {
	gateways           []string
	pids               []int
	watch              []*watched
	mode               string
	visitors, agents   int
	supervisors        int
	rate               float64
	window             int
	duration, warmup   time.Duration
	drain, timeout     time.Duration
	transport          string
	appID              string
	adminUser          string
	adminPassword      string
	idle, reply, cross bool
	payload            int
	connectConcurrency int
	label              string
	json               bool
	profileDir         string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gateways := fs.String("gateways", "http://127.0.0.1:8080", "comma-separated base URLs of the gateways (or peer nodes)")
	pids := fs.String("pids", "", "comma-separated PIDs of those processes, in the same order: RSS and CPU from /proc (else RSS from /metrics)")
	watch := fs.String("watch", "", "other processes to report CPU and RSS of: name=pid,... (e.g. redis=123,mariadb=456,routing=789)")
	fs.StringVar(&c.mode, "mode", "kefu", "kefu (our protocol, with persistence) or relay (the /relay namespace: our gateway with KEFU_RELAY_BENCH=true, or the peer)")
	fs.IntVar(&c.visitors, "visitors", 100, "visitors (relay mode: pairs of clients; idle: connections)")
	fs.IntVar(&c.agents, "agents", 10, "agents (kefu mode)")
	fs.IntVar(&c.supervisors, "supervisors", 0, "monitoring sockets of the admin, mirrors timed (kefu mode)")
	fs.Float64Var(&c.rate, "rate", 200, "messages per second from all visitors together; 0 runs a closed loop (see -window)")
	fs.IntVar(&c.window, "window", 1, "closed loop (-rate 0): messages each visitor keeps in flight")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "measured time (idle: how long connections are held before memory is read)")
	fs.DurationVar(&c.warmup, "warmup", 3*time.Second, "sending before the measured time, not counted")
	fs.DurationVar(&c.drain, "drain", 10*time.Second, "after the measured time, how long to wait for messages still on their way")
	fs.DurationVar(&c.timeout, "timeout", 60*time.Second, "bound of each set-up step (REST call, connect, assignment)")
	fs.StringVar(&c.transport, "transport", "websocket", "websocket, polling, or mix (every other client polls)")
	fs.StringVar(&c.appID, "appid", "demo", "site of the visitors (kefu mode)")
	fs.StringVar(&c.adminUser, "admin-user", "admin", "tenant admin who creates the agents (kefu mode)")
	fs.StringVar(&c.adminPassword, "admin-password", os.Getenv("KEFU_DEMO_PASSWORD"), "its password (default: $KEFU_DEMO_PASSWORD, the demo seed's)")
	fs.BoolVar(&c.idle, "idle", false, "only connect, hold, and report memory per connection")
	fs.BoolVar(&c.reply, "reply", true, "the receiving side answers every message (both directions measured)")
	fs.BoolVar(&c.cross, "cross", true, "put each visitor on another node than its agent (relay: the pair's two clients)")
	fs.IntVar(&c.payload, "payload", 32, "filler bytes in each message")
	fs.IntVar(&c.connectConcurrency, "connect-concurrency", 64, "visitors set up at once")
	fs.StringVar(&c.label, "label", "", "name of this run in the report")
	fs.BoolVar(&c.json, "json", false, "print the report as JSON on stdout (the text report goes to stderr)")
	fs.StringVar(&c.profileDir, "profile", "", "save the first gateway's pprof profiles here (it must serve /debug/pprof/, i.e. KEFU_RELAY_BENCH=true): CPU over the measured time; idle: heap and goroutines once settled")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, g := range strings.Split(*gateways, ",") {
		if g = strings.TrimRight(strings.TrimSpace(g), "/"); g != "" {
			c.gateways = append(c.gateways, g)
		}
	}
	if len(c.gateways) == 0 {
		return c, errors.New("-gateways is empty")
	}
	if *pids != "" {
		for _, p := range strings.Split(*pids, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil {
				return c, fmt.Errorf("-pids: %w", err)
			}
			c.pids = append(c.pids, n)
		}
	}
	if *watch != "" {
		for _, kv := range strings.Split(*watch, ",") {
			name, p, ok := strings.Cut(kv, "=")
			n, err := strconv.Atoi(p)
			if !ok || err != nil || name == "" {
				return c, fmt.Errorf("-watch: %q is not name=pid", kv)
			}
			c.watch = append(c.watch, &watched{name: name, pid: n})
		}
	}
	switch {
	case c.mode != "kefu" && c.mode != "relay":
		return c, fmt.Errorf("-mode %q: kefu or relay", c.mode)
	case c.transport != "websocket" && c.transport != "polling" && c.transport != "mix":
		return c, fmt.Errorf("-transport %q: websocket, polling or mix", c.transport)
	case c.visitors < 1:
		return c, errors.New("-visitors must be at least 1")
	case c.rate < 0 || c.window < 1:
		return c, errors.New("-rate must be >= 0 and -window >= 1")
	case c.mode == "kefu" && !c.idle && c.adminPassword == "":
		return c, errors.New("kefu mode needs -admin-password (or KEFU_DEMO_PASSWORD)")
	}
	if c.label == "" {
		c.label = c.mode
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "table" {
		return table(args[1:], stdout, stderr)
	}
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("run", cfg.label)
	rep, err := load(ctx, cfg, log)
	if err != nil {
		return err
	}
	text := stdout
	if cfg.json {
		text = stderr
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	}
	rep.print(text)
	return nil
}

// scenario sets up the clients of a mode and hands out its flows.
type scenario interface {
	setup(ctx context.Context) error
	activeFlows() []*flow
}

// load runs one measurement: sample, connect, (send,) sample, report.
func load(ctx context.Context, cfg config, log *slog.Logger) (*Report, error) {
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	r := newRunner(cfg, log, hex.EncodeToString(id))
	self := &watched{name: "loadgen", pid: os.Getpid()}
	procs := append(append(append([]*watched{}, r.nodes...), cfg.watch...), self)
	sampleAll := func() []procSample {
		out := make([]procSample, len(procs))
		for i, w := range procs {
			out[i] = w.sample(ctx, r.hc)
		}
		return out
	}

	before := sampleAll()
	var sc scenario
	if cfg.mode == "kefu" {
		sc = &kefuScenario{r: r}
	} else {
		sc = &relayScenario{r: r}
	}
	r.pool = newSendPool(64, 16384)
	defer r.pool.close()
	defer r.closeClients()

	loadStart := loadAverage()
	setupStart := time.Now()
	if err := sc.setup(ctx); err != nil {
		return nil, err
	}
	setupTime := time.Since(setupStart)
	r.mu.Lock()
	for i, n := range r.perNode {
		r.nodes[i].conns = n
	}
	r.mu.Unlock()
	log.Info("connected", "connections", r.connEstablished.Load(), "failed", r.connFailed.Load(), "in", setupTime.Round(time.Millisecond))

	var connected, start, end []procSample
	flows := sc.activeFlows()
	var measured time.Duration
	if cfg.idle {
		// Let allocation settle (GC cycles, pings) before reading memory.
		start = sampleAll()
		if !sleep(ctx, cfg.duration) {
			return nil, ctx.Err()
		}
		connected = sampleAll()
		if cfg.profileDir != "" {
			for _, p := range []string{"heap", "goroutine?debug=1"} {
				r.saveProfile(ctx, p, strings.NewReplacer("?debug=1", ".txt").Replace(p))
			}
		}
		end = connected
		measured = cfg.duration
		r.countDisconnects()
	} else {
		connected = sampleAll()
		if len(flows) == 0 {
			return nil, errors.New("no visitor got ready: nothing to measure")
		}
		now := r.now()
		r.windowStart.Store(now + int64(cfg.warmup))
		r.windowEnd.Store(now + int64(cfg.warmup+cfg.duration))
		dctx, stopDriving := context.WithCancel(ctx)
		driven := make(chan struct{})
		go func() {
			defer close(driven)
			r.drive(dctx, flows)
		}()
		log.Info("sending", "flows", len(flows), "rate", cfg.rate, "warmup", cfg.warmup, "duration", cfg.duration)
		ok := sleep(ctx, cfg.warmup)
		start = sampleAll()
		t0 := time.Now()
		profiled := make(chan struct{})
		if cfg.profileDir != "" {
			secs := max(1, int(cfg.duration.Seconds())-1)
			go func() {
				defer close(profiled)
				r.saveProfile(ctx, fmt.Sprintf("profile?seconds=%d", secs), "cpu")
			}()
		} else {
			close(profiled)
		}
		ok = ok && sleep(ctx, cfg.duration)
		end = sampleAll()
		measured = time.Since(t0)
		<-profiled
		stopDriving()
		<-driven
		if !ok {
			return nil, ctx.Err()
		}
		select {
		case <-r.tr.close():
		case <-time.After(cfg.drain):
			log.Warn("messages still missing after the drain", "drain", cfg.drain)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		r.countDisconnects()
	}

	rep := r.report(measured, setupTime, len(flows))
	rep.LoadAverage = [2]float64{loadStart, loadAverage()}
	for i, w := range procs {
		rep.Processes = append(rep.Processes, procReport(w, before[i], connected[i], start[i], end[i]))
	}
	return rep, nil
}

// sleep waits d or until ctx ends; false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
