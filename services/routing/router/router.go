// Package router is the routing service: the single owner of agent status
// and of assignment. It consumes commands from gateways in batches, decides
// against its in-memory picture of each tenant, writes the outcome of a
// whole batch in one fenced transaction and, once that has committed, tells
// the affected parties through the broker.
//
// Every handler is idempotent (commands are delivered at least once): a
// replayed command finds its effect already in the picture and does nothing,
// and the writes are conditional, so nothing is assigned twice.
package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/emit"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Store is the routing leader's database: every read and write of a batch
// happens in one transaction, fenced with the leader's token.
type Store interface {
	Routing(ctx context.Context, token int64, fn func(*store.RoutingTx) error) error
}

// Announcer reaches sockets anywhere in the cluster, and the gateway
// waiting for the answer to a command.
type Announcer interface {
	ToVisitor(ctx context.Context, appID, userID, event string, v any) error
	ToAgent(ctx context.Context, agentID, event string, v any) error
	ToTenantAgents(ctx context.Context, orgi, event string, v any) error
	ToRoom(ctx context.Context, namespace, room, event string, v any, except string) error
	Reply(ctx context.Context, replyTo string, v any) error
	// ToMonitors mirrors a chat's event to the tenant's supervisors whose
	// scope covers it (see emit.Emitter.ToMonitors).
	ToMonitors(ctx context.Context, orgi, event string, scope protocol.Mirror, v any) error
}

// Emitter is routing's way out.
type Emitter interface {
	Announcer
	AskGatewaysToAnnounce(ctx context.Context) error
	// Batch returns an Announcer that holds announcements until flush sends
	// them all, in order, at the cost of one round trip.
	Batch() (held Announcer, flush func(context.Context) error)
}

// ClusterEmitter adapts the broker-backed emitter to Emitter.
func ClusterEmitter(e *emit.Emitter) Emitter { return clusterEmitter{e} }

type clusterEmitter struct{ *emit.Emitter }

func (c clusterEmitter) Batch() (Announcer, func(context.Context) error) { return c.Emitter.Batch() }

// nodeTimeout is how long a gateway may miss heartbeats before its sockets
// count as gone.
const nodeTimeout = 3 * command.HeartbeatInterval

// DefaultAgentGrace is how long an agent may be without any socket before
// going offline (UCKeFu/cskefu's 20 s).
const DefaultAgentGrace = 20 * time.Second

// DefaultVisitorGrace is how long a visitor may be without any socket before
// the chat ends: long enough for a page reload or a change of page.
const DefaultVisitorGrace = 60 * time.Second

// Options tune a Service.
type Options struct {
	AgentGrace   time.Duration // 0: DefaultAgentGrace
	VisitorGrace time.Duration // 0: DefaultVisitorGrace; a tenant's setting wins
	// Token is the leader's fencing token (0: no fencing, single binary).
	Token int64
	// Metrics is told about batches, assignments and queues; nil: nobody.
	Metrics Metrics
}

// Metrics observes routing.
type Metrics interface {
	Batch(commands int, d time.Duration)
	Assigned(wait time.Duration)
	QueueLength(orgi string, n int)
}

type noMetrics struct{}

func (noMetrics) Batch(int, time.Duration) {}
func (noMetrics) Assigned(time.Duration)   {}
func (noMetrics) QueueLength(string, int)  {}

// Service handles routing commands. Batches and timers run one at a time,
// under mu.
type Service struct {
	store Store
	emit  Emitter
	log   *slog.Logger
	now   func() time.Time
	opts  Options

	mu      sync.Mutex
	pres    *presence
	tenants map[string]*tenant // loaded pictures; dropped when a transaction fails
	dirty   map[string]bool    // tenants whose counters changed since the last flush
	// monitored are tenants whose monitor rows (agents, queue) may have
	// changed since the last flush; shown is what their monitors were last
	// sent, to send only what changed.
	monitored map[string]bool
	shown     map[string]*shownRows
	// nextScan is when the timers that need the database run next.
	nextScan time.Time
}

