package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is one run's outcome; -json prints it.
type Report struct {
	Label     string   `json:"label"`
	Mode      string   `json:"mode"`
	Idle      bool     `json:"idle"`
	Transport string   `json:"transport"`
	Gateways  []string `json:"gateways"`
	Visitors  int      `json:"visitors"`
	Agents    int      `json:"agents,omitempty"`
	Flows     int      `json:"flows"` // visitors (pairs) that got ready and sent
	Rate      float64  `json:"rate"`  // target messages/s; 0: closed loop
	Window    int      `json:"window,omitempty"`
	Reply     bool     `json:"reply"`
	Payload   int      `json:"payload"`
	Warmup    string   `json:"warmup"`
	Duration  float64  `json:"duration_s"` // measured
	SetupTime float64  `json:"setup_s"`

	Connections struct {
		Attempted   int64 `json:"attempted"`
		Established int64 `json:"established"`
		Failed      int64 `json:"failed"`
	} `json:"connections"`

	Messages struct {
		Sent           int64 `json:"sent"`
		Acked          int64 `json:"acked"`
		AckErrors      int64 `json:"ack_errors"`
		Delivered      int64 `json:"delivered"` // forward leg
		RepliesSent    int64 `json:"replies_sent"`
		RepliesArrived int64 `json:"replies_delivered"`
		Lost           int64 `json:"lost"` // forward legs that never arrived
		LostReplies    int64 `json:"lost_replies"`
		Duplicates     int64 `json:"duplicates"`
		Mirrored       int64 `json:"mirrored,omitempty"` // mirrors that reached supervisors
	} `json:"messages"`

	// Delivered messages per second over the measured time.
	Throughput struct {
		Forward float64 `json:"forward"`
		Back    float64 `json:"back"`
		Total   float64 `json:"total"`
	} `json:"throughput"`

	Latency struct {
		Forward LatencySummary `json:"forward"`  // visitor send → agent receive
		Back    LatencySummary `json:"back"`     // agent send → visitor receive
		RTT     LatencySummary `json:"rtt"`      // visitor send → reply received
		Ack     LatencySummary `json:"ack"`      // visitor send → acknowledgement
		SendLag LatencySummary `json:"send_lag"` // open loop: scheduled → written
		Mirror  LatencySummary `json:"mirror"`   // message send → its mirror at a supervisor
	} `json:"latency"`

	Errors    map[string]int64 `json:"errors"`
	Processes []ProcReport     `json:"processes"`
	// LoadAverage is the machine's 1-minute load average when the run
	// started and when it ended: other work on the machine skews every
	// figure, throughput most.
	LoadAverage [2]float64 `json:"load_average"`
}

func (r *runner) report(measured, setup time.Duration, flows int) *Report {
	cfg := r.cfg
	rep := &Report{
		Label: cfg.label, Mode: cfg.mode, Idle: cfg.idle, Transport: cfg.transport, Gateways: cfg.gateways,
		Visitors: cfg.visitors, Flows: flows, Rate: cfg.rate, Reply: cfg.reply, Payload: cfg.payload,
		Warmup: cfg.warmup.String(), Duration: round3(measured.Seconds()), SetupTime: round3(setup.Seconds()),
	}
	if cfg.mode == "kefu" {
		rep.Agents = cfg.agents
	}
	if cfg.rate == 0 {
		rep.Window = cfg.window
	}
	rep.Connections.Attempted = r.connAttempted.Load()
	rep.Connections.Established = r.connEstablished.Load()
	rep.Connections.Failed = r.connFailed.Load()
	m := &rep.Messages
	m.Sent, m.Acked, m.AckErrors = r.sent.Load(), r.ackedOK.Load(), r.ackErrors.Load()
	m.Delivered, m.RepliesSent, m.RepliesArrived = r.fwdDelivered.Load(), r.backSent.Load(), r.backDel.Load()
	m.Lost, m.LostReplies = r.tr.missing(cfg.reply)
	m.Duplicates = r.duplicates.Load()
	m.Mirrored = r.mirrored.Load()
	if !cfg.idle && measured > 0 {
		s := measured.Seconds()
		rep.Throughput.Forward = math.Round(float64(m.Delivered) / s)
		rep.Throughput.Back = math.Round(float64(m.RepliesArrived) / s)
		rep.Throughput.Total = rep.Throughput.Forward + rep.Throughput.Back
	}
	rep.Latency.Forward = r.fwd.summary()
	rep.Latency.Back = r.back.summary()
	rep.Latency.RTT = r.rtt.summary()
	rep.Latency.Ack = r.ack.summary()
	rep.Latency.SendLag = r.lag.summary()
	rep.Latency.Mirror = r.mirror.summary()
	rep.Errors = r.errs.snapshot()
	return rep
}

