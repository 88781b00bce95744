package router

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/broker"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/emit"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/redistest"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/store/storetest"
)

// stopwatch is an Emitter that notes when each visitor first heard its
// outcome (assigned or queued), at the flush that published it, and counts
// every `new`, for the burst benchmark.
type stopwatch struct {
	next  Announcer // the real emitter's batch, when the benchmark includes publishing
	flush func(context.Context) error

	mu      sync.Mutex
	pending []string             // visitors told in the batch being built
	heard   map[string]time.Time // visitor → first status published
	news    map[string]int       // session → `new` events
	all     chan struct{}
	want    int
	started time.Time
}

func (w *stopwatch) ToVisitor(ctx context.Context, appID, userID, event string, v any) error {
	if w.next != nil {
		if err := w.next.ToVisitor(ctx, appID, userID, event, v); err != nil {
			return err
		}
	}
	if event == protocol.EventStatus {
		w.mu.Lock()
		w.pending = append(w.pending, userID)
		w.mu.Unlock()
	}
	return nil
}

func (w *stopwatch) ToAgent(ctx context.Context, agentID, event string, v any) error {
	if w.next != nil {
		if err := w.next.ToAgent(ctx, agentID, event, v); err != nil {
			return err
		}
	}
	if event == protocol.EventNew {
		w.mu.Lock()
		w.news[v.(protocol.SessionSummary).AgentServiceID]++
		w.mu.Unlock()
	}
	return nil
}

func (*stopwatch) ToTenantAgents(context.Context, string, string, any) error { return nil }
func (*stopwatch) AskGatewaysToAnnounce(context.Context) error               { return nil }
func (*stopwatch) Reply(context.Context, string, any) error                  { return nil }

// ToMonitors forwards the supervisors' mirrors too: publishing them is part
// of a batch's cost.
func (w *stopwatch) ToMonitors(ctx context.Context, orgi, event string, scope protocol.Mirror, v any) error {
	if w.next != nil {
		return w.next.ToMonitors(ctx, orgi, event, scope, v)
	}
	return nil
}
func (*stopwatch) ToRoom(context.Context, string, string, string, any, string) error {
	return nil
}

func (w *stopwatch) Batch() (Announcer, func(context.Context) error) {
	return w, func(ctx context.Context) error {
		if w.flush != nil {
			if err := w.flush(ctx); err != nil {
				return err
			}
		}
		now := time.Now()
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, user := range w.pending {
			if _, ok := w.heard[user]; !ok {
				w.heard[user] = now
				if len(w.heard) == w.want {
					close(w.all)
				}
			}
		}
		w.pending = w.pending[:0]
		return nil
	}
}

// commandQueue is both ends of the command channel.
type commandQueue interface {
	command.Sender
	command.Consumer
}

// BenchmarkBurst measures routing a burst of visitors that arrive at once
// (each iteration: 5,000 visitors over 500 ready agents of capacity 8, so
// 4,000 assigned and 1,000 queued) on MariaDB: the time until every visitor
// has heard its outcome, and each visitor's latency from its request to
// that. It fails on any invariant violation. "memory" is the single
// binary's path (in-process commands, announcements not published);
// "redis" is the cluster's (commands through the Redis stream, every
// announcement published on Redis). Run it with:
//
//	go test ./services/routing/router -run '^$' -bench Burst -benchtime 3x
func BenchmarkBurst(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		burst(b, func(*testing.B) (commandQueue, *emit.Emitter) { return command.NewMemory(), nil })
	})
	b.Run("redis", func(b *testing.B) {
		rdb := redistest.Client(b, redistest.URL(b))
		burst(b, func(b *testing.B) (commandQueue, *emit.Emitter) {
			stream := "kefubench:" + store.NewID()
			q := command.NewRedis(rdb, command.RedisOptions{Stream: stream, Consumer: "bench", Logger: slog.New(slog.DiscardHandler)})
			b.Cleanup(func() { rdb.Del(context.Background(), stream) })
			return q, emit.New(broker.NewRedis(rdb, broker.RedisOptions{Prefix: "kefubench"}))
		})
	})
}

