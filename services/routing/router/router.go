// Package router is the routing service: the single owner of agent status
// and of assignment. It consumes commands from gateways, decides, writes the
// outcome to the store and tells the affected parties through the broker.
//
// Every handler is idempotent (commands are delivered at least once): state
// transitions are conditional updates in the store, so a replayed command
// finds nothing left to do.
package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Store is what routing reads and writes.
type Store interface {
	GetTenant(ctx context.Context, id string) (store.Tenant, error)
	GetAgent(ctx context.Context, id string) (store.Agent, error)
	ListAgents(ctx context.Context, orgi string) ([]store.Agent, error)
	GetSession(ctx context.Context, id string) (store.Session, error)
	AssignSession(ctx context.Context, id, agentNo string, at time.Time) (bool, error)
	ListQueued(ctx context.Context, orgi string, limit int) ([]store.Session, error)
	CountInService(ctx context.Context, orgi string) (map[string]int, error)
	ListAgentStates(ctx context.Context, orgi string) ([]store.AgentState, error)
	ListAllAgentStates(ctx context.Context) ([]store.AgentState, error)
	GetAgentState(ctx context.Context, agentID string) (store.AgentState, error)
	SaveAgentState(ctx context.Context, st store.AgentState) error
	AppendAgentStatusLog(ctx context.Context, l store.AgentStatusLog) error
	RequeueAgentSessions(ctx context.Context, agentNo string) ([]store.Session, error)
	TenantAgentSkills(ctx context.Context, orgi string) (map[string][]string, error)
	ListSkills(ctx context.Context, orgi string) ([]store.SkillGroup, error)
	SessionConfigs(ctx context.Context, orgi string) ([]store.SessionConfig, error)
	LastAgents(ctx context.Context, appid, userid string, limit int) ([]string, error)
}

// Emitter reaches sockets anywhere in the cluster.
type Emitter interface {
	ToVisitor(ctx context.Context, appID, userID, event string, v any) error
	ToAgent(ctx context.Context, agentID, event string, v any) error
	ToTenantAgents(ctx context.Context, orgi, event string, v any) error
	AskGatewaysToAnnounce(ctx context.Context) error
}

// drainBatch bounds one pass over the queue.
const drainBatch = 200

// nodeTimeout is how long a gateway may miss heartbeats before its sockets
// count as gone.
const nodeTimeout = 3 * command.HeartbeatInterval

// DefaultAgentGrace is how long an agent may be without any socket before
// going offline (UCKeFu/cskefu's 20 s).
const DefaultAgentGrace = 20 * time.Second

// Service handles routing commands. Commands and timers are handled one at a
// time, under mu.
type Service struct {
	store Store
	emit  Emitter
	log   *slog.Logger
	now   func() time.Time
	grace time.Duration

	mu    sync.Mutex
	pres  *presence
	dirty map[string]bool // tenants whose counters changed since the last flush
}

// New returns a Service; agentGrace 0 means DefaultAgentGrace.
func New(st Store, em Emitter, log *slog.Logger, agentGrace time.Duration) *Service {
	if agentGrace <= 0 {
		agentGrace = DefaultAgentGrace
	}
	return &Service{
		store: st, emit: em, log: log, grace: agentGrace, pres: newPresence(), dirty: make(map[string]bool),
		now: func() time.Time { return time.Now().UTC() },
	}
}

// Run drives the timers (agents whose grace ended, gateways that went
// silent) until ctx ends. Agents the store says are online are given until
// the gateways' heartbeats could have announced them, then the usual grace.
func (s *Service) Run(ctx context.Context) error {
	if err := s.expectAgentsBack(ctx); err != nil {
		return err
	}
	timers := time.NewTicker(time.Second)
	defer timers.Stop()
	counters := time.NewTicker(counterInterval)
	defer counters.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case <-timers.C:
			err = s.tick(ctx)
		case <-counters.C:
			err = s.flushCounters(ctx)
		}
		if err != nil && ctx.Err() == nil {
			s.log.Error("routing: timers", "err", err)
		}
	}
}

