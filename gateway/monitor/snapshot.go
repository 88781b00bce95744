package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kefu-im/kefu/gateway/ask"
	"github.com/kefu-im/kefu/gateway/chat"
	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// pictureWait bounds waiting for the routing service's picture; a routing
// takeover (a few seconds) answers `unavailable`, and the client retries.
const pictureWait = 3 * time.Second

// monitorQueue is how many packets may wait for a monitoring socket: about
// ten seconds of a busy scope's mirrors.
const monitorQueue = 8192

// historySpan is how much of the counters' history a snapshot carries.
const historySpan = time.Hour

// monitor starts (on) or stops the live picture for a socket.
func (h *Hub) monitor(ctx context.Context, sock *sio.Socket, req protocol.MonitorRequest) (any, error) {
	p := chat.PrincipalOf(sock)
	if !req.On {
		h.drop(sock)
		return protocol.OKAck{OK: true}, nil
	}
	dir, err := h.Access.Directory(ctx, p.Agent.Orgi)
	if err != nil {
		return nil, unavailable(err)
	}
	grant := dir.Grant(p.Agent)
	if !grant.Rights.Has(access.Read) {
		return nil, protocol.Errorf(protocol.CodeForbidden, "needs the read right of supervision")
	}
	// A whole scope's traffic, not one chat's: more room before the
	// socket counts as too slow, also while held.
	sock.SetQueueLimit(monitorQueue)
	// Held from before the picture is taken until it is sent: whatever
	// changes meanwhile follows it.
	sock.Hold()
	s := &sub{agent: p.Agent, grant: grant, dir: dir, watching: make(map[string]int64)}
	if old := h.lookup(sock); old != nil {
		s.watching = old.watching
	}
	h.add(p.Agent.Orgi, sock, s)
	snap, err := h.snapshot(ctx, p.Agent, grant, dir)
	if err != nil {
		h.drop(sock)
		sock.Release(keepAll)
		return nil, err
	}
	sock.Emit(protocol.EventMonitorSnapshot, snap)
	sock.Release(keepAll)
	return protocol.OKAck{OK: true}, nil
}

// snapshot is the scope's picture now.
func (h *Hub) snapshot(ctx context.Context, me store.Agent, g access.Grant, dir *access.Directory) (protocol.MonitorSnapshot, error) {
	var pic protocol.MonitorPicture
	err := h.Ask.Ask(ctx, command.Command{
		ID: store.NewID(), Kind: command.MonitorSnapshot, Orgi: me.Orgi, By: me.ID, Node: h.NodeID, At: time.Now().UTC(),
	}, pictureWait, &pic)
	switch {
	case errors.Is(err, ask.ErrLate):
		return protocol.MonitorSnapshot{}, protocol.Errorf(protocol.CodeUnavailable, "the routing service did not answer in time; retry")
	case err != nil:
		return protocol.MonitorSnapshot{}, unavailable(err)
	case !pic.OK:
		return protocol.MonitorSnapshot{}, pic.Error
	}
	snap := protocol.MonitorSnapshot{
		Rights: g.Rights.Names(), Tenant: g.Tenant, Agents: scopeAgents(g, dir, pic.Agents),
		Queue: scopeQueue(g, dir, pic.Queue), Counters: pic.Counters,
	}
	if snap.Chats, err = h.chats(ctx, me, g, dir, pic.Agents); err != nil {
		return protocol.MonitorSnapshot{}, unavailable(err)
	}
	groups, err := h.Store.ListSkills(ctx, me.Orgi)
	if err != nil {
		return protocol.MonitorSnapshot{}, unavailable(err)
	}
	snap.Skills = []protocol.SkillRef{}
	for _, gr := range groups {
		if !gr.Disabled && (g.Tenant || g.Groups[gr.ID]) {
			snap.Skills = append(snap.Skills, protocol.SkillRef{ID: gr.ID, Name: gr.Name, Parent: gr.ParentID})
		}
	}
	samples, err := h.Store.MonitorSamples(ctx, me.Orgi, time.Now().Add(-historySpan))
	if err != nil {
		return protocol.MonitorSnapshot{}, unavailable(err)
	}
	snap.History = make([]protocol.CounterSample, len(samples))
	for i, sm := range samples {
		snap.History[i] = protocol.CounterSample{At: protocol.Time(sm.At), Agents: sm.Agents, Busy: sm.Busy, Users: sm.Users, InQueue: sm.InQueue}
	}
	return snap, nil
}

