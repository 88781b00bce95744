// Package chat implements the /im/user and /im/agent namespaces: who may
// connect, and the message path (validate, store with the next seq,
// acknowledge, publish to the parties' rooms).
package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/kefu-im/kefu/gateway/auth"
	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/broker"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/emit"
	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/online"
	"github.com/kefu-im/kefu/pkg/prompt"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Store is what the namespaces read and write.
type Store interface {
	GetSite(ctx context.Context, appID string) (store.Site, error)
	Prompts(ctx context.Context, orgi string) (prompt.Set, error)
	Blocked(ctx context.Context, appid, userid string) (store.Blacklist, bool, error)
	GetAttachment(ctx context.Context, id string, withData bool) (store.Attachment, error)
	AddTrace(ctx context.Context, t store.VisitorTrace) error
	RateSession(ctx context.Context, id string, level int, comment string, at time.Time) (bool, error)
	AppendIM(ctx context.Context, m *store.IMMessage) (store.IMMessage, bool, error)
	IMGroupMembers(ctx context.Context, groupID string) (store.IMGroup, []string, error)
	GetAgent(ctx context.Context, id string) (store.Agent, error)
	AgentSkills(ctx context.Context, agentID string) ([]string, error)
	UpsertVisitor(ctx context.Context, v store.Visitor) error
	OpenSession(ctx context.Context, appID, userID string) (store.Session, error)
	CreateSession(ctx context.Context, s *store.Session) error
	GetSession(ctx context.Context, id string) (store.Session, error)
	AppendMessage(ctx context.Context, m *store.Message) (store.Message, bool, error)
	ListMessages(ctx context.Context, sessionID string, afterSeq, beforeSeq int64, limit int) ([]store.Message, error)
	AppendSessionEvents(ctx context.Context, evs ...store.SessionEvent) error
	HasSessionEvent(ctx context.Context, sessionID, kind, actor string) (bool, error)
	AddNote(ctx context.Context, n *store.SessionNote) (store.SessionNote, bool, error)
	AnswerInvite(ctx context.Context, appid, userid string, accept bool) (store.InviteRecord, bool, error)
	LinkInvite(ctx context.Context, appid, userid, agentID, sessionID string) error
}

// Emitter reaches sockets anywhere in the cluster.
type Emitter interface {
	ToVisitor(ctx context.Context, appID, userID, event string, v any) error
	ToAgent(ctx context.Context, agentID, event string, v any) error
	ToRoom(ctx context.Context, namespace, room, event string, v any, except string) error
	ToMonitors(ctx context.Context, orgi, event string, scope protocol.Mirror, v any) error
	// Batch holds what it is given until flush publishes it all in one
	// round trip (emit.Emitter.Batch).
	Batch() (held *emit.Emitter, flush func(context.Context) error)
}

// Authenticator resolves agent tokens.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (auth.Principal, error)
}

// Deps are the collaborators of a Service.
type Deps struct {
	Store    Store
	Emit     Emitter
	Commands command.Sender
	Signer   *identity.Signer
	Auth     Authenticator
	Access   *access.Resolver // supervision rights and scopes
	Online   OnlineRegistry
	NodeID   string
	// ClientIP names a visitor's address from its handshake request (the
	// gateway's trusted-proxy rule); nil takes the connection's address.
	ClientIP func(*http.Request) string
	Logger   *slog.Logger
}

// sendTimeout bounds storing and publishing one message, which outlive the
// sender's socket (see send).
const sendTimeout = 10 * time.Second

// draftInterval is the protocol's "at most once per 300 ms per session".
const draftInterval = 300 * time.Millisecond

// Service serves the chat namespaces.
type Service struct {
	Deps
	drafts       *throttle
	agents       agentSockets
	visitorsHere localVisitors
	sockets      *sio.Server   // set by Register
	beat         chan struct{} // asks RunHeartbeat for a heartbeat now
}

// New returns a Service.
func New(d Deps) *Service {
	if d.Online == nil {
		d.Online = online.NewMemory()
	}
	return &Service{Deps: d, drafts: newThrottle(draftInterval), beat: make(chan struct{}, 1)}
}

