package router

import (
	"context"
	"errors"
	"slices"

	"time"

	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/prompt"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// batch is the work of one transaction: the decisions of a batch of
// commands (or of one timer pass), the writes they need, and what to tell
// whom once they have committed.
type batch struct {
	s   *Service
	ctx context.Context
	tx  *store.RoutingTx
	rd  *store.Store // reads inside tx
	now time.Time

	sessions map[string]store.Session // prefetched for the batch's requests
	assigns  []pendingAssign
	states   map[string]store.AgentState // agent → state to save
	logs     []store.AgentStatusLog
	out      []func(context.Context, Announcer) error // announcements, in order
	touched  map[string]bool                          // tenants whose queue or counters changed
	monitor  map[string]bool                          // tenants whose monitor rows only may have changed
	events   []store.SessionEvent                     // for the conversations' transcripts
	pool     []candidate                              // choose's scratch space
	// by is who asked for the command being handled (an agent id), so that
	// an agent whose status someone else changed learns by whom.
	by string
	// assigner is the supervisor assigning by hand right now ("" routing).
	assigner string
}

type pendingAssign struct {
	t       *tenant
	sess    store.Session
	agentID string
	since   time.Time // when the visitor began waiting
	by      string    // a supervisor who assigned it by hand; "" routing
}

func (s *Service) newBatch(ctx context.Context, tx *store.RoutingTx) *batch {
	return &batch{
		s: s, ctx: ctx, tx: tx, rd: tx.Store(), now: s.now(),
		states: make(map[string]store.AgentState), touched: make(map[string]bool), monitor: make(map[string]bool),
	}
}

// tenant returns orgi's picture, loading it on first use.
func (b *batch) tenant(orgi string) (*tenant, error) {
	if t := b.s.tenants[orgi]; t != nil {
		return t, nil
	}
	t, err := loadTenant(b.ctx, b.rd, orgi)
	if err != nil {
		return nil, err
	}
	b.s.tenants[orgi] = t
	b.touched[orgi] = true
	return t, nil
}

// reload refreshes orgi's picture (settings or agents changed) in place.
// Only the records are read again: the queue, who serves what and the
// agents' states are the leader's own decisions, and this batch's are not
// written until flush, so the database would hand back older ones (a ready
// agent reloaded as not ready is never routed to).
func (b *batch) reload(orgi string) (*tenant, error) {
	old := b.s.tenants[orgi]
	if old == nil {
		return b.tenant(orgi)
	}
	fresh, err := loadTenant(b.ctx, b.rd, orgi)
	if err != nil {
		return nil, err
	}
	fresh.keepDecisions(old)
	*old = *fresh // the batch's pending assignments hold this pointer
	b.touched[orgi] = true
	return old, nil
}

// prefetch reads the sessions the batch's requests name, in one query.
func (b *batch) prefetch(cs []command.Command) error {
	var ids []string
	for _, c := range cs {
		if c.Kind == command.VisitorRequest {
			ids = append(ids, c.SessionID)
		}
	}
	var err error
	b.sessions, err = b.tx.Sessions(ids)
	return err
}

func (b *batch) handle(c command.Command) error {
	b.by = c.By
	switch c.Kind {
	case command.AgentConnected:
		return b.agentConnected(c)
	case command.AgentDisconnected:
		b.s.pres.remove(c.SocketID, b.now.Add(b.s.opts.AgentGrace))
		b.monitor[c.Orgi] = true // its socket count
		return nil
	case command.NodeAlive:
		for _, orgi := range b.s.pres.replaceNode(c.Node, c.Sockets, b.now, b.now.Add(b.s.opts.AgentGrace)) {
			if err := b.drain(orgi); err != nil {
				return err
			}
		}
		return nil
	case command.VisitorRequest:
		return b.visitorRequest(b.sessions[c.SessionID])
	case command.VisitorJoined:
		return b.visitorJoined(c)
	case command.VisitorLeft:
		return b.visitorLeft(c)
	case command.AgentStatus:
		return b.agentStatus(c)
	case command.SessionEnd:
		return b.sessionEnded(c)
	case command.ConfigChanged:
		if _, err := b.reload(c.Orgi); err != nil {
			return err
		}
		return b.drain(c.Orgi) // capacity may have grown
	case command.Transfer:
		return b.transfer(c)
	case command.MonitorSnapshot, command.TakeOver, command.QueueAssign, command.QueueMove, command.QueueReroute, command.AgentOffline:
		return b.supervise(c)
	}
	b.s.log.Warn("routing: unknown command dropped", "kind", c.Kind, "id", c.ID)
	return nil
}

// visitorRequest queues a new session and serves the queue: a newcomer
// never overtakes those already waiting for the same agents.
func (b *batch) visitorRequest(sess store.Session) error {
	if sess.ID == "" || sess.Status != protocol.SessionInQueue {
		return nil // unknown, or already served or ended: a repeat
	}
	t, err := b.tenant(sess.Orgi)
	if err != nil {
		return err
	}
	if _, served := t.served[sess.ID]; served {
		return nil
	}
	if t.queued(sess.ID) >= 0 {
		// A repeat, or the visitor reconnected and asks where it is.
		delete(t.told, sess.ID)
		b.touched[t.orgi] = true
		return nil
	}
	if !t.open(b.now, sess.Skill) {
		return b.end(t, sess.ID, protocol.EndBySystem, prompt.OffHours, protocol.StateOffHours)
	}
	t.enqueue(sess, b.now)
	b.event(sess, protocol.SessionQueued, "", sess.Skill, "")
	b.touched[t.orgi] = true
	return b.drain(t.orgi)
}

// agentConnected records a socket. An agent back from offline is not ready
// until it says so; one that just came online may take queued visitors.
func (b *batch) agentConnected(c command.Command) error {
	added, came := b.s.pres.add(c.Node, c.SocketID, c.AgentID, c.Orgi)
	if !added {
		return nil
	}
	t, err := b.tenant(c.Orgi)
	if err != nil {
		return err
	}
	a, err := b.agent(t, c.AgentID)
	if err != nil || a == nil {
		return err
	}
	// Counters go out on change only; a new tab has none yet.
	b.touched[t.orgi] = true
	if !came {
		return nil
	}
	b.presence(t.orgi, c.AgentID, true)
	switch {
	case a.state.Status == protocol.AgentOffline:
		next := a.state
		next.Status = protocol.AgentNotReady
		b.setState(a, next)
		return nil
	case a.state.StatusSince == nil:
		// A new agent's state was never stored: store it as it is, so that
		// readers of the stored states (the IM contacts) see it online too.
		b.setState(a, a.state)
	}
	return b.drain(t.orgi)
}

// agent returns the tenant's agent, reloading the picture once for an agent
// created since it was loaded; nil if there is no such agent.
func (b *batch) agent(t *tenant, agentID string) (*agent, error) {
	if a := t.agents[agentID]; a != nil {
		return a, nil
	}
	t, err := b.reload(t.orgi)
	if err != nil {
		return nil, err
	}
	return t.agents[agentID], nil
}

func (b *batch) agentStatus(c command.Command) error {
	t, err := b.tenant(c.Orgi)
	if err != nil {
		return err
	}
	a, err := b.agent(t, c.AgentID)
	if err != nil || a == nil {
		return err
	}
	next := a.state
	if c.Status != "" {
		next.Status = c.Status
	}
	if c.Busy != nil {
		next.Busy = *c.Busy
	}
	b.setState(a, next)
	return b.drain(t.orgi)
}

// setState records an agent's new state and, when status or busy changed,
// logs the spell that ended (for attendance figures).
func (b *batch) setState(a *agent, next store.AgentState) {
	prev := a.state
	if prev.Status != next.Status || prev.Busy != next.Busy {
		if prev.StatusSince != nil {
			b.logs = append(b.logs, store.AgentStatusLog{
				AgentID: prev.AgentID, Orgi: prev.Orgi, Status: prev.Status, Busy: prev.Busy, Since: *prev.StatusSince, Until: b.now,
			})
		}
		now := b.now
		next.StatusSince = &now
		b.touched[next.Orgi] = true
		change := protocol.AgentStatusChange{Status: next.Status, Busy: next.Busy}
		if b.by != next.AgentID {
			change.By = b.by
			if t := b.s.tenants[next.Orgi]; t != nil && t.agents[b.by] != nil {
				change.ByName = t.agents[b.by].rec.Nickname
			}
		}
		b.send(func(ctx context.Context, em Announcer) error {
			return em.ToAgent(ctx, next.AgentID, protocol.EventAgentStatus, change)
		})
	}
	a.state = next
	b.states[next.AgentID] = next
}

// sessionEnded forgets a session a gateway ended and serves the queue.
func (b *batch) sessionEnded(c command.Command) error {
	t, err := b.tenant(c.Orgi)
	if err != nil {
		return err
	}
	t.release(c.SessionID)
	t.dequeue(c.SessionID)
	delete(t.visitorGone, c.SessionID)
	b.touched[t.orgi] = true
	return b.drain(t.orgi)
}

// offline ends an agent's grace: status offline, and the visitors it served
// back to the queue with their original enqueue time, so ahead of everyone
// who came after them.
func (b *batch) offline(agentID, orgi string) error {
	t, err := b.tenant(orgi)
	if err != nil {
		return err
	}
	b.presence(orgi, agentID, false)
	return b.setOffline(t, agentID, "agent gone")
}

// setOffline makes an agent offline and puts its visitors back in the
// queue; why goes into their transcripts.
func (b *batch) setOffline(t *tenant, agentID, why string) error {
	if a := t.agents[agentID]; a != nil {
		next := a.state
		next.Status, next.Busy = protocol.AgentOffline, false
		b.setState(a, next)
	}
	moved, err := b.tx.RequeueAgentSessions(agentID)
	if err != nil {
		return err
	}
	b.s.log.Info("routing: agent offline", "agent", agentID, "orgi", t.orgi, "requeued", len(moved), "why", why)
	for _, sess := range moved {
		t.release(sess.ID)
		t.enqueue(sess, b.now)
		b.event(sess, protocol.SessionRequeued, b.by, agentID, why)
		// A socket of the agent may linger on a node that stopped
		// heartbeating; it must not keep showing these chats as its own.
		b.send(func(ctx context.Context, em Announcer) error {
			return em.ToAgent(ctx, agentID, protocol.EventTransOut, sess.Summary())
		})
		b.mirror(t.orgi, protocol.EventAuditTransOut, sess.Skill, agentID, sess.ID, sess.Summary())
	}
	b.touched[t.orgi] = true
	return b.drain(t.orgi)
}

// drain assigns queued visitors, oldest first, while anyone who may take
// them has room. One pass pulls at most initmaxuser visitors per agent.
func (b *batch) drain(orgi string) error {
	t, err := b.tenant(orgi)
	if err != nil {
		return err
	}
	free := b.freeCapacity(t)
	pulled := make(map[string]int)
	for i := 0; i < len(t.queue) && free > 0; {
		sess := t.queue[i]
		agentID, ok, err := b.choose(t, sess, pulled, t.avoid[sess.ID])
		if err != nil {
			return err
		}
		if !ok {
			i++
			continue
		}
		t.queue = slices.Delete(t.queue, i, i+1)
		b.assign(t, sess, agentID)
		t.forget(sess.ID)
		pulled[agentID]++
		free--
	}
	return nil
}

// freeCapacity is the room left among agents who may take visitors now.
func (b *batch) freeCapacity(t *tenant) int {
	n := 0
	for _, a := range t.list {
		if b.takesVisitors(a) {
			n += max(0, a.max-a.load)
		}
	}
	return n
}

// takesVisitors: role agent, enabled, ready, not busy, with a live socket.
func (b *batch) takesVisitors(a *agent) bool {
	return a.routable && a.state.Status == protocol.AgentReady && !a.state.Busy && b.s.pres.online(a.rec.ID)
}

// assign gives sess to agentID in the picture; the write and the
// announcements follow in flush.
func (b *batch) assign(t *tenant, sess store.Session, agentID string) {
	t.serve(sess.ID, agentID)
	if a := t.agents[agentID]; a != nil {
		next := a.state
		next.LastAssigned = b.now
		b.setState(a, next)
	}
	b.assigns = append(b.assigns, pendingAssign{t: t, sess: sess, agentID: agentID, since: t.waitingSince(sess), by: b.assigner})
	b.touched[t.orgi] = true
}

// presence tells the tenant's agents' IM that an agent came or went.
func (b *batch) presence(orgi, agentID string, online bool) {
	p := protocol.IMPresence{UserID: agentID, Online: online}
	b.send(func(ctx context.Context, em Announcer) error {
		return em.ToRoom(ctx, protocol.NamespaceIM, protocol.TenantIMRoom(orgi), protocol.EventStatus, p, "")
	})
}

// send queues an announcement for after the commit.
func (b *batch) send(f func(context.Context, Announcer) error) { b.out = append(b.out, f) }

// flush writes the batch: assignments (those whose visitor left meanwhile
// are undone in memory), agent states, status spells; and works out what
// each waiting visitor must now hear.
func (b *batch) flush() error {
	if len(b.assigns) > 0 {
		as := make([]store.Assignment, len(b.assigns))
		for i, p := range b.assigns {
			as[i] = store.Assignment{SessionID: p.sess.ID, AgentNo: p.agentID}
		}
		done, err := b.tx.AssignSessions(as, b.now)
		if err != nil {
			return err
		}
		for _, p := range b.assigns {
			if !done[p.sess.ID] {
				p.t.release(p.sess.ID)
				continue
			}
			b.s.opts.Metrics.Assigned(b.now.Sub(p.since))
			b.event(p.sess, protocol.SessionAssigned, p.by, p.agentID, "")
			b.announceAssigned(p.t, p.sess, p.agentID, prompt.Assigned, "")
			if p.sess.Agent != "" {
				if err := b.requestedAgentServed(p.t, p.sess, p.agentID); err != nil {
					return err
				}
			}
		}
	}
	states := make([]store.AgentState, 0, len(b.states))
	for _, st := range b.states {
		states = append(states, st)
	}
	if err := b.tx.SaveAgentStates(states); err != nil {
		return err
	}
	if err := b.tx.AppendAgentStatusLogs(b.logs); err != nil {
		return err
	}
	if err := b.rd.AppendSessionEvents(b.ctx, b.events...); err != nil {
		return err
	}
	for orgi := range b.touched {
		if t := b.s.tenants[orgi]; t != nil {
			b.tellPositions(t)
		}
	}
	return nil
}

// requestedAgentServed records how the invitation behind sess ended, and
// tells the agent the visitor asked for (by invite or link) when routing
// gave the chat to someone else: it must not vanish silently.
func (b *batch) requestedAgentServed(t *tenant, sess store.Session, agentID string) error {
	rec, invited, err := b.tx.ResolveInvite(sess.ID, agentID)
	if err != nil {
		return err
	}
	if agentID == sess.Agent {
		return nil
	}
	res := protocol.InviteResult{AppID: sess.AppID, UserID: sess.UserID, Status: protocol.InviteRedirected, AgentServiceID: sess.ID, ServedBy: agentID}
	if invited {
		res.InviteID = rec.ID
	}
	if a := t.agents[agentID]; a != nil {
		res.ServedByName = a.rec.Nickname
	}
	b.send(func(ctx context.Context, em Announcer) error {
		return em.ToAgent(ctx, sess.Agent, protocol.EventInviteResult, res)
	})
	return nil
}

// announceAssigned tells the agent (`new`) and the visitor (`status`).
func (b *batch) announceAssigned(t *tenant, sess store.Session, agentID, promptKey, from string) {
	nick := agentID
	if a := t.agents[agentID]; a != nil {
		nick = a.rec.Nickname
	}
	at := b.now
	sess.AgentNo, sess.Status, sess.ServiceTime = agentID, protocol.SessionInService, &at
	summary := sess.Summary()
	summary.TransFrom = from
	st := protocol.VisitorStatus{
		State: protocol.StateAssigned, MessageType: "message", Message: t.prompts().Text(promptKey, nick, 0),
		AgentServiceID: sess.ID, AgentNo: agentID, NickName: nick, CreateTime: protocol.Time(at),
	}
	b.send(func(ctx context.Context, em Announcer) error {
		b.s.log.Info("routing: assigned", "session", sess.ID, "agent", agentID, "orgi", sess.Orgi) // committed by now
		return errors.Join(
			em.ToAgent(ctx, agentID, protocol.EventNew, summary),
			em.ToVisitor(ctx, sess.AppID, sess.UserID, protocol.EventStatus, st),
		)
	})
	row := protocol.MonitorChat{SessionSummary: summary, ServiceTime: protocol.Time(at), AgentName: nick, LastSeq: sess.LastSeq, Rating: sess.SatisLevel}
	b.mirror(t.orgi, protocol.EventAuditNew, sess.Skill, agentID, sess.ID, row)
}

// tellPositions tells each waiting visitor whose position changed where it
// now is (FIFO per skill group), and whether anyone could serve it at all.
func (b *batch) tellPositions(t *tenant) {
	pos := make(map[string]int)
	nobody := make(map[string]bool)
	texts := t.prompts()
	for _, sess := range t.queue {
		k := t.skillOf(sess)
		if _, known := nobody[k]; !known {
			nobody[k] = !b.anyoneServes(t, k)
		}
		pos[k]++
		n := pos[k]
		if t.told[sess.ID] == n {
			continue
		}
		t.told[sess.ID] = n
		state, key := protocol.StateQueued, prompt.Queued
		if nobody[k] {
			state, key = protocol.StateNoAgent, prompt.NoAgent
		}
		st := protocol.VisitorStatus{
			State: state, MessageType: "message", Message: texts.Text(key, "", n),
			AgentServiceID: sess.ID, Num: &n, CreateTime: protocol.Time(b.now),
		}
		b.send(func(ctx context.Context, em Announcer) error {
			return em.ToVisitor(ctx, sess.AppID, sess.UserID, protocol.EventStatus, st)
		})
	}
}

// anyoneServes reports whether any agent who could take skill's visitors is
// ready (full or busy included: then the visitor is merely waiting).
func (b *batch) anyoneServes(t *tenant, skill string) bool {
	for _, a := range t.list {
		// An agent in its grace (a reload, or a new leader still waiting
		// for the gateways' heartbeats) may be back any moment.
		if a.routable && a.state.Status == protocol.AgentReady && (b.s.pres.online(a.rec.ID) || b.s.pres.inGrace(a.rec.ID)) &&
			(skill == "" || slices.Contains(a.skills, skill)) {
			return true
		}
	}
	return false
}

// deliver sends the announcements of a committed batch, in one round trip.
// They go out even if the service is stopping: the decisions are made. A
// failure is logged, not retried: the decision stands, and clients catch up
// when they reconnect or reload (the state is in MySQL).
func (b *batch) deliver() {
	if len(b.out) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), deliverTimeout)
	defer cancel()
	held, flush := b.s.emit.Batch()
	for _, f := range b.out {
		if err := f(ctx, held); err != nil {
			b.s.log.Warn("routing: announcement not made", "err", err)
		}
	}
	if err := flush(ctx); err != nil {
		b.s.log.Warn("routing: announcements not delivered", "count", len(b.out), "err", err)
	}
}

// deliverTimeout bounds the publishing of one batch's announcements.
const deliverTimeout = 10 * time.Second