// chats are the scope's conversations in service, with the latest message
// and how far their agents have read them; the caller's own are not
// mirrored to it, so they are not here either.
func (h *Hub) chats(ctx context.Context, me store.Agent, g access.Grant, dir *access.Directory, agents []protocol.MonitorAgent) ([]protocol.MonitorChat, error) {
	rows, err := h.Store.InServiceDetails(ctx, me.Orgi)
	if err != nil {
		return nil, err
	}
	rows = slices.DeleteFunc(rows, func(s store.Session) bool {
		return s.AgentNo == me.ID || !g.Covers(dir.Chat(s.Orgi, s.Skill, s.AgentNo))
	})
	ids := make([]string, len(rows))
	serving := make(map[string]string, len(rows))
	for i, s := range rows {
		ids[i], serving[s.ID] = s.ID, s.AgentNo
	}
	last, err := h.Store.LastMessages(ctx, ids)
	if err != nil {
		return nil, err
	}
	read, err := h.Store.ServingReadSeqs(ctx, serving)
	if err != nil {
		return nil, err
	}
	after := make(map[string]int64, len(rows))
	for _, s := range rows {
		after[s.ID] = read[s.ID]
	}
	unread, err := h.Store.CountVisitorMessagesAfter(ctx, after)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(agents))
	for _, a := range agents {
		names[a.ID] = a.Nickname
	}
	out := make([]protocol.MonitorChat, len(rows))
	for i, s := range rows {
		out[i] = protocol.MonitorChat{
			SessionSummary: s.Summary(), AgentName: names[s.AgentNo], ReadSeq: read[s.ID], Unread: unread[s.ID],
			LastSeq: s.LastSeq, Rating: s.SatisLevel,
		}
		if s.ServiceTime != nil {
			out[i].ServiceTime = protocol.Time(*s.ServiceTime)
		}
		if m, ok := last[s.ID]; ok {
			c := m.Chat()
			out[i].Last = &c
		}
	}
	return out, nil
}

// watchHistory is how many of a chat's latest messages a watch starts
// with; older ones page in over REST.
const watchHistory = 100

// watch opens (on) or closes one conversation in a monitoring socket: its
// latest messages and whispers, then its live mirrors (drafts included),
// with nothing missing and nothing twice.
func (h *Hub) watch(ctx context.Context, sock *sio.Socket, req protocol.WatchRequest) (any, error) {
	p := chat.PrincipalOf(sock)
	sess, err := h.Store.GetSession(ctx, req.AgentServiceID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sess.Orgi != p.Agent.Orgi) {
		return nil, protocol.Errorf(protocol.CodeNotFound, "no such session")
	}
	if err != nil {
		return nil, unavailable(err)
	}
	ok, err := h.Access.Can(ctx, p.Agent, access.Read, sess)
	if err != nil {
		return nil, unavailable(err)
	}
	if !ok {
		return nil, protocol.Errorf(protocol.CodeForbidden, "not in your supervision scope")
	}
	s := h.lookup(sock)
	if s == nil {
		return nil, protocol.Errorf(protocol.CodeConflict, "start the monitor first")
	}
	if !req.On {
		h.setWatch(s, sess.ID, -1)
		return protocol.OKAck{OK: true}, nil
	}
	sock.Hold()
	// Until the history's last seq is known, repeats are held and the
	// release below drops them.
	h.setWatch(s, sess.ID, 0)
	hist, err := h.history(ctx, sess.ID)
	if err != nil {
		h.setWatch(s, sess.ID, -1)
		sock.Release(keepAll)
		return nil, unavailable(err)
	}
	floor := int64(0)
	if n := len(hist.Messages); n > 0 {
		floor = hist.Messages[n-1].Seq
	}
	h.setWatch(s, sess.ID, floor)
	sock.Emit(protocol.EventAuditHistory, hist)
	sock.Release(func(event string, data json.RawMessage) bool {
		return event != protocol.EventAuditMessage || !isRepeat(data, sess.ID, floor)
	})
	return protocol.OKAck{OK: true}, nil
}

// setWatch sets a watched chat's floor; -1 stops watching it.
func (h *Hub) setWatch(s *sub, sessionID string, floor int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if floor < 0 {
		delete(s.watching, sessionID)
		return
	}
	s.watching[sessionID] = floor
}

func (h *Hub) history(ctx context.Context, sessionID string) (protocol.AuditHistory, error) {
	ms, err := h.Store.ListMessages(ctx, sessionID, store.Latest, 0, watchHistory)
	if err != nil {
		return protocol.AuditHistory{}, err
	}
	notes, err := h.Store.ListNotes(ctx, sessionID)
	if err != nil {
		return protocol.AuditHistory{}, err
	}
	out := protocol.AuditHistory{AgentServiceID: sessionID, Messages: make([]protocol.ChatMessage, len(ms)), Notes: make([]protocol.Note, len(notes))}
	for i, m := range ms {
		out.Messages[i] = m.Chat()
	}
	for i, n := range notes {
		out.Notes[i] = n.View()
	}
	return out, nil
}

// isRepeat reports whether a held audit_message belongs to the chat and is
// at or below what its history carried.
func isRepeat(data []byte, sessionID string, floor int64) bool {
	var m struct {
		Session string `json:"agentserviceid"`
		Seq     int64  `json:"seq"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return false
	}
	return m.Session == sessionID && m.Seq <= floor
}

func keepAll(string, json.RawMessage) bool { return true }

func unavailable(err error) error {
	return fmt.Errorf("monitor: %w", errors.Join(err, protocol.Errorf(protocol.CodeUnavailable, "service temporarily unavailable, retry")))
}
