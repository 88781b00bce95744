package chat

import (
	"context"
	"errors"
	"slices"

	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// imConnect admits an agent to /im/entim with its token. Presence is the
// routing service's (an agent is online while it has a workbench open);
// it tells the tenant's IM room when that changes.
func (s *Service) imConnect(ctx context.Context, sock *sio.Socket) error {
	p, err := s.Auth.Authenticate(ctx, sock.Query().Get("token"))
	if err != nil {
		return err
	}
	sock.Set(principalKey, p)
	sock.Join(protocol.AgentRoom(p.Agent.ID))
	sock.Join(protocol.LoginRoom(p.TokenHash))
	sock.Join(protocol.TenantIMRoom(p.Agent.Orgi))
	sock.Join(protocol.TenantRoom(p.Agent.Orgi)) // a disabled tenant's `leave` ends it
	return nil
}

// imMessage stores and delivers an agent-to-agent message to every socket
// of both sides (or of every member of the group).
func (s *Service) imMessage(ctx context.Context, sock *sio.Socket, m protocol.IMSend) (any, error) {
	p := PrincipalOf(sock)
	msg := store.IMMessage{Orgi: p.Agent.Orgi, From: p.Agent.ID, ClientID: m.ClientID, Body: m.Message}
	var to []string
	if m.ToUser != "" {
		peer, err := s.Store.GetAgent(ctx, m.ToUser)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (peer.Orgi != p.Agent.Orgi || peer.ID == p.Agent.ID)) {
			return nil, protocol.Errorf(protocol.CodeNotFound, "no such colleague")
		}
		if err != nil {
			return nil, unavailable("load colleague", err)
		}
		msg.Pair, to = store.Pair(p.Agent.ID, peer.ID), []string{p.Agent.ID, peer.ID}
	} else {
		g, members, err := s.Store.IMGroupMembers(ctx, m.Group)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (g.Orgi != p.Agent.Orgi || !slices.Contains(members, p.Agent.ID))) {
			return nil, protocol.Errorf(protocol.CodeNotFound, "no such group")
		}
		if err != nil {
			return nil, unavailable("load group", err)
		}
		msg.GroupID, to = g.ID, members
	}
	stored, dup, err := s.Store.AppendIM(ctx, &msg)
	if err != nil {
		return nil, unavailable("store message", err)
	}
	ack := protocol.IMAck{OK: true, ID: stored.ID, CreateTime: protocol.Time(stored.CreatedAt)}
	if dup {
		return ack, nil
	}
	wire := protocol.IMMessage{ID: stored.ID, From: stored.From, ToUser: m.ToUser, Group: stored.GroupID, Message: stored.Body, ClientID: stored.ClientID, CreateTime: ack.CreateTime}
	for _, agentID := range to {
		if err := s.Emit.ToRoom(ctx, protocol.NamespaceIM, protocol.AgentRoom(agentID), protocol.EventMessage, wire, ""); err != nil {
			s.Logger.WarnContext(ctx, "IM message not delivered", "to", agentID, "err", err)
		}
	}
	return ack, nil
}
