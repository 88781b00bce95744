package router

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// What the routing service tells supervisors: the mirrors of chats' events
// (audit_*), sent with the batch that caused them, and the rows only it
// knows — agents with presence and load, the queue with positions — sent
// coalesced, like the counters, with only what changed since last time.
// Each gateway filters them by its supervisors' scopes (gateway/monitor).

// sampleInterval is the period of the monitor's stored counter samples.
const sampleInterval = time.Minute

// event records a step of a conversation for its transcript, written with
// the batch.
func (b *batch) event(sess store.Session, kind, actor, target, detail string) {
	b.events = append(b.events, store.SessionEvent{
		SessionID: sess.ID, Orgi: sess.Orgi, Kind: kind, Actor: actor, Target: target, Detail: clipRunes(detail, 512), CreatedAt: b.now,
	})
}

func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// mirror queues a supervision event of one chat for after the commit.
func (b *batch) mirror(orgi, event, skill, agentNo, sessionID string, v any) {
	scope := protocol.Mirror{Skill: skill, AgentNo: agentNo, Session: sessionID}
	b.send(func(ctx context.Context, em Announcer) error { return em.ToMonitors(ctx, orgi, event, scope, v) })
}

// shownRows is what a tenant's monitors were last sent.
type shownRows struct {
	agents map[string]protocol.MonitorAgent
	queue  protocol.MonitorQueue
}

// agentRow is an agent as the monitor shows it.
func (s *Service) agentRow(a *agent) protocol.MonitorAgent {
	row := protocol.MonitorAgent{
		ID: a.rec.ID, Username: a.rec.Username, Nickname: a.rec.Nickname, Roles: strings.Split(a.rec.Roles, ","),
		Status: a.state.Status, Busy: a.state.Busy, Users: a.load, MaxUser: a.max, Skills: a.skills,
		Sockets: len(s.pres.byAgent[a.rec.ID]),
	}
	if row.Skills == nil {
		row.Skills = []string{}
	}
	if a.state.StatusSince != nil {
		row.Since = protocol.Time(*a.state.StatusSince)
	}
	if row.Status == protocol.AgentReady && row.Sockets == 0 && !s.pres.inGrace(a.rec.ID) {
		// Ready on record, but routing has not seen it since it took over.
		row.Status = protocol.AgentOffline
	}
	return row
}

// queueRows is the tenant's queue as the monitor shows it: how many wait
// per group and the first MaxQueueShown of each, with positions.
func (s *Service) queueRows(t *tenant, now time.Time) protocol.MonitorQueue {
	q := protocol.MonitorQueue{Groups: make(map[string]int), Queue: []protocol.QueueEntry{}}
	for _, sess := range t.queue {
		k := t.skillOf(sess)
		q.Groups[k]++
		n := q.Groups[k]
		if n > protocol.MaxQueueShown {
			continue
		}
		since := t.waitingSince(sess)
		q.Queue = append(q.Queue, protocol.QueueEntry{
			SessionSummary: sess.Summary(), Agent: sess.Agent, Num: n, Since: protocol.Time(since),
			Waiting: int(now.Sub(since) / time.Second),
		})
	}
	return q
}

// picture is the tenant's whole live picture, for a monitor that opens.
func (s *Service) picture(t *tenant, now time.Time) protocol.MonitorPicture {
	p := protocol.MonitorPicture{OK: true, Agents: make([]protocol.MonitorAgent, 0, len(t.list)), Queue: s.queueRows(t, now)}
	for _, a := range t.list {
		p.Agents = append(p.Agents, s.agentRow(a))
	}
	p.Counters = t.counters(s.pres.online)
	p.Counters.CreateTime = protocol.Time(now)
	return p
}

// flushMonitors sends each changed tenant's changed agent rows and, if it
// changed, its queue.
func (s *Service) flushMonitors(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	now := s.now()
	for orgi := range s.monitored {
		t := s.tenants[orgi]
		if t == nil {
			continue
		}
		shown := s.shown[orgi]
		if shown == nil {
			shown = &shownRows{agents: make(map[string]protocol.MonitorAgent)}
			s.shown[orgi] = shown
		}
		var changed []protocol.MonitorAgent
		for _, a := range t.list {
			row := s.agentRow(a)
			if prev, ok := shown.agents[row.ID]; !ok || !sameAgentRow(prev, row) {
				shown.agents[row.ID] = row
				changed = append(changed, row)
			}
		}
		if len(changed) > 0 {
			errs = append(errs, s.emit.ToMonitors(ctx, orgi, protocol.EventMonitorAgents, protocol.Mirror{}, protocol.MonitorAgents{Agents: changed}))
		}
		if q := s.queueRows(t, now); !sameQueue(shown.queue, q) {
			shown.queue = q
			errs = append(errs, s.emit.ToMonitors(ctx, orgi, protocol.EventMonitorQueue, protocol.Mirror{}, q))
		}
	}
	clear(s.monitored)
	return errors.Join(errs...)
}

func sameAgentRow(a, b protocol.MonitorAgent) bool {
	return a.Status == b.Status && a.Busy == b.Busy && a.Users == b.Users && a.MaxUser == b.MaxUser &&
		a.Since == b.Since && a.Sockets == b.Sockets && a.Nickname == b.Nickname &&
		slices.Equal(a.Skills, b.Skills) && slices.Equal(a.Roles, b.Roles)
}

// sameQueue compares who waits where; waiting times grow by themselves on
// the monitors, from `since`.
func sameQueue(a, b protocol.MonitorQueue) bool {
	if len(a.Queue) != len(b.Queue) || len(a.Groups) != len(b.Groups) {
		return false
	}
	for k, n := range a.Groups {
		if b.Groups[k] != n {
			return false
		}
	}
	for i := range a.Queue {
		x, y := a.Queue[i], b.Queue[i]
		if x.AgentServiceID != y.AgentServiceID || x.Num != y.Num || x.Skill != y.Skill || x.Agent != y.Agent || x.Since != y.Since {
			return false
		}
	}
	return true
}

// sampleCounters stores each loaded tenant's counters for this minute: the
// monitor's last hour and the analytics' staffing series.
func (s *Service) sampleCounters(ctx context.Context) error {
	return s.inTx(ctx, func(b *batch) error {
		samples := make([]store.MonitorSample, 0, len(s.tenants))
		for orgi, t := range s.tenants {
			c := t.counters(s.pres.online)
			samples = append(samples, store.MonitorSample{Orgi: orgi, At: b.now, Agents: c.Agents, Busy: c.Busy, Users: c.Users, InQueue: c.InQueue})
		}
		return b.rd.SaveMonitorSamples(b.ctx, samples)
	})
}
