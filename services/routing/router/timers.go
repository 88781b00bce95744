package router

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/prompt"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// scanInterval paces the timers that read the database (idle visitors,
// agents who have not replied), as UCKeFu's 5-second job.
const scanInterval = 5 * time.Second

// tick applies the timers that are due, in one transaction when any is.
func (s *Service) tick(ctx context.Context) error {
	if !s.timersDue() {
		return nil
	}
	return s.inTx(ctx, func(b *batch) error {
		var errs []error
		for sessionID, orgi := range s.pres.expireNodes(b.now.Add(-nodeTimeout), b.now.Add(s.opts.AgentGrace)) {
			errs = append(errs, b.visitorGone(orgi, sessionID))
		}
		for agentID, orgi := range s.pres.due(b.now) {
			errs = append(errs, b.offline(agentID, orgi))
		}
		scan := !b.now.Before(s.nextScan)
		if scan {
			s.nextScan = b.now.Add(scanInterval)
		}
		for _, t := range s.tenants {
			for sessionID, at := range t.visitorGone {
				if !b.now.Before(at) {
					errs = append(errs, b.end(t, sessionID, protocol.EndByUser, prompt.Ended, protocol.StateEnded))
				}
			}
			if scan {
				errs = append(errs, b.scanTimers(t))
			}
		}
		return errors.Join(errs...)
	})
}

// timersDue reports whether tick has anything to do, without a transaction.
func (s *Service) timersDue() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if !now.Before(s.nextScan) || s.pres.anyDue(now, now.Add(-nodeTimeout)) {
		return true
	}
	for _, t := range s.tenants {
		for _, at := range t.visitorGone {
			if !now.Before(at) {
				return true
			}
		}
	}
	return false
}

