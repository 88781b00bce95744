package chat

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/online"
	"github.com/kefu-im/kefu/pkg/prompt"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

const visitorKey = "visitor"

// visitor is what a /im/user socket proved at connect.
type visitor struct {
	site     store.Site
	userID   string
	nickname string
	// page and client facts from the connect query, copied into the session.
	title, url, referrer, osName, browser, ip string
	// skill group and agent the visitor asked for (widget links, invites).
	skill, agent string

	mu sync.Mutex
	// sessionID is the open session routing has been told this socket is
	// part of (for the visitor's grace when sockets go).
	sessionID string

	trace traceLimiter
}

func visitorOf(sock *sio.Socket) *visitor {
	v, _ := sock.Get(visitorKey).(*visitor)
	return v
}

// clip bounds a client-supplied string to n characters.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func (s *Service) visitorConnect(ctx context.Context, sock *sio.Socket) error {
	q := sock.Query()
	appID := q.Get("appid")
	if appID == "" {
		return protocol.Errorf(protocol.CodeBadRequest, "appid is required")
	}
	site, err := s.Store.GetSite(ctx, appID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && site.Disabled) {
		return protocol.Errorf(protocol.CodeNotFound, "unknown appid")
	}
	if err != nil {
		return unavailable("load site", err)
	}
	userID, sign := q.Get("userid"), q.Get("sign")
	if !s.Signer.Verify(appID, userID, sign) {
		return protocol.Errorf(protocol.CodeUnauthorized, "missing or invalid visitor signature: get one from POST /im/%s/visitor", appID)
	}
	switch b, blocked, err := s.Store.Blocked(ctx, appID, userID); {
	case err != nil:
		return unavailable("check blacklist", err)
	case blocked:
		return protocol.Errorf(protocol.CodeForbidden, "blocked until %s", b.Until.UTC().Format(time.RFC3339))
	}
	v := &visitor{
		site:     site,
		userID:   userID,
		nickname: clip(q.Get("nickname"), 64),
		title:    clip(q.Get("title"), 255),
		url:      clip(q.Get("url"), 1024),
		referrer: clip(q.Get("referrer"), 1024),
		osName:   clip(q.Get("osname"), 64),
		browser:  clip(q.Get("browser"), 64),
		ip:       s.clientIP(sock),
		skill:    clip(q.Get("skill"), 32),
		agent:    clip(q.Get("agent"), 32),
	}
	if err := checkSkill(site, v.skill); err != nil {
		return err
	}
	if v.nickname == "" {
		v.nickname = "Guest_" + userID[:min(6, len(userID))]
	}
	now := time.Now().UTC()
	if err := s.Store.UpsertVisitor(ctx, store.Visitor{AppID: appID, UserID: userID, Orgi: site.Orgi, Nickname: v.nickname, CreatedAt: now, LastSeen: now}); err != nil {
		return unavailable("record visitor", err)
	}
	sock.Set(visitorKey, v)
	sock.Join(protocol.TenantRoom(site.Orgi)) // a disabled tenant's `refused` ends it
	s.seen(ctx, site.Orgi, s.visitorsHere.add(site.Orgi, online.Visitor{
		AppID: appID, UserID: userID, Nickname: v.nickname, URL: v.url, Title: v.title, Since: now,
	}))

	sess, err := s.Store.OpenSession(ctx, appID, userID)
	if errors.Is(err, store.ErrNotFound) {
		sock.Join(protocol.VisitorRoom(appID, userID))
		return nil
	}
	if err != nil {
		return unavailable("load session", err)
	}
	if err := s.resume(ctx, sock, sess, q.Get("lastseq")); err != nil {
		return err
	}
	s.joinSession(ctx, sock, sess)
	return nil
}

// joinSession tells routing this socket belongs to sess, once: while a
// session has any visitor socket, it does not end for the visitor leaving.
func (s *Service) joinSession(ctx context.Context, sock *sio.Socket, sess store.Session) {
	v := visitorOf(sock)
	v.mu.Lock()
	known := v.sessionID == sess.ID
	v.sessionID = sess.ID
	v.mu.Unlock()
	if !known {
		s.visitorPresence(ctx, command.VisitorJoined, sock.ID(), sess.Orgi, sess.ID)
	}
	if o, ok := s.visitorsHere.update(sess.Orgi, sess.AppID, sess.UserID, func(o *online.Visitor) { o.Chatting = true }); ok {
		s.seen(ctx, sess.Orgi, o)
	}
}

// visitorDisconnect starts the visitor's grace in routing, and takes the
// visitor off the online list once its last socket here is gone.
func (s *Service) visitorDisconnect(sock *sio.Socket, _ string) {
	v := visitorOf(sock)
	if v == nil {
		return
	}
	// The socket's own context has ended; this outlives it briefly.
	ctx, cancel := context.WithTimeout(socketContext(context.Background(), sock), 5*time.Second)
	defer cancel()
	if s.visitorsHere.remove(v.site.Orgi, v.site.AppID, v.userID) {
		if err := s.Online.Gone(ctx, v.site.Orgi, v.site.AppID, v.userID); err != nil {
			s.Logger.DebugContext(ctx, "online visitor not removed", "err", err)
		}
	}
	v.mu.Lock()
	sessionID := v.sessionID
	v.mu.Unlock()
	if sessionID != "" {
		s.visitorPresence(ctx, command.VisitorLeft, sock.ID(), v.site.Orgi, sessionID)
	}
}

