package router

import (
	"context"

	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/prompt"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// transfer moves a chat to another agent or skill group and answers the
// gateway that asked. Who may ask was checked there; capacity, presence and
// the chat's current owner are checked here, where they are known.
func (b *batch) transfer(c command.Command) error {
	res, err := b.doTransfer(c)
	if err != nil {
		return err
	}
	b.answer(c, res)
	return nil
}

func refuse(code, format string, args ...any) protocol.TransferResult {
	return protocol.TransferResult{Error: protocol.Errorf(code, format, args...)}
}

func (b *batch) doTransfer(c command.Command) (protocol.TransferResult, error) {
	t, from, no, err := b.served(c)
	if err != nil || no != nil {
		return refused(no, err)
	}
	rows, err := b.tx.Sessions([]string{c.SessionID})
	if err != nil {
		return protocol.TransferResult{}, err
	}
	sess := rows[c.SessionID]
	switch {
	case c.AgentID != "":
		if c.AgentID == from {
			return refuse(protocol.CodeBadRequest, "the agent already serves this chat"), nil
		}
		a, err := b.agent(t, c.AgentID)
		if err != nil {
			return protocol.TransferResult{}, err
		}
		if a == nil || !a.routable {
			return refuse(protocol.CodeNotFound, "no such agent"), nil
		}
		if !b.s.pres.online(c.AgentID) || a.state.Status == protocol.AgentOffline {
			return refuse(protocol.CodeConflict, "the agent is offline"), nil
		}
		if !c.Override && (a.state.Busy || a.state.Status != protocol.AgentReady) {
			return refuse(protocol.CodeConflict, "the agent is not taking chats"), nil
		}
		if !c.Override && a.load >= a.max {
			return refuse(protocol.CodeConflict, "the agent has no room (%d of %d chats)", a.load, a.max), nil
		}
		return b.moveTo(t, sess, from, c.AgentID, c.Memo, protocol.SessionTransferred)
	case c.Skill != "":
		if _, ok := t.groups[c.Skill]; !ok {
			return refuse(protocol.CodeNotFound, "no such skill group"), nil
		}
		target := sess
		target.Skill, target.Agent = c.Skill, ""
		to, ok, err := b.choose(t, target, nil, from)
		if err != nil {
			return protocol.TransferResult{}, err
		}
		if ok {
			return b.moveTo(t, target, from, to, c.Memo, protocol.SessionTransferred)
		}
		return b.requeue(t, target, from, c.Memo)
	}
	return refuse(protocol.CodeBadRequest, "give agentno or skill"), nil
}

// moveTo hands the chat from one agent to another; kind is what its
// transcript calls it (a transfer, or a supervisor's takeover).
func (b *batch) moveTo(t *tenant, sess store.Session, from, to, memo, kind string) (protocol.TransferResult, error) {
	moved, err := b.tx.TransferSession(store.Transfer{SessionID: sess.ID, From: from, To: to, Skill: sess.Skill, Memo: memo, At: b.now})
	if err != nil {
		return protocol.TransferResult{}, err
	}
	if !moved {
		return refuse(protocol.CodeConflict, "the chat changed meanwhile; try again"), nil
	}
	t.serve(sess.ID, to)
	if a := t.agents[to]; a != nil {
		next := a.state
		next.LastAssigned = b.now
		b.setState(a, next)
	}
	sess.Trans, sess.TransMemo = true, memo
	b.transOut(sess, from)
	b.event(sess, kind, b.by, to, memo)
	b.announceAssigned(t, sess, to, prompt.Transferred, from)
	b.touched[t.orgi] = true
	b.s.log.Info("routing: transferred", "session", sess.ID, "from", from, "to", to)
	summary := sess.Summary()
	summary.AgentNo, summary.Status, summary.TransFrom = to, protocol.SessionInService, from
	if err := b.drain(t.orgi); err != nil { // from has room now
		return protocol.TransferResult{}, err
	}
	return protocol.TransferResult{OK: true, Session: &summary}, nil
}

// requeue puts the chat at the head of the target group's queue (it keeps
// its enqueue time) when nobody there has room.
func (b *batch) requeue(t *tenant, sess store.Session, from, memo string) (protocol.TransferResult, error) {
	moved, err := b.tx.TransferSession(store.Transfer{SessionID: sess.ID, From: from, Skill: sess.Skill, Memo: memo, At: b.now})
	if err != nil {
		return protocol.TransferResult{}, err
	}
	if !moved {
		return refuse(protocol.CodeConflict, "the chat changed meanwhile; try again"), nil
	}
	t.release(sess.ID)
	sess.Status, sess.AgentNo, sess.ServiceTime, sess.Trans, sess.TransMemo = protocol.SessionInQueue, "", nil, true, memo
	t.enqueue(sess, b.now)
	t.avoid[sess.ID] = from
	b.transOut(sess, from)
	b.event(sess, protocol.SessionTransferred, b.by, sess.Skill, memo)
	b.touched[t.orgi] = true
	summary := sess.Summary()
	summary.TransFrom = from
	if err := b.drain(t.orgi); err != nil {
		return protocol.TransferResult{}, err
	}
	return protocol.TransferResult{OK: true, Queued: true, Session: &summary}, nil
}

// transOut tells the previous agent the chat is no longer theirs, and the
// supervisors who saw it there.
func (b *batch) transOut(sess store.Session, from string) {
	summary := sess.Summary()
	b.send(func(ctx context.Context, em Announcer) error {
		return em.ToAgent(ctx, from, protocol.EventTransOut, summary)
	})
	b.mirror(sess.Orgi, protocol.EventAuditTransOut, sess.Skill, from, sess.ID, summary)
}
