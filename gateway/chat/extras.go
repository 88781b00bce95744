package chat

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/pkg/online"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// attach checks that attachment id may go into sess, sent by owner (a
// visitor's userid or an agent's id, as kind says), and copies its facts
// into m. An agent may send only what it uploaded for this session.
func (s *Service) attach(ctx context.Context, m *store.Message, sess store.Session, kind, owner string) error {
	if m.MsgType != protocol.MsgTypeImage && m.MsgType != protocol.MsgTypeFile {
		return nil
	}
	a, err := s.Store.GetAttachment(ctx, m.AttachmentID, false)
	if errors.Is(err, store.ErrNotFound) {
		return protocol.Errorf(protocol.CodeNotFound, "no such attachment")
	}
	if err != nil {
		return unavailable("load attachment", err)
	}
	if a.OwnerKind != kind || a.Owner != owner || a.AppID != sess.AppID || (kind == store.OwnerAgent && a.SessionID != sess.ID) {
		return protocol.Errorf(protocol.CodeNotFound, "no such attachment")
	}
	if m.MsgType == protocol.MsgTypeImage && !store.IsImage(a.Mime) {
		return protocol.Errorf(protocol.CodeBadRequest, "the attachment is not an image: send it as a file")
	}
	m.Filename, m.Filesize, m.Mime, m.URL = a.Filename, a.Size, a.Mime, a.URL()
	if m.Body == "" {
		m.Body = a.Filename
	}
	return nil
}

// traceEvery bounds how often one socket's page views are stored.
const traceEvery = time.Second

// traceLimiter remembers each socket's last stored page view.
type traceLimiter struct {
	mu   sync.Mutex
	last time.Time
}

func (s *Service) visitorTrace(ctx context.Context, sock *sio.Socket, t protocol.Trace) (any, error) {
	v := visitorOf(sock)
	now := time.Now()
	v.trace.mu.Lock()
	recent := now.Sub(v.trace.last) < traceEvery
	if !recent {
		v.trace.last = now
	}
	v.trace.mu.Unlock()
	if recent {
		return protocol.OKAck{OK: true}, nil
	}
	if o, ok := s.visitorsHere.update(v.site.Orgi, v.site.AppID, v.userID, func(o *online.Visitor) { o.URL, o.Title = t.URL, t.Title }); ok {
		s.seen(ctx, v.site.Orgi, o)
	}
	err := s.Store.AddTrace(ctx, store.VisitorTrace{Orgi: v.site.Orgi, AppID: v.site.AppID, UserID: v.userID, Title: t.Title, URL: t.URL, Referrer: t.Referrer})
	if err != nil {
		return nil, unavailable("store trace", err)
	}
	return protocol.OKAck{OK: true}, nil
}

// visitorInviteAnswer records the answer to an invite: accepting means
// the widget sends `new` with the inviting agent, which is what routes; a
// refusal is told to the inviter at once.
func (s *Service) visitorInviteAnswer(ctx context.Context, sock *sio.Socket, a protocol.InviteAnswer) (any, error) {
	v := visitorOf(sock)
	rec, ok, err := s.Store.AnswerInvite(ctx, v.site.AppID, v.userID, a.Accept)
	if err != nil {
		return nil, unavailable("record invite answer", err)
	}
	s.Logger.InfoContext(ctx, "invite answered", "accept", a.Accept, "recorded", ok)
	if ok && !a.Accept {
		res := protocol.InviteResult{InviteID: rec.ID, AppID: rec.AppID, UserID: rec.UserID, Status: rec.Status}
		if err := s.Emit.ToAgent(ctx, rec.AgentID, protocol.EventInviteResult, res); err != nil {
			s.Logger.WarnContext(ctx, "invite refusal not delivered", "agent", rec.AgentID, "err", err)
		}
	}
	return protocol.OKAck{OK: true}, nil
}

// visitorRating stores the visitor's rating of one of its ended sessions.
func (s *Service) visitorRating(ctx context.Context, sock *sio.Socket, r protocol.Satisfaction) (any, error) {
	v := visitorOf(sock)
	sess, err := s.Store.GetSession(ctx, r.AgentServiceID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (sess.AppID != v.site.AppID || sess.UserID != v.userID)) {
		return nil, protocol.Errorf(protocol.CodeNotFound, "no such session")
	}
	if err != nil {
		return nil, unavailable("load session", err)
	}
	switch sat := protocol.SiteSatisfaction(v.site.Config); {
	case !sat.On():
		return nil, protocol.Errorf(protocol.CodeConflict, "ratings are switched off for this site")
	case r.Level > sat.Levels():
		return nil, protocol.Errorf(protocol.CodeBadRequest, "level must be 1 to %d", sat.Levels())
	}
	ok, err := s.Store.RateSession(ctx, sess.ID, r.Level, r.Comment, time.Now())
	if err != nil {
		return nil, unavailable("store rating", err)
	}
	if !ok {
		return nil, protocol.Errorf(protocol.CodeConflict, "only a chat an agent served can be rated, once")
	}
	// The rating is stored: what follows only informs.
	if err := s.Store.AppendSessionEvents(ctx, store.SessionEvent{SessionID: sess.ID, Orgi: sess.Orgi, Kind: protocol.SessionRated, Detail: strconv.Itoa(r.Level)}); err != nil {
		s.Logger.WarnContext(ctx, "rating not in the transcript", "agentserviceid", sess.ID, "err", err)
	}
	rating := protocol.Rating{AgentServiceID: sess.ID, Level: r.Level, Comment: r.Comment}
	if err := s.Emit.ToMonitors(ctx, sess.Orgi, protocol.EventAuditRating, mirrorOf(sess), rating); err != nil {
		s.Logger.WarnContext(ctx, "rating not mirrored", "agentserviceid", sess.ID, "err", err)
	}
	return protocol.OKAck{OK: true}, nil
}