// visitorPresence reports a visitor socket to routing. A lost report costs
// at worst a chat that ends late or not for the visitor leaving; it is
// only logged.
func (s *Service) visitorPresence(ctx context.Context, kind, socketID, orgi, sessionID string) {
	err := s.Commands.Send(ctx, command.Command{
		ID: store.NewID(), Kind: kind, Orgi: orgi, SessionID: sessionID, SocketID: socketID, Node: s.NodeID, At: time.Now().UTC(),
	})
	if err != nil {
		s.Logger.WarnContext(ctx, "visitor presence not reported", "kind", kind, "agentserviceid", sessionID, "err", err)
	}
}

// resume brings a reconnecting visitor up to date: the stored messages after
// lastseq, then the current status, then live traffic. Live delivery is held
// while the replay is read so that nothing arrives out of order, and anything
// the replay already carried is not delivered twice.
func (s *Service) resume(ctx context.Context, sock *sio.Socket, sess store.Session, lastSeq string) error {
	room := protocol.VisitorRoom(sess.AppID, sess.UserID)
	if lastSeq == "" {
		sock.Join(room)
		return s.tellStatus(ctx, sock, sess)
	}
	after, err := strconv.ParseInt(lastSeq, 10, 64)
	if err != nil || after < 0 {
		return protocol.Errorf(protocol.CodeBadRequest, "lastseq must be a non-negative integer")
	}
	sock.Hold()
	sock.Join(room)
	replayed := after
	defer func() {
		sock.Release(func(event string, data json.RawMessage) bool {
			return event != protocol.EventMessage || !alreadyReplayed(data, sess.ID, replayed)
		})
	}()
	for {
		page, err := s.Store.ListMessages(ctx, sess.ID, replayed, 0, replayPage)
		if err != nil {
			return unavailable("replay", err)
		}
		for _, m := range page {
			sock.Emit(protocol.EventMessage, m.Chat())
			replayed = m.Seq
		}
		if len(page) < replayPage {
			break
		}
	}
	return s.tellStatus(ctx, sock, sess)
}

// alreadyReplayed reports whether a live message is one of session's that
// the replay carried (seq at most upTo).
func alreadyReplayed(data json.RawMessage, session string, upTo int64) bool {
	var m struct {
		AgentServiceID string `json:"agentserviceid"`
		Seq            int64  `json:"seq"`
	}
	if json.Unmarshal(data, &m) != nil {
		return false
	}
	return m.AgentServiceID == session && m.Seq > 0 && m.Seq <= upTo
}

const replayPage = 200

// tellStatus sends one socket the state of its open session.
func (s *Service) tellStatus(ctx context.Context, sock *sio.Socket, sess store.Session) error {
	st := protocol.VisitorStatus{MessageType: "message", AgentServiceID: sess.ID, CreateTime: protocol.Time(time.Now().UTC())}
	switch sess.Status {
	case protocol.SessionInService:
		agent, err := s.Store.GetAgent(ctx, sess.AgentNo)
		if err != nil {
			return unavailable("load agent", err)
		}
		texts, err := s.Store.Prompts(ctx, sess.Orgi)
		if err != nil {
			return unavailable("load prompts", err)
		}
		st.State, st.AgentNo, st.NickName = protocol.StateAssigned, sess.AgentNo, agent.Nickname
		st.Message = texts.Text(prompt.Assigned, agent.Nickname, 0)
	default:
		// The routing service owns queue positions and their texts: it
		// tells the visitor again when asked.
		st.State = protocol.StateQueued
		if err := s.requestRouting(ctx, sess); err != nil {
			return err
		}
	}
	sock.Emit(protocol.EventStatus, st)
	return nil
}

func (s *Service) requestRouting(ctx context.Context, sess store.Session) error {
	err := s.Commands.Send(ctx, command.Command{
		ID: store.NewID(), Kind: command.VisitorRequest, Orgi: sess.Orgi, SessionID: sess.ID,
		Node: s.NodeID, At: time.Now().UTC(),
	})
	if err != nil {
		return unavailable("request routing", err)
	}
	return nil
}