func kib(b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f KiB", b/1024)
}

func mib(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// print writes the report for people.
func (rep *Report) print(w io.Writer) {
	fmt.Fprintf(w, "\n== %s: mode %s, %s, %d visitors", rep.Label, rep.Mode, rep.Transport, rep.Visitors)
	if rep.Mode == "kefu" && !rep.Idle {
		fmt.Fprintf(w, ", %d agents", rep.Agents)
	}
	switch {
	case rep.Idle:
		fmt.Fprintf(w, ", idle for %.0f s", rep.Duration)
	case rep.Rate > 0:
		fmt.Fprintf(w, ", %.0f msg/s for %.1f s", rep.Rate, rep.Duration)
	default:
		fmt.Fprintf(w, ", closed loop (window %d) for %.1f s", rep.Window, rep.Duration)
	}
	fmt.Fprintf(w, " ==\nmachine load average: %.2f at the start, %.2f at the end", rep.LoadAverage[0], rep.LoadAverage[1])
	fmt.Fprintf(w, "\nconnections: %d established, %d failed (set-up %.1f s, %d flows)\n",
		rep.Connections.Established, rep.Connections.Failed, rep.SetupTime, rep.Flows)
	if !rep.Idle {
		m := rep.Messages
		fmt.Fprintf(w, "messages: %d sent, %d acked, %d ack errors, %d delivered, %d lost, %d duplicates; replies %d sent, %d delivered, %d lost\n",
			m.Sent, m.Acked, m.AckErrors, m.Delivered, m.Lost, m.Duplicates, m.RepliesSent, m.RepliesArrived, m.LostReplies)
		fmt.Fprintf(w, "delivered: %.0f msg/s forward + %.0f back = %.0f msg/s\n", rep.Throughput.Forward, rep.Throughput.Back, rep.Throughput.Total)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "latency (ms)\tcount\tp50\tp95\tp99\tp99.9\tmax\t")
		for _, l := range []struct {
			name string
			s    LatencySummary
		}{{"forward", rep.Latency.Forward}, {"back", rep.Latency.Back}, {"round trip", rep.Latency.RTT}, {"ack", rep.Latency.Ack}, {"send lag", rep.Latency.SendLag}, {"mirror", rep.Latency.Mirror}} {
			if l.s.Count == 0 {
				continue
			}
			fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", l.name, l.s.Count, l.s.P50, l.s.P95, l.s.P99, l.s.P999, l.s.Max)
		}
		_ = tw.Flush()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "process\tpid\tconns\tRSS before\tRSS conn.\tRSS end\tRSS/conn\tΔRSS/conn\tgoroutines/conn\theap/conn\tstack/conn\tCPU %\t")
	for _, p := range rep.Processes {
		gpc := "-"
		if p.GoroutinesPerConn != 0 {
			gpc = fmt.Sprintf("%.2f", p.GoroutinesPerConn)
		}
		heap := p.HeapInusePerConn
		if heap == 0 {
			heap = p.NodeHeapPerConn + p.NodeExternalPerConn
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t\n", p.Name, p.PID, p.Conns,
			mib(p.RSSBefore), mib(p.RSSConnected), mib(p.RSSEnd), kib(p.RSSPerConn), kib(p.DeltaRSSPerConn),
			gpc, kib(heap), kib(p.StackInusePerConn), p.CPUPercent)
	}
	_ = tw.Flush()
	if len(rep.Errors) > 0 {
		fmt.Fprintln(w, "errors:")
		for _, k := range sortedKeys(rep.Errors) {
			fmt.Fprintf(w, "  %6d  %s\n", rep.Errors[k], k)
		}
	}
}