// counterInterval paces the agents' live counters: a burst of changes in a
// tenant costs one `status` per interval, not one per change.
const counterInterval = 250 * time.Millisecond

// countersChanged notes that a tenant's figures changed. s.mu must be held.
func (s *Service) countersChanged(orgi string) { s.dirty[orgi] = true }

// flushCounters sends each changed tenant's figures once.
func (s *Service) flushCounters(ctx context.Context) error {
	s.mu.Lock()
	tenants := make([]string, 0, len(s.dirty))
	for orgi := range s.dirty {
		tenants = append(tenants, orgi)
	}
	clear(s.dirty)
	s.mu.Unlock()
	var errs []error
	for _, orgi := range tenants {
		if err := s.counters(ctx, orgi); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Service) expectAgentsBack(ctx context.Context) error {
	states, err := s.store.ListAllAgentStates(ctx)
	if err != nil {
		return fmt.Errorf("routing: load agent states: %w", err)
	}
	// Rather than wait up to a heartbeat interval for presence.
	if err := s.emit.AskGatewaysToAnnounce(ctx); err != nil {
		s.log.Warn("routing: gateways not asked to announce", "err", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	deadline := s.now().Add(nodeTimeout + s.grace)
	for _, st := range states {
		if st.Status != protocol.AgentOffline {
			s.pres.expectBack(st.AgentID, st.Orgi, deadline)
		}
	}
	return nil
}

// tick applies the timers that are due.
func (s *Service) tick(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.pres.expireNodes(now.Add(-nodeTimeout), now.Add(s.grace))
	var errs []error
	for agentID, orgi := range s.pres.due(now) {
		if err := s.offline(ctx, agentID, orgi); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Handle is a command.Handler.
func (s *Service) Handle(ctx context.Context, c command.Command) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	switch c.Kind {
	case command.AgentConnected:
		err = s.agentConnected(ctx, c)
	case command.AgentDisconnected:
		s.pres.remove(c.SocketID, s.now().Add(s.grace))
	case command.NodeAlive:
		now := s.now()
		for _, orgi := range s.pres.replaceNode(c.Node, c.Sockets, now, now.Add(s.grace)) {
			if err = s.drain(ctx, orgi); err != nil {
				break
			}
		}
	case command.VisitorRequest:
		err = s.visitorRequest(ctx, c.SessionID)
	case command.AgentStatus:
		err = s.agentStatus(ctx, c)
	case command.SessionEnd, command.ConfigChanged:
		// Capacity may have freed or grown: serve the queue.
		err = s.drain(ctx, c.Orgi)
	default:
		s.log.Warn("routing: unknown command dropped", "kind", c.Kind, "id", c.ID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", c.Kind, c.ID, err)
	}
	return nil
}

func (s *Service) visitorRequest(ctx context.Context, sessionID string) error {
	sess, err := s.store.GetSession(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if sess.Status != protocol.SessionInQueue {
		return nil
	}
	v, err := s.view(ctx, sess.Orgi)
	if err != nil {
		return err
	}
	c, ok, err := s.choose(ctx, v, sess)
	if err != nil {
		return err
	}
	if ok {
		if _, err := s.assign(ctx, sess, c.AgentID); err != nil {
			return err
		}
		s.countersChanged(sess.Orgi)
		return nil
	}
	queued, err := s.store.ListQueued(ctx, sess.Orgi, drainBatch)
	if err != nil {
		return err
	}
	pos, ok := v.positions(queued)[sess.ID]
	if !ok {
		pos = len(queued) + 1
	}
	if err := s.tellQueued(ctx, sess, pos, len(v.cands) == 0); err != nil {
		return err
	}
	s.countersChanged(sess.Orgi)
	return nil
}

func (s *Service) agentStatus(ctx context.Context, c command.Command) error {
	agent, err := s.store.GetAgent(ctx, c.AgentID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	prev, err := s.state(ctx, agent.ID, agent.Orgi)
	if err != nil {
		return err
	}
	next := prev
	if c.Status != "" {
		next.Status = c.Status
	}
	if c.Busy != nil {
		next.Busy = *c.Busy
	}
	if err := s.setState(ctx, prev, next); err != nil {
		return err
	}
	return s.drain(ctx, agent.Orgi)
}

// agentConnected records a socket. An agent back from offline is not ready
// until it says so; one that just came online may take queued visitors.
func (s *Service) agentConnected(ctx context.Context, c command.Command) error {
	if !s.pres.add(c.Node, c.SocketID, c.AgentID, c.Orgi) {
		return nil
	}
	prev, err := s.state(ctx, c.AgentID, c.Orgi)
	if err != nil {
		return err
	}
	if prev.Status == protocol.AgentOffline {
		next := prev
		next.Status = protocol.AgentNotReady
		return s.setState(ctx, prev, next)
	}
	return s.drain(ctx, c.Orgi)
}

// offline ends an agent's grace: status offline, and the visitors it served
// back to the queue with their original enqueue time, so ahead of everyone
// who came after them.
func (s *Service) offline(ctx context.Context, agentID, orgi string) error {
	prev, err := s.state(ctx, agentID, orgi)
	if err != nil {
		return err
	}
	next := prev
	next.Status, next.Busy = protocol.AgentOffline, false
	if err := s.setState(ctx, prev, next); err != nil {
		return err
	}
	moved, err := s.store.RequeueAgentSessions(ctx, agentID)
	if err != nil {
		return err
	}
	s.log.Info("routing: agent offline", "agent", agentID, "orgi", orgi, "requeued", len(moved))
	if len(moved) == 0 {
		return nil
	}
	ids := make([]string, len(moved))
	for i, sess := range moved {
		ids[i] = sess.ID
		// A socket of the agent may linger on a node that stopped
		// heartbeating; it must not keep showing these chats as its own.
		if err := s.emit.ToAgent(ctx, agentID, protocol.EventTransOut, sess.Summary()); err != nil {
			return err
		}
	}
	// Those not served at once learn they are waiting again, and where.
	return s.drain(ctx, orgi, ids...)
}

// state returns an agent's recorded state (not ready if none yet).
func (s *Service) state(ctx context.Context, agentID, orgi string) (store.AgentState, error) {
	st, err := s.store.GetAgentState(ctx, agentID)
	if errors.Is(err, store.ErrNotFound) {
		return store.AgentState{AgentID: agentID, Orgi: orgi, Status: protocol.AgentNotReady}, nil
	}
	return st, err
}

// setState saves next and, when status or busy changed, logs the spell
// that ended (for attendance figures).
func (s *Service) setState(ctx context.Context, prev, next store.AgentState) error {
	now := s.now()
	if prev.Status != next.Status || prev.Busy != next.Busy {
		if prev.StatusSince != nil {
			if err := s.store.AppendAgentStatusLog(ctx, store.AgentStatusLog{
				AgentID: prev.AgentID, Orgi: prev.Orgi, Status: prev.Status, Busy: prev.Busy, Since: *prev.StatusSince, Until: now,
			}); err != nil {
				return err
			}
		}
		next.StatusSince = &now
		s.countersChanged(next.Orgi)
	}
	next.UpdatedAt = now
	return s.store.SaveAgentState(ctx, next)
}

// drain assigns queued visitors, oldest first within each skill group,
// while anyone who may take them has capacity. When anyone was served,
// those still waiting hear their new positions; so do the sessions in
// mustTell in any case.
func (s *Service) drain(ctx context.Context, orgi string, mustTell ...string) error {
	queued, err := s.store.ListQueued(ctx, orgi, drainBatch)
	if err != nil {
		return err
	}
	v, err := s.view(ctx, orgi)
	if err != nil {
		return err
	}
	var waiting []store.Session
	for _, sess := range queued {
		c, ok, err := s.choose(ctx, v, sess)
		if err != nil {
			return err
		}
		if !ok {
			waiting = append(waiting, sess)
			continue
		}
		assigned, err := s.assign(ctx, sess, c.AgentID)
		if err != nil {
			return err
		}
		if assigned {
			v.assigned(c.AgentID, s.now())
		}
	}
	served := len(waiting) < len(queued)
	pos := v.positions(waiting)
	for _, sess := range waiting {
		if served || slices.Contains(mustTell, sess.ID) {
			if err := s.tellQueued(ctx, sess, pos[sess.ID], false); err != nil {
				return err
			}
		}
	}
	s.countersChanged(orgi)
	return nil
}

// assign hands sess to agentID if it is still queued, and tells both sides.
func (s *Service) assign(ctx context.Context, sess store.Session, agentID string) (bool, error) {
	now := s.now()
	ok, err := s.store.AssignSession(ctx, sess.ID, agentID, now)
	if err != nil || !ok {
		return false, err
	}
	agent, err := s.store.GetAgent(ctx, agentID)
	if err != nil {
		return true, err
	}
	switch st, err := s.store.GetAgentState(ctx, agentID); {
	case err == nil:
		st.LastAssigned, st.UpdatedAt = now, now
		if err := s.store.SaveAgentState(ctx, st); err != nil {
			return true, err
		}
	case !errors.Is(err, store.ErrNotFound):
		return true, err
	}
	sess.AgentNo, sess.Status, sess.ServiceTime = agentID, protocol.SessionInService, &now
	s.log.Info("routing: assigned", "session", sess.ID, "agent", agentID, "orgi", sess.Orgi)
	if err := s.emit.ToAgent(ctx, agentID, protocol.EventNew, sess.Summary()); err != nil {
		return true, err
	}
	return true, s.emit.ToVisitor(ctx, sess.AppID, sess.UserID, protocol.EventStatus, protocol.VisitorStatus{
		State:          protocol.StateAssigned,
		MessageType:    "message",
		Message:        strings.ReplaceAll(promptAssigned, "{agent}", agent.Nickname),
		AgentServiceID: sess.ID,
		AgentNo:        agentID,
		NickName:       agent.Nickname,
		CreateTime:     protocol.Time(now),
	})
}

// Prompt texts; configurable per tenant with the routing work that follows.
const (
	promptAssigned = "{agent} is now serving you."
	promptQueued   = "All agents are busy. You are number {num} in the queue."
	promptNoAgent  = "No agent is available right now. You are in the queue; you may also leave a message."
)

func (s *Service) tellQueued(ctx context.Context, sess store.Session, pos int, noAgent bool) error {
	state, text := protocol.StateQueued, promptQueued
	if noAgent {
		state, text = protocol.StateNoAgent, promptNoAgent
	}
	num := pos
	return s.emit.ToVisitor(ctx, sess.AppID, sess.UserID, protocol.EventStatus, protocol.VisitorStatus{
		State:          state,
		MessageType:    "message",
		Message:        strings.ReplaceAll(text, "{num}", fmt.Sprint(pos)),
		AgentServiceID: sess.ID,
		Num:            &num,
		CreateTime:     protocol.Time(s.now()),
	})
}

// counters tells the tenant's agents the live figures.
func (s *Service) counters(ctx context.Context, orgi string) error {
	states, err := s.store.ListAgentStates(ctx, orgi)
	if err != nil {
		return err
	}
	load, err := s.store.CountInService(ctx, orgi)
	if err != nil {
		return err
	}
	queued, err := s.store.ListQueued(ctx, orgi, drainBatch)
	if err != nil {
		return err
	}
	c := protocol.AgentCounters{InQueue: len(queued), CreateTime: protocol.Time(s.now())}
	for _, st := range states {
		if st.Status != protocol.AgentReady {
			continue
		}
		if st.Busy {
			c.Busy++
		} else {
			c.Agents++
		}
	}
	for _, n := range load {
		c.Users += n
	}
	return s.emit.ToTenantAgents(ctx, orgi, protocol.EventStatus, c)
}
