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
	SaveAgentState(ctx context.Context, st store.AgentState) error
}

// Emitter reaches sockets anywhere in the cluster.
type Emitter interface {
	ToVisitor(ctx context.Context, appID, userID, event string, v any) error
	ToAgent(ctx context.Context, agentID, event string, v any) error
	ToTenantAgents(ctx context.Context, orgi, event string, v any) error
}

// drainBatch bounds one pass over the queue.
const drainBatch = 200

// Service handles routing commands.
type Service struct {
	store Store
	emit  Emitter
	log   *slog.Logger
	now   func() time.Time
}

// New returns a Service.
func New(st Store, em Emitter, log *slog.Logger) *Service {
	return &Service{store: st, emit: em, log: log, now: func() time.Time { return time.Now().UTC() }}
}

// Handle is a command.Handler.
func (s *Service) Handle(ctx context.Context, c command.Command) error {
	var err error
	switch c.Kind {
	case command.VisitorRequest:
		err = s.visitorRequest(ctx, c.SessionID)
	case command.AgentStatus:
		err = s.agentStatus(ctx, c)
	case command.SessionEnd:
		// The gateway has ended the session; capacity freed, so serve the queue.
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
	cands, err := s.candidates(ctx, sess.Orgi)
	if err != nil {
		return err
	}
	if c, ok := pick(cands); ok {
		if _, err := s.assign(ctx, sess, c.AgentID); err != nil {
			return err
		}
		return s.counters(ctx, sess.Orgi)
	}
	queued, err := s.store.ListQueued(ctx, sess.Orgi, drainBatch)
	if err != nil {
		return err
	}
	pos := slices.IndexFunc(queued, func(q store.Session) bool { return q.ID == sess.ID }) + 1
	if pos == 0 {
		pos = len(queued) + 1
	}
	if err := s.tellQueued(ctx, sess, pos, len(cands) == 0); err != nil {
		return err
	}
	return s.counters(ctx, sess.Orgi)
}

func (s *Service) agentStatus(ctx context.Context, c command.Command) error {
	agent, err := s.store.GetAgent(ctx, c.AgentID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	st := store.AgentState{AgentID: agent.ID, Orgi: agent.Orgi, Status: protocol.AgentNotReady}
	states, err := s.store.ListAgentStates(ctx, agent.Orgi)
	if err != nil {
		return err
	}
	if i := slices.IndexFunc(states, func(x store.AgentState) bool { return x.AgentID == agent.ID }); i >= 0 {
		st = states[i]
	}
	if c.Status != "" {
		st.Status = c.Status
	}
	if c.Busy != nil {
		st.Busy = *c.Busy
	}
	st.UpdatedAt = s.now()
	if err := s.store.SaveAgentState(ctx, st); err != nil {
		return err
	}
	return s.drain(ctx, agent.Orgi)
}

// drain assigns queued visitors, oldest first, while anyone has capacity.
func (s *Service) drain(ctx context.Context, orgi string) error {
	queued, err := s.store.ListQueued(ctx, orgi, drainBatch)
	if err != nil {
		return err
	}
	cands, err := s.candidates(ctx, orgi)
	if err != nil {
		return err
	}
	served := 0
	for _, sess := range queued {
		c, ok := pick(cands)
		if !ok {
			break
		}
		assigned, err := s.assign(ctx, sess, c.AgentID)
		if err != nil {
			return err
		}
		if assigned {
			served++
			for i := range cands {
				if cands[i].AgentID == c.AgentID {
					cands[i].Load++
					cands[i].LastAssigned = s.now()
				}
			}
		}
	}
	// Everyone still waiting moved up by `served` places.
	if served > 0 {
		for i, sess := range queued[served:] {
			if err := s.tellQueued(ctx, sess, i+1, false); err != nil {
				return err
			}
		}
	}
	return s.counters(ctx, orgi)
}

// candidates are the tenant's routable agents: role agent, enabled, ready and
// not busy, with their load and capacity.
func (s *Service) candidates(ctx context.Context, orgi string) ([]candidate, error) {
	tenant, err := s.store.GetTenant(ctx, orgi)
	if err != nil {
		return nil, err
	}
	agents, err := s.store.ListAgents(ctx, orgi)
	if err != nil {
		return nil, err
	}
	states, err := s.store.ListAgentStates(ctx, orgi)
	if err != nil {
		return nil, err
	}
	load, err := s.store.CountInService(ctx, orgi)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]store.Agent, len(agents))
	for _, a := range agents {
		byID[a.ID] = a
	}
	var out []candidate
	for _, st := range states {
		a, ok := byID[st.AgentID]
		if !ok || a.Disabled || !hasRole(a.Roles, protocol.RoleAgent) {
			continue
		}
		if st.Status != protocol.AgentReady || st.Busy {
			continue
		}
		out = append(out, candidate{
			AgentID:      a.ID,
			Load:         load[a.ID],
			Max:          capacity(a.MaxUser, tenant.MaxUser),
			LastAssigned: st.LastAssigned,
		})
	}
	return out, nil
}

func hasRole(roles, role string) bool {
	return slices.Contains(strings.Split(roles, ","), role)
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
	states, err := s.store.ListAgentStates(ctx, sess.Orgi)
	if err != nil {
		return true, err
	}
	if i := slices.IndexFunc(states, func(x store.AgentState) bool { return x.AgentID == agentID }); i >= 0 {
		st := states[i]
		st.LastAssigned = now
		st.UpdatedAt = now
		if err := s.store.SaveAgentState(ctx, st); err != nil {
			return true, err
		}
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