// scanTimers ends sessions that waited too long in the queue or whose
// visitor went quiet after a warning, warns quiet visitors, and tells a
// visitor waiting for a reply that the agent is on it (once per wait).
func (b *batch) scanTimers(t *tenant) error {
	var errs []error
	for _, sess := range append([]store.Session(nil), t.queue...) {
		limit := t.timers(t.skillOf(sess)).QueueTimeout
		if limit > 0 && b.now.Sub(t.waitingSince(sess)) >= seconds(limit) {
			errs = append(errs, b.end(t, sess.ID, protocol.EndByQueue, prompt.QueueTimeout, protocol.StateEnded))
		}
	}
	if len(t.queue) > 0 {
		// initmaxuser may have left visitors waiting for agents with room:
		// each scan is another pull.
		errs = append(errs, b.drain(t.orgi))
	}
	if !t.anyServiceTimer() || len(t.served) == 0 {
		return errors.Join(errs...)
	}
	rows, err := b.rd.InServiceDetails(b.ctx, t.orgi)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	var warned, reminded []string
	for _, sess := range rows {
		tm := t.timers(t.skillOf(sess))
		last := sess.LastVisitorAt
		if last == nil {
			last = sess.ServiceTime
		}
		quiet := time.Duration(0)
		if last != nil {
			quiet = b.now.Sub(*last)
		}
		switch {
		case tm.VisitorIdleWarn <= 0:
		case !sess.IdleWarned && quiet >= seconds(tm.VisitorIdleWarn):
			errs = append(errs, b.systemMessage(t, sess, prompt.IdleWarn))
			warned = append(warned, sess.ID)
		case sess.IdleWarned && tm.VisitorIdleClose > 0 && quiet >= seconds(tm.VisitorIdleWarn+tm.VisitorIdleClose):
			errs = append(errs, b.end(t, sess.ID, protocol.EndByTimeout, prompt.IdleClose, protocol.StateEnded))
			continue
		}
		if tm.AgentNoReply > 0 && !sess.AgentReminded && sess.LastVisitorAt != nil &&
			(sess.LastAgentAt == nil || sess.LastAgentAt.Before(*sess.LastVisitorAt)) &&
			b.now.Sub(*sess.LastVisitorAt) >= seconds(tm.AgentNoReply) {
			errs = append(errs, b.systemMessage(t, sess, prompt.AgentNoReply))
			reminded = append(reminded, sess.ID)
		}
	}
	errs = append(errs, b.tx.MarkSessions("idle_warned", warned), b.tx.MarkSessions("agent_reminded", reminded))
	return errors.Join(errs...)
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

// systemMessage stores a prompt as a system message of the chat and sends
// it to both sides, like any message.
func (b *batch) systemMessage(t *tenant, sess store.Session, key string) error {
	stored, _, err := b.rd.AppendMessage(b.ctx, &store.Message{
		SessionID: sess.ID, Type: protocol.TypeMessage, MsgType: protocol.MsgTypeText, CallType: protocol.CallTypeSystem,
		Body: t.prompts().Text(key, "", 0), UserID: "system", ToUser: sess.UserID,
	})
	if err != nil {
		return fmt.Errorf("system message %s: %w", key, err)
	}
	chat := stored.Chat()
	b.send(func(ctx context.Context, em Announcer) error {
		err := em.ToVisitor(ctx, sess.AppID, sess.UserID, protocol.EventMessage, chat)
		if sess.AgentNo != "" {
			err = errors.Join(err, em.ToAgent(ctx, sess.AgentNo, protocol.EventMessage, chat))
		}
		return err
	})
	b.mirror(t.orgi, protocol.EventAuditMessage, sess.Skill, sess.AgentNo, sess.ID, chat)
	return nil
}

// end ends a session for routing's own reasons and tells both sides; the
// freed capacity goes to the queue.
func (b *batch) end(t *tenant, sessionID, endBy, promptKey, state string) error {
	ended, changed, err := b.tx.EndSession(sessionID, endBy, b.now)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, wasServed := t.release(sessionID)
	t.dequeue(sessionID)
	delete(t.visitorGone, sessionID)
	b.touched[t.orgi] = true
	if !changed {
		return nil
	}
	b.s.log.Info("routing: ended", "session", sessionID, "by", endBy, "orgi", t.orgi)
	st := protocol.VisitorStatus{
		State: state, MessageType: "end", Message: t.prompts().Text(promptKey, "", 0),
		AgentServiceID: ended.ID, AgentNo: ended.AgentNo, CreateTime: protocol.Time(b.now),
	}
	b.send(func(ctx context.Context, em Announcer) error {
		err := em.ToVisitor(ctx, ended.AppID, ended.UserID, protocol.EventStatus, st)
		if ended.AgentNo != "" {
			err = errors.Join(err, em.ToAgent(ctx, ended.AgentNo, protocol.EventEnd, ended.Summary()))
		}
		return err
	})
	b.event(ended, protocol.SessionEnded, "", "", endBy)
	b.mirror(t.orgi, protocol.EventAuditEnd, ended.Skill, ended.AgentNo, ended.ID, protocol.EndedChat{
		SessionSummary: ended.Summary(), EndBy: endBy, EndTime: protocol.Time(b.now),
	})
	if wasServed {
		return b.drain(t.orgi)
	}
	return nil
}

// visitorJoined cancels a pending end: the visitor is back.
func (b *batch) visitorJoined(c command.Command) error {
	b.s.pres.addVisitor(c.Node, c.SocketID, c.SessionID, c.Orgi)
	t, err := b.tenant(c.Orgi)
	if err != nil {
		return err
	}
	delete(t.visitorGone, c.SessionID)
	return nil
}

// visitorLeft starts the visitor's grace once its last socket is gone.
func (b *batch) visitorLeft(c command.Command) error {
	if !b.s.pres.removeVisitor(c.SocketID, c.SessionID) {
		return nil
	}
	return b.visitorGone(c.Orgi, c.SessionID)
}

func (b *batch) visitorGone(orgi, sessionID string) error {
	t, err := b.tenant(orgi)
	if err != nil {
		return err
	}
	if _, served := t.served[sessionID]; !served && t.queued(sessionID) < 0 {
		return nil // ended already
	}
	grace := b.s.opts.VisitorGrace
	if n := t.timers("").VisitorLeftGrace; n > 0 {
		grace = seconds(n)
	}
	t.visitorGone[sessionID] = b.now.Add(grace)
	return nil
}

// open reports whether now is within the working hours that apply to skill
// (its group's, else the tenant's) on the tenant's wall clock.
func (t *tenant) open(now time.Time, skill string) bool {
	return t.effective[t.skillOf(store.Session{Skill: skill})].hours.Open(now, t.loc)
}