// table prints reports (-json output files) as markdown tables. With
// -base NAME, a run labelled "X@LOAD" gets ratio columns against the run
// labelled "NAME@LOAD" (same load, the other server).
func table(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen table", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("base", "", "name of the runs the ratio columns compare with (labels NAME@LOAD)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("table: name the report files (-json output)")
	}
	var reps []*Report
	byLabel := map[string]*Report{}
	for _, path := range fs.Args() {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var rep Report
		if err := json.Unmarshal(b, &rep); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		reps = append(reps, &rep)
		byLabel[rep.Label] = &rep
	}
	var load, idle []*Report
	for _, r := range reps {
		if r.Idle {
			idle = append(idle, r)
		} else {
			load = append(load, r)
		}
	}
	if len(load) > 0 {
		fmt.Fprintln(stdout, "| run | load | machine load | conns (failed) | delivered msg/s | p50 ms | p95 ms | p99 ms | round trip p99 ms | lost | errors | nodes' CPU % | nodes' CPU µs/msg | other CPU % | × throughput | × p99 |")
		fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
		for _, r := range load {
			loadDesc := fmt.Sprintf("%d flows, %.0f/s", r.Flows, r.Rate)
			if r.Rate == 0 {
				loadDesc = fmt.Sprintf("%d flows, closed loop", r.Flows)
			}
			var cpu, other []string
			var nodeCPU float64
			for _, p := range r.Processes {
				switch {
				case p.URL != "":
					cpu = append(cpu, fmt.Sprintf("%.0f", p.CPUPercent))
					nodeCPU += p.CPUSeconds
				case p.Name != "loadgen":
					other = append(other, fmt.Sprintf("%s %.0f", p.Name, p.CPUPercent))
				}
			}
			perMsg := "-"
			if d := float64(r.Messages.Delivered + r.Messages.RepliesArrived); d > 0 && nodeCPU > 0 {
				perMsg = fmt.Sprintf("%.0f", nodeCPU*1e6/d)
			}
			xThr, xP99 := "", ""
			if name, l, ok := strings.Cut(r.Label, "@"); ok && *base != "" && name != *base {
				if ref := byLabel[*base+"@"+l]; ref != nil && ref.Throughput.Total > 0 && ref.Latency.Forward.P99 > 0 {
					xThr = fmt.Sprintf("%.2f", r.Throughput.Total/ref.Throughput.Total)
					xP99 = fmt.Sprintf("%.2f", r.Latency.Forward.P99/ref.Latency.Forward.P99)
				}
			}
			var errs int64
			for _, n := range r.Errors {
				errs += n
			}
			fmt.Fprintf(stdout, "| %s | %s, %s | %s | %d (%d) | %.0f | %.2f | %.2f | %.2f | %.2f | %d+%d | %d | %s | %s | %s | %s | %s |\n",
				r.Label, loadDesc, r.Transport, machineLoad(r), r.Connections.Established, r.Connections.Failed, r.Throughput.Total,
				r.Latency.Forward.P50, r.Latency.Forward.P95, r.Latency.Forward.P99, r.Latency.RTT.P99,
				r.Messages.Lost, r.Messages.LostReplies, errs, strings.Join(cpu, " + "), perMsg, strings.Join(other, ", "), xThr, xP99)
		}
	}
	mirrored := false
	for _, r := range load {
		mirrored = mirrored || r.Messages.Mirrored > 0
	}
	if mirrored {
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, "| run | mirrors delivered | mirror p50 ms | p95 ms | p99 ms | p99.9 ms | max ms |")
		fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|")
		for _, r := range load {
			if m := r.Latency.Mirror; r.Messages.Mirrored > 0 {
				fmt.Fprintf(stdout, "| %s | %d | %.2f | %.2f | %.2f | %.2f | %.2f |\n", r.Label, r.Messages.Mirrored, m.P50, m.P95, m.P99, m.P999, m.Max)
			}
		}
	}
	if len(idle) > 0 {
		if len(load) > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintln(stdout, "| run | machine load | idle conns (failed) | RSS before | RSS connected | ΔRSS/conn | goroutines/conn | heap/conn | stack/conn |")
		fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|---|---|")
		for _, r := range idle {
			for _, p := range r.Processes {
				if p.URL == "" || p.Conns == 0 {
					continue
				}
				gpc := "-"
				if p.GoroutinesPerConn != 0 {
					gpc = fmt.Sprintf("%.2f", p.GoroutinesPerConn)
				}
				heap := p.HeapInusePerConn
				if heap == 0 {
					heap = p.NodeHeapPerConn + p.NodeExternalPerConn
				}
				fmt.Fprintf(stdout, "| %s | %s | %d (%d) | %s | %s | %s | %s | %s | %s |\n", r.Label, machineLoad(r), p.Conns, r.Connections.Failed,
					mib(p.RSSBefore), mib(p.RSSConnected), kib(p.DeltaRSSPerConn), gpc, kib(heap), kib(p.StackInusePerConn))
			}
		}
	}
	return nil
}

// machineLoad is the run's load average column: "start → end".
func machineLoad(r *Report) string {
	return fmt.Sprintf("%.1f → %.1f", r.LoadAverage[0], r.LoadAverage[1])
}
