package chat

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// supervisedSession loads a chat in service that the socket's staff member
// may act on with want as a supervisor: in its scope, and not its own (its
// own chat it writes to with `message`).
func (s *Service) supervisedSession(ctx context.Context, sock *sio.Socket, id string, want access.Rights) (store.Session, error) {
	p := PrincipalOf(sock)
	sess, err := s.Store.GetSession(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sess.Orgi != p.Agent.Orgi) {
		return store.Session{}, protocol.Errorf(protocol.CodeNotFound, "no such session")
	}
	if err != nil {
		return store.Session{}, unavailable("load session", err)
	}
	ok, err := s.Access.Can(ctx, p.Agent, want, sess)
	if err != nil {
		return store.Session{}, unavailable("check rights", err)
	}
	switch {
	case !ok:
		return store.Session{}, protocol.Errorf(protocol.CodeForbidden, "not in your supervision scope, or no %s right", want)
	case sess.AgentNo == p.Agent.ID:
		return store.Session{}, protocol.Errorf(protocol.CodeBadRequest, "this chat is yours: send `message`")
	case sess.Status != protocol.SessionInService:
		return store.Session{}, protocol.Errorf(protocol.CodeConflict, "the chat is not in service")
	}
	return sess, nil
}

// intervene is a supervisor writing into a chat (cskefu's intervention): a
// message like the agent's, stored in the chat's seq order and marked
// intervened. The visitor sees it under the supervisor's nickname; the
// agent sees it marked as an intervention. The first one of each
// supervisor is a `joined` event in the transcript.
func (s *Service) intervene(ctx context.Context, sock *sio.Socket, m protocol.SendMessage) (any, error) {
	if m.Type != protocol.TypeMessage || m.MsgType != protocol.MsgTypeText {
		return nil, protocol.Errorf(protocol.CodeBadRequest, "a supervisor writes text messages")
	}
	p := PrincipalOf(sock)
	sess, err := s.supervisedSession(ctx, sock, m.AgentServiceID, access.Write)
	if err != nil {
		return nil, err
	}
	site, err := s.Store.GetSite(ctx, sess.AppID)
	if err != nil {
		return nil, unavailable("load site", err)
	}
	if limit := textLimit(site); utf8.RuneCountInString(m.Message) > limit {
		return nil, protocol.Errorf(protocol.CodeTooLarge, "message is longer than %d characters", limit)
	}
	ack, err := s.send(ctx, sess, &store.Message{
		SessionID: sess.ID, ClientID: m.ClientID, Type: protocol.TypeMessage, MsgType: protocol.MsgTypeText,
		CallType: protocol.CallTypeOut, Body: m.Message, UserID: p.Agent.ID, Nickname: p.Agent.Nickname,
		ToUser: sess.UserID, Intervened: true,
	})
	if err != nil {
		return nil, err
	}
	s.joined(ctx, sess, p.Agent.ID)
	return ack, nil
}

// joined records a supervisor's first intervention in a chat.
func (s *Service) joined(ctx context.Context, sess store.Session, supervisor string) {
	seen, err := s.Store.HasSessionEvent(ctx, sess.ID, protocol.SessionJoined, supervisor)
	if err == nil && !seen {
		err = s.Store.AppendSessionEvents(ctx, store.SessionEvent{SessionID: sess.ID, Orgi: sess.Orgi, Kind: protocol.SessionJoined, Actor: supervisor})
	}
	if err != nil {
		s.Logger.WarnContext(ctx, "join not in the transcript", "agentserviceid", sess.ID, "err", err)
	}
}

// whisper is a note from a supervisor to a chat's agent, never to its
// visitor: stored apart from the messages (it takes no seq), sent to the
// agent's sockets and mirrored to the chat's other supervisors.
func (s *Service) whisper(ctx context.Context, sock *sio.Socket, w protocol.WhisperRequest) (any, error) {
	p := PrincipalOf(sock)
	sess, err := s.supervisedSession(ctx, sock, w.AgentServiceID, access.Write)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancel()
	note, dup, err := s.Store.AddNote(ctx, &store.SessionNote{
		SessionID: sess.ID, ClientID: w.ClientID, Orgi: sess.Orgi, AuthorID: p.Agent.ID, AuthorName: p.Agent.Nickname, Body: w.Message,
	})
	if err != nil {
		return nil, unavailable("store whisper", err)
	}
	view := note.View()
	if !dup {
		if err := s.Emit.ToAgent(ctx, sess.AgentNo, protocol.EventWhisper, view); err != nil {
			s.Logger.WarnContext(ctx, "whisper not delivered to the agent", "agentserviceid", sess.ID, "err", err)
		}
		if err := s.Emit.ToMonitors(ctx, sess.Orgi, protocol.EventAuditWhisper, mirrorOf(sess), view); err != nil {
			s.Logger.WarnContext(ctx, "whisper not mirrored", "agentserviceid", sess.ID, "err", err)
		}
	}
	return protocol.NoteAck{OK: true, ID: view.ID, CreateTime: view.CreateTime}, nil
}