// clientIP is the visitor's address without its port.
func (s *Service) clientIP(sock *sio.Socket) string {
	r := &http.Request{RemoteAddr: sock.RemoteAddr(), Header: sock.Header()}
	if s.ClientIP != nil {
		return s.ClientIP(r)
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// Register installs the namespaces' handlers on srv.
func (s *Service) Register(srv *sio.Server) {
	s.sockets = srv
	user := srv.Namespace(protocol.NamespaceUser)
	user.OnConnect(onConnect(s.visitorConnect))
	user.OnDisconnect(s.visitorDisconnect)
	Handle(user, protocol.EventNew, s.visitorNew)
	Handle(user, protocol.EventMessage, s.visitorMessage)
	Handle(user, protocol.EventTrace, s.visitorTrace)
	Handle(user, protocol.EventInvite, s.visitorInviteAnswer)
	Handle(user, protocol.EventSatisfaction, s.visitorRating)

	agent := srv.Namespace(protocol.NamespaceAgent)
	agent.OnConnect(onConnect(s.agentConnect))
	agent.OnDisconnect(s.agentDisconnect)
	Handle(agent, protocol.EventMessage, s.agentMessage)
	Handle(agent, protocol.EventIntervene, s.intervene)
	Handle(agent, protocol.EventWhisper, s.whisper)

	im := srv.Namespace(protocol.NamespaceIM)
	im.OnConnect(onConnect(s.imConnect))
	Handle(im, protocol.EventMessage, s.imMessage)
}

// Deliver hands a message published anywhere in the cluster to this node's
// sockets. A `leave` ends the login it is addressed to, and a `refused` to
// a visitor (blacklisted) ends that visitor's sockets: after it, those
// sockets are disconnected, so they cannot go on acting through a socket
// opened earlier.
func (s *Service) Deliver(m broker.Message) {
	if m.Namespace == protocol.NamespaceControl {
		if m.Event == protocol.EventAnnounce {
			s.heartbeatNow()
		}
		return
	}
	s.sockets.EmitLocal(m.Namespace, m.Room, m.Except, m.Event, m.Data)
	switch {
	case m.Namespace == protocol.NamespaceAgent && m.Event == protocol.EventLeave:
		// The login's IM sockets end with it.
		s.sockets.DisconnectLocal(m.Namespace, m.Room)
		s.sockets.DisconnectLocal(protocol.NamespaceIM, m.Room)
	case m.Namespace == protocol.NamespaceUser && m.Event == protocol.EventRefused:
		s.sockets.DisconnectLocal(m.Namespace, m.Room)
	}
}

// Close stops pending draft deliveries.
func (s *Service) Close() { s.drafts.Close() }

// siteConfig is the part of a site's widget config the gateway acts on.
type siteConfig struct {
	// SneakPeek lets agents see the visitor's draft text (UCKeFu 消息预知);
	// off, they only learn that the visitor is typing.
	SneakPeek bool `json:"sneakpeek"`
}

func parseSiteConfig(site store.Site) siteConfig {
	var c siteConfig
	_ = json.Unmarshal([]byte(site.Config), &c) // a malformed config means defaults
	return c
}

func textLimit(site store.Site) int {
	if site.TextLimit > 0 {
		return site.TextLimit
	}
	return protocol.DefaultTextLimit
}

// send stores m with the next seq of its session and publishes it to both
// parties. A resend of a client id answers the first acknowledgement and
// publishes nothing again: the first publication already happened.
func (s *Service) send(ctx context.Context, sess store.Session, m *store.Message) (protocol.MessageAck, error) {
	// The socket's context ends when the node drains; a message already on
	// its way is stored and published all the same. Were the publication cut
	// off, the client's resend would find it stored and publish nothing:
	// nobody else would ever see it live.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancel()
	stored, dup, err := s.Store.AppendMessage(ctx, m)
	if errors.Is(err, store.ErrNotFound) {
		return protocol.MessageAck{}, protocol.Errorf(protocol.CodeNotFound, "no such session")
	}
	if err != nil {
		return protocol.MessageAck{}, fmt.Errorf("store message: %w", err)
	}
	ack := protocol.MessageAck{OK: true, ID: stored.ID, Seq: stored.Seq, CreateTime: protocol.Time(stored.CreatedAt)}
	if dup {
		return ack, nil
	}
	// The message is stored and acknowledged whatever happens next: a failed
	// publish leaves a seq gap that clients fill from the history API.
	// Visitor, agent and supervisors get it in one round trip to the broker,
	// encoded once.
	chat, err := json.Marshal(stored.Chat())
	if err != nil {
		return ack, fmt.Errorf("encode message: %w", err)
	}
	held, flush := s.Emit.Batch()
	_ = held.ToVisitor(ctx, sess.AppID, sess.UserID, protocol.EventMessage, json.RawMessage(chat))
	if sess.AgentNo != "" {
		_ = held.ToAgent(ctx, sess.AgentNo, protocol.EventMessage, json.RawMessage(chat))
	}
	_ = held.ToMonitors(ctx, sess.Orgi, protocol.EventAuditMessage, mirrorOf(sess), json.RawMessage(chat))
	if err := flush(ctx); err != nil {
		s.Logger.WarnContext(ctx, "publish failed", "agentserviceid", sess.ID, "agentno", sess.AgentNo, "err", err)
	}
	return ack, nil
}

// mirrorOf is the scope of a session's mirrors.
func mirrorOf(sess store.Session) protocol.Mirror {
	return protocol.Mirror{Skill: sess.Skill, AgentNo: sess.AgentNo, Session: sess.ID}
}

// unavailable hides an infrastructure error from the client.
func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w", op, errors.Join(err, protocol.Errorf(protocol.CodeUnavailable, "service temporarily unavailable, retry")))
}