func burst(b *testing.B, channel func(*testing.B) (commandQueue, *emit.Emitter)) {
	const visitors, agents, capacity = 5000, 500, 8
	ctx := context.Background()
	st := storetest.MySQL(b)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var p50s, p99s, totals []time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		orgi := fmt.Sprintf("bench%d", i)
		if err := st.CreateTenant(ctx, &store.Tenant{ID: orgi, Name: orgi, MaxUser: capacity}); err != nil {
			b.Fatal(err)
		}
		queue, cluster := channel(b)
		w := &stopwatch{heard: make(map[string]time.Time), news: make(map[string]int), all: make(chan struct{}), want: visitors}
		if cluster != nil {
			held, flush := cluster.Batch()
			w.next, w.flush = held, flush
		}
		svc := New(st, w, log, Options{Token: int64(i + 1)})
		var setup []command.Command
		for a := range agents {
			ag := &store.Agent{Orgi: orgi, Username: fmt.Sprintf("%s-a%d", orgi, a), PasswordHash: "x", Nickname: "A", Roles: protocol.RoleAgent}
			if err := st.CreateAgent(ctx, ag, nil); err != nil {
				b.Fatal(err)
			}
			setup = append(setup,
				command.Command{ID: store.NewID(), Kind: command.AgentConnected, Orgi: orgi, AgentID: ag.ID, SocketID: "s" + ag.ID, Node: "gw"},
				command.Command{ID: store.NewID(), Kind: command.AgentStatus, Orgi: orgi, AgentID: ag.ID, Status: protocol.AgentReady})
		}
		for chunk := range slices.Chunk(setup, 256) {
			if err := svc.Handle(ctx, chunk); err != nil {
				b.Fatal(err)
			}
		}
		sent := make(map[string]time.Time, visitors)
		requests := make([]command.Command, 0, visitors)
		for v := range visitors {
			sess := store.Session{Orgi: orgi, AppID: orgi, UserID: fmt.Sprintf("v%d", v), Status: protocol.SessionInQueue}
			if err := st.CreateSession(ctx, &sess); err != nil {
				b.Fatal(err)
			}
			requests = append(requests, command.Command{ID: store.NewID(), Kind: command.VisitorRequest, Orgi: orgi, SessionID: sess.ID})
		}
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- queue.Consume(cctx, svc.Handle) }()
		b.StartTimer()

		// Visitors arrive through many sockets and gateways at once.
		w.started = time.Now()
		var sentMu sync.Mutex
		var senders sync.WaitGroup
		for g := range burstSenders {
			senders.Go(func() {
				for v := g; v < len(requests); v += burstSenders {
					at := time.Now()
					if err := queue.Send(ctx, requests[v]); err != nil {
						b.Error(err)
						return
					}
					sentMu.Lock()
					sent[fmt.Sprintf("v%d", v)] = at
					sentMu.Unlock()
				}
			})
		}
		senders.Wait()
		select {
		case <-w.all:
		case <-time.After(2 * time.Minute):
			b.Fatalf("only %d of %d visitors heard back", len(w.heard), visitors)
		}
		b.StopTimer()
		cancel()
		<-done
		lat := make([]time.Duration, 0, visitors)
		var last time.Time
		for user, at := range w.heard {
			lat = append(lat, at.Sub(sent[user]))
			if at.After(last) {
				last = at
			}
		}
		slices.Sort(lat)
		p50s, p99s = append(p50s, lat[len(lat)/2]), append(p99s, lat[len(lat)*99/100])
		totals = append(totals, last.Sub(w.started))
		checkBurst(b, st, orgi, w, visitors, agents*capacity, capacity)
		b.StartTimer()
	}
	b.ReportMetric(float64(median(totals).Milliseconds()), "ms/burst")
	b.ReportMetric(float64(median(p50s).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(median(p99s).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(visitors)/median(totals).Seconds(), "visitors/s")
}

// burstSenders is how many goroutines send the burst's requests.
const burstSenders = 8

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// checkBurst verifies the invariants in MySQL: nobody above capacity, no
// session announced twice, exactly the capacity served, the rest queued.
func checkBurst(b *testing.B, st *store.Store, orgi string, w *stopwatch, visitors, room, capacity int) {
	b.Helper()
	ctx := context.Background()
	load, err := st.CountInService(ctx, orgi)
	if err != nil {
		b.Fatal(err)
	}
	served := 0
	for agent, n := range load {
		if n > capacity {
			b.Fatalf("agent %s serves %d, capacity %d", agent, n, capacity)
		}
		served += n
	}
	queued, err := st.ListQueued(ctx, orgi, 0)
	if err != nil {
		b.Fatal(err)
	}
	if served != min(visitors, room) || served+len(queued) != visitors {
		b.Fatalf("served %d, queued %d of %d (room %d)", served, len(queued), visitors, room)
	}
	for sess, n := range w.news {
		if n != 1 {
			b.Fatalf("session %s announced %d times", sess, n)
		}
	}
	if len(w.news) != served {
		b.Fatalf("%d announced, %d served", len(w.news), served)
	}
}
