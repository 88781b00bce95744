package router

import (
	"context"
	"slices"

	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/protocol"
)

// supervise carries out a supervisor's command and answers the gateway
// that asked. Who may ask, and on which chats and agents, was checked
// there (rights and scope); what only routing knows — presence, capacity,
// where a chat is now — is checked here.
func (b *batch) supervise(c command.Command) error {
	var res any
	var err error
	switch c.Kind {
	case command.MonitorSnapshot:
		var t *tenant
		if t, err = b.tenant(c.Orgi); err == nil {
			res = b.s.picture(t, b.now)
		}
	case command.TakeOver:
		res, err = b.takeOver(c)
	case command.QueueAssign:
		res, err = b.queueAssign(c)
	case command.QueueMove, command.QueueReroute:
		res, err = b.queueRebind(c)
	case command.AgentOffline:
		res, err = b.forceOffline(c)
	}
	if err != nil {
		return err
	}
	b.answer(c, res)
	return nil
}

// answer sends the outcome of c to the gateway waiting for it, if any.
func (b *batch) answer(c command.Command, res any) {
	if c.ReplyTo != "" {
		b.send(func(ctx context.Context, em Announcer) error { return em.Reply(ctx, c.ReplyTo, res) })
	}
}

// served finds the chat c names in service: its tenant and agent. A
// refusal (not in service) comes back as the result to answer.
func (b *batch) served(c command.Command) (*tenant, string, *protocol.TransferResult, error) {
	t, err := b.tenant(c.Orgi)
	if err != nil {
		return nil, "", nil, err
	}
	from, ok := t.served[c.SessionID]
	if !ok {
		no := refuse(protocol.CodeConflict, "the chat is not in service")
		return t, "", &no, nil
	}
	return t, from, nil, nil
}

// waiting finds the visitor c names in the queue: its tenant and place. A
// refusal (no longer waiting) comes back as the result to answer.
func (b *batch) waiting(c command.Command) (*tenant, int, *protocol.TransferResult, error) {
	t, err := b.tenant(c.Orgi)
	if err != nil {
		return nil, 0, nil, err
	}
	i := t.queued(c.SessionID)
	if i < 0 {
		no := refuse(protocol.CodeConflict, "the visitor is no longer waiting")
		return t, 0, &no, nil
	}
	return t, i, nil, nil
}

// refused is a lookup's outcome as the command's result.
func refused(no *protocol.TransferResult, err error) (protocol.TransferResult, error) {
	if no == nil {
		return protocol.TransferResult{}, err
	}
	return *no, err
}

// takeOver moves a chat in service to the supervisor who asks (强接), at
// once and over its capacity: the agent gets `transout`, the visitor
// `status` assigned, and the chat goes on with no gap (same session, same
// seqs).
func (b *batch) takeOver(c command.Command) (protocol.TransferResult, error) {
	t, from, no, err := b.served(c)
	if err != nil || no != nil {
		return refused(no, err)
	}
	if from == c.By {
		return refuse(protocol.CodeConflict, "the chat is yours already"), nil
	}
	a, err := b.agent(t, c.By)
	if err != nil {
		return protocol.TransferResult{}, err
	}
	if a == nil || a.rec.Disabled {
		return refuse(protocol.CodeNotFound, "no such agent"), nil
	}
	if !b.s.pres.online(c.By) {
		return refuse(protocol.CodeConflict, "you have no open workbench to take the chat to"), nil
	}
	rows, err := b.tx.Sessions([]string{c.SessionID})
	if err != nil {
		return protocol.TransferResult{}, err
	}
	return b.moveTo(t, rows[c.SessionID], from, c.By, c.Memo, protocol.SessionTakenOver)
}

// queueAssign hands a waiting visitor to an agent by hand: to the
// supervisor itself (take it: over capacity if need be), or to another
// agent who is online and, unless Override, ready, not busy and not full.
func (b *batch) queueAssign(c command.Command) (protocol.TransferResult, error) {
	t, i, no, err := b.waiting(c)
	if err != nil || no != nil {
		return refused(no, err)
	}
	a, err := b.agent(t, c.AgentID)
	if err != nil {
		return protocol.TransferResult{}, err
	}
	self := c.AgentID == c.By
	switch {
	case a == nil || a.rec.Disabled || (!self && !a.routable):
		return refuse(protocol.CodeNotFound, "no such agent"), nil
	case !b.s.pres.online(c.AgentID):
		return refuse(protocol.CodeConflict, "the agent is offline"), nil
	case !self && !c.Override && (a.state.Busy || a.state.Status != protocol.AgentReady):
		return refuse(protocol.CodeConflict, "the agent is not taking chats"), nil
	case !self && !c.Override && a.load >= a.max:
		return refuse(protocol.CodeConflict, "the agent has no room (%d of %d chats)", a.load, a.max), nil
	}
	sess := t.queue[i]
	t.queue = slices.Delete(t.queue, i, i+1)
	b.assigner = c.By
	b.assign(t, sess, c.AgentID)
	b.assigner = ""
	t.forget(sess.ID)
	summary := sess.Summary()
	summary.AgentNo, summary.Status = c.AgentID, protocol.SessionInService
	return protocol.TransferResult{OK: true, Session: &summary}, nil
}

// queueRebind moves a waiting visitor to another skill group, or drops its
// group and requested agent, and routes it again. It keeps its enqueue
// time, so its place in the new order is by arrival.
func (b *batch) queueRebind(c command.Command) (protocol.TransferResult, error) {
	t, i, no, err := b.waiting(c)
	if err != nil || no != nil {
		return refused(no, err)
	}
	skill, kind := "", protocol.SessionRerouted
	if c.Kind == command.QueueMove {
		if _, ok := t.groups[c.Skill]; !ok {
			return refuse(protocol.CodeNotFound, "no such skill group"), nil
		}
		skill, kind = c.Skill, protocol.SessionMoved
	}
	ok, err := b.tx.RebindQueued(c.SessionID, skill, "")
	if err != nil {
		return protocol.TransferResult{}, err
	}
	if !ok {
		return refuse(protocol.CodeConflict, "the visitor is no longer waiting"), nil
	}
	t.queue[i].Skill, t.queue[i].Agent = skill, ""
	delete(t.avoid, c.SessionID)
	delete(t.told, c.SessionID) // its position is in another line now
	sess := t.queue[i]
	b.event(sess, kind, c.By, skill, "")
	b.touched[t.orgi] = true
	if err := b.drain(t.orgi); err != nil {
		return protocol.TransferResult{}, err
	}
	summary := sess.Summary()
	res := protocol.TransferResult{OK: true, Session: &summary}
	if t.queued(sess.ID) >= 0 {
		res.Queued = true
	} else if agentID, served := t.served[sess.ID]; served {
		summary.AgentNo, summary.Status = agentID, protocol.SessionInService
	}
	return res, nil
}

// forceOffline sets an agent offline at once: its chats go back to the head
// of the queue, as when its grace ends. Its sockets stay: it may set itself
// ready again.
func (b *batch) forceOffline(c command.Command) (protocol.TransferResult, error) {
	t, err := b.tenant(c.Orgi)
	if err != nil {
		return protocol.TransferResult{}, err
	}
	a, err := b.agent(t, c.AgentID)
	if err != nil {
		return protocol.TransferResult{}, err
	}
	if a == nil {
		return refuse(protocol.CodeNotFound, "no such agent"), nil
	}
	if err := b.setOffline(t, c.AgentID, "set offline by a supervisor"); err != nil {
		return protocol.TransferResult{}, err
	}
	return protocol.TransferResult{OK: true}, nil
}