// New returns a Service.
func New(st Store, em Emitter, log *slog.Logger, opts Options) *Service {
	if opts.AgentGrace <= 0 {
		opts.AgentGrace = DefaultAgentGrace
	}
	if opts.VisitorGrace <= 0 {
		opts.VisitorGrace = DefaultVisitorGrace
	}
	if opts.Metrics == nil {
		opts.Metrics = noMetrics{}
	}
	return &Service{
		store: st, emit: em, log: log, opts: opts, pres: newPresence(),
		tenants: make(map[string]*tenant), dirty: make(map[string]bool),
		monitored: make(map[string]bool), shown: make(map[string]*shownRows),
		now: func() time.Time { return time.Now().UTC() },
	}
}

// Run drives the timers until ctx ends. Agents the store says are online
// are given until the gateways' heartbeats could have announced them, then
// the usual grace.
func (s *Service) Run(ctx context.Context) error {
	if err := s.expectAgentsBack(ctx); err != nil {
		return err
	}
	timers := time.NewTicker(time.Second)
	defer timers.Stop()
	counters := time.NewTicker(counterInterval)
	defer counters.Stop()
	samples := time.NewTicker(sampleInterval)
	defer samples.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case <-timers.C:
			err = s.tick(ctx)
		case <-counters.C:
			err = errors.Join(s.flushCounters(ctx), s.flushMonitors(ctx))
		case <-samples.C:
			err = s.sampleCounters(ctx)
		}
		if err != nil && ctx.Err() == nil {
			s.log.Error("routing: timers", "err", err)
		}
	}
}

// Handle is a command.Handler: the batch is decided and written as one
// transaction, and announced once that has committed.
func (s *Service) Handle(ctx context.Context, cs []command.Command) error {
	start := time.Now()
	defer func() { s.opts.Metrics.Batch(len(cs), time.Since(start)) }()
	return s.inTx(ctx, func(b *batch) error {
		if err := b.prefetch(cs); err != nil {
			return err
		}
		for _, c := range cs {
			if err := b.handle(c); err != nil {
				return fmt.Errorf("%s %s: %w", c.Kind, c.ID, err)
			}
		}
		return nil
	})
}

// inTx runs fn as one batch. If the transaction fails, what fn changed in
// memory is thrown away with it: presence goes back to its state before,
// and the tenants' pictures are reloaded on next use.
func (s *Service) inTx(ctx context.Context, fn func(*batch) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	saved := s.pres.clone()
	var b *batch
	err := s.store.Routing(ctx, s.opts.Token, func(tx *store.RoutingTx) error {
		b = s.newBatch(ctx, tx)
		if err := fn(b); err != nil {
			return err
		}
		return b.flush()
	})
	if err != nil {
		s.pres = saved
		clear(s.tenants)
		clear(s.shown) // the reloaded pictures are sent afresh
		if errors.Is(err, store.ErrFenced) {
			s.log.Warn("routing: a newer leader has written; this replica's writes are refused", "err", err)
		}
		return err
	}
	b.deliver()
	for orgi := range b.touched {
		s.dirty[orgi] = true
		s.monitored[orgi] = true
	}
	for orgi := range b.monitor {
		s.monitored[orgi] = true
	}
	return nil
}

// counterInterval paces the agents' live counters: a burst of changes in a
// tenant costs one `status` per interval, not one per change.
const counterInterval = 250 * time.Millisecond

// flushCounters sends each changed tenant's figures once.
func (s *Service) flushCounters(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for orgi := range s.dirty {
		if t := s.tenants[orgi]; t != nil {
			s.opts.Metrics.QueueLength(orgi, len(t.queue))
			c := t.counters(s.pres.online)
			c.CreateTime = protocol.Time(s.now())
			if err := s.emit.ToTenantAgents(ctx, orgi, protocol.EventStatus, c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	clear(s.dirty)
	return errors.Join(errs...)
}

// expectAgentsBack starts a grace period for every agent the store says is
// online: the gateways' heartbeats will announce those still connected.
func (s *Service) expectAgentsBack(ctx context.Context) error {
	// Rather than wait up to a heartbeat interval for presence.
	if err := s.emit.AskGatewaysToAnnounce(ctx); err != nil {
		s.log.Warn("routing: gateways not asked to announce", "err", err)
	}
	err := s.inTx(ctx, func(b *batch) error {
		states, err := b.rd.ListAllAgentStates(ctx)
		if err != nil {
			return err
		}
		deadline := b.now.Add(nodeTimeout + s.opts.AgentGrace)
		for _, st := range states {
			if st.Status != protocol.AgentOffline {
				s.pres.expectBack(st.AgentID, st.Orgi, deadline)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("routing: load agent states: %w", err)
	}
	return nil
}