// visitorNew opens a chat, or answers the open one: a visitor has at most one.
func (s *Service) visitorNew(ctx context.Context, sock *sio.Socket, p protocol.NewChat) (any, error) {
	v := visitorOf(sock)
	sess, err := s.Store.OpenSession(ctx, v.site.AppID, v.userID)
	switch {
	case err == nil:
		s.joinSession(ctx, sock, sess)
		if sess.Status == protocol.SessionInQueue {
			if err := s.requestRouting(ctx, sess); err != nil {
				return nil, err
			}
		}
		return protocol.NewChatAck{OK: true, AgentServiceID: sess.ID}, nil
	case !errors.Is(err, store.ErrNotFound):
		return nil, unavailable("load session", err)
	}
	skill, agent := cmp.Or(p.Skill, v.skill), cmp.Or(p.Agent, v.agent)
	if skill, agent, err = s.visitorRoute(ctx, v.site, skill, agent); err != nil {
		return nil, err
	}
	sess = store.Session{
		Orgi: v.site.Orgi, AppID: v.site.AppID, UserID: v.userID, Status: protocol.SessionInQueue,
		Nickname: v.nickname, Name: p.Name, Phone: p.Phone, Email: p.Email, Memo: p.Memo,
		Title: v.title, URL: v.url, Referrer: v.referrer, OSName: v.osName, Browser: v.browser, IP: v.ip,
		Skill: skill, Agent: agent,
	}
	switch err := s.Store.CreateSession(ctx, &sess); {
	case errors.Is(err, store.ErrConflict):
		// Another socket of this visitor opened it a moment ago.
		if sess, err = s.Store.OpenSession(ctx, v.site.AppID, v.userID); err != nil {
			return nil, unavailable("load session", err)
		}
		s.joinSession(ctx, sock, sess)
		return protocol.NewChatAck{OK: true, AgentServiceID: sess.ID}, nil
	case err != nil:
		return nil, unavailable("create session", err)
	}
	if p.Agent != "" {
		// Before routing hears of the session, so that it can tell how the invite ended.
		if err := s.Store.LinkInvite(ctx, v.site.AppID, v.userID, p.Agent, sess.ID); err != nil {
			return nil, unavailable("link invite", err)
		}
	}
	s.joinSession(ctx, sock, sess)
	if err := s.requestRouting(ctx, sess); err != nil {
		return nil, err
	}
	return protocol.NewChatAck{OK: true, AgentServiceID: sess.ID}, nil
}

func (s *Service) visitorMessage(ctx context.Context, sock *sio.Socket, p protocol.SendMessage) (any, error) {
	v := visitorOf(sock)
	sess, err := s.Store.OpenSession(ctx, v.site.AppID, v.userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, protocol.Errorf(protocol.CodeConflict, "no open chat: send `new` first")
	}
	if err != nil {
		return nil, unavailable("load session", err)
	}
	if p.Type == protocol.TypeWriting {
		s.visitorDraft(sess, v, p.Message)
		return protocol.OKAck{OK: true}, nil
	}
	if limit := textLimit(v.site); utf8.RuneCountInString(p.Message) > limit {
		return nil, protocol.Errorf(protocol.CodeTooLarge, "message is longer than %d characters", limit)
	}
	m := &store.Message{
		SessionID: sess.ID, ClientID: p.ClientID, Orgi: sess.Orgi, AppID: sess.AppID, USession: sess.UserID,
		Type: protocol.TypeMessage, MsgType: p.MsgType, CallType: protocol.CallTypeIn, Body: p.Message,
		AttachmentID: p.AttachmentID, UserID: v.userID, Username: v.nickname, Nickname: v.nickname, ToUser: sess.AgentNo,
	}
	if err := s.attach(ctx, m, sess, store.OwnerVisitor, v.userID); err != nil {
		return nil, err
	}
	return s.send(ctx, sess, m)
}

// visitorDraft forwards the visitor's draft to the agent, throttled per
// session, latest draft wins. With sneak peek off only the fact of typing
// travels.
func (s *Service) visitorDraft(sess store.Session, v *visitor, draft string) {
	if sess.AgentNo == "" {
		return
	}
	if !parseSiteConfig(v.site).SneakPeek {
		draft = ""
	}
	msg := protocol.ChatMessage{
		AgentServiceID: sess.ID, USession: sess.UserID, Type: protocol.TypeWriting, MsgType: protocol.MsgTypeText,
		CallType: protocol.CallTypeIn, Message: clip(draft, textLimit(v.site)), UserID: v.userID, Username: v.nickname,
		NickName: v.nickname, ToUser: sess.AgentNo, AppID: sess.AppID, CreateTime: protocol.Time(time.Now().UTC()),
	}
	// Supervisors watching the chat see the draft as its agent does.
	watched := protocol.Draft{AgentServiceID: sess.ID, From: "visitor", Message: msg.Message}
	s.drafts.Submit("v:"+sess.ID, func(ctx context.Context) {
		if err := s.Emit.ToAgent(ctx, sess.AgentNo, protocol.EventMessage, msg); err != nil {
			s.Logger.Debug("draft not delivered", "agentserviceid", sess.ID, "userid", v.userID, "err", err)
		}
		if err := s.Emit.ToMonitors(ctx, sess.Orgi, protocol.EventAuditWriting, mirrorOf(sess), watched); err != nil {
			s.Logger.Debug("draft not mirrored", "agentserviceid", sess.ID, "err", err)
		}
	})
}
