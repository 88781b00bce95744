package chat

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/kefu-im/kefu/gateway/auth"
	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

const principalKey = "principal"

// PrincipalOf is the staff member an /im/agent or /im/entim socket
// authenticated as at connect (zero for other sockets).
func PrincipalOf(sock *sio.Socket) auth.Principal {
	p, _ := sock.Get(principalKey).(auth.Principal)
	return p
}

func (s *Service) agentConnect(ctx context.Context, sock *sio.Socket) error {
	p, err := s.Auth.Authenticate(ctx, sock.Query().Get("token"))
	if err != nil {
		return err
	}
	sock.Set(principalKey, p)
	sock.Join(protocol.AgentRoom(p.Agent.ID))
	sock.Join(protocol.LoginRoom(p.TokenHash))
	sock.Join(protocol.TenantAgentsRoom(p.Agent.Orgi))
	sock.Join(protocol.TenantRoom(p.Agent.Orgi))
	ref := command.SocketRef{AgentID: p.Agent.ID, Orgi: p.Agent.Orgi, SocketID: sock.ID()}
	s.agents.add(ref)
	s.announce(ctx, command.AgentConnected, ref)
	return nil
}

// agentSession loads a session the agent may write to: their own, in service.
// Another tenant's session does not exist as far as the agent can tell.
func (s *Service) agentSession(ctx context.Context, p auth.Principal, id string) (store.Session, error) {
	if id == "" {
		return store.Session{}, protocol.Errorf(protocol.CodeBadRequest, "agentserviceid is required")
	}
	sess, err := s.Store.GetSession(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sess.Orgi != p.Agent.Orgi) {
		return store.Session{}, protocol.Errorf(protocol.CodeNotFound, "no such session")
	}
	if err != nil {
		return store.Session{}, unavailable("load session", err)
	}
	if sess.AgentNo != p.Agent.ID || sess.Status != protocol.SessionInService {
		return store.Session{}, protocol.Errorf(protocol.CodeForbidden, "only the session's current agent may write to it")
	}
	return sess, nil
}

func (s *Service) agentMessage(ctx context.Context, sock *sio.Socket, m protocol.SendMessage) (any, error) {
	p := PrincipalOf(sock)
	sess, err := s.agentSession(ctx, p, m.AgentServiceID)
	if err != nil {
		return nil, err
	}
	site, err := s.Store.GetSite(ctx, sess.AppID)
	if err != nil {
		return nil, unavailable("load site", err)
	}
	if m.Type == protocol.TypeWriting {
		s.drafts.Submit("a:"+sess.ID, func(ctx context.Context) {
			if err := s.Emit.ToVisitor(ctx, sess.AppID, sess.UserID, protocol.EventTyping, protocol.Typing{AgentServiceID: sess.ID}); err != nil {
				s.Logger.Debug("typing not delivered", "agentserviceid", sess.ID, "agentid", p.Agent.ID, "err", err)
			}
		})
		return protocol.OKAck{OK: true}, nil
	}
	if limit := textLimit(site); utf8.RuneCountInString(m.Message) > limit {
		return nil, protocol.Errorf(protocol.CodeTooLarge, "message is longer than %d characters", limit)
	}
	msg := &store.Message{
		SessionID: sess.ID, ClientID: m.ClientID, Orgi: sess.Orgi, AppID: sess.AppID, USession: sess.UserID,
		Type: protocol.TypeMessage, MsgType: m.MsgType, CallType: protocol.CallTypeOut, Body: m.Message,
		AttachmentID: m.AttachmentID, UserID: p.Agent.ID, Username: p.Agent.Username, Nickname: p.Agent.Nickname, ToUser: sess.UserID,
	}
	if err := s.attach(ctx, msg, sess, store.OwnerAgent, p.Agent.ID); err != nil {
		return nil, err
	}
	return s.send(ctx, sess, msg)
}
