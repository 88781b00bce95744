// Package monitor serves supervisors' live view on /im/agent (the
// supervision half of design invariant I8): `monitor` opens the live
// picture of the supervisor's scope, `watch` one conversation with its
// history, and Deliver hands the mirrors published to a tenant's monitor
// room (protocol.MonitorRoom) to this node's supervisor sockets whose scope
// covers them — never to the chat's own agent.
//
// Order: a snapshot, or a watched chat's history, is sent while the socket
// holds live deliveries (sio.Socket.Hold); what arrived meanwhile follows
// it, without what the history already carried. So a supervisor sees the
// picture, then every later change, once and in order.
package monitor

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/kefu-im/kefu/gateway/ask"
	"github.com/kefu-im/kefu/gateway/chat"
	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/broker"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Store is what the monitor reads.
type Store interface {
	InServiceDetails(ctx context.Context, orgi string) ([]store.Session, error)
	LastMessages(ctx context.Context, sessionIDs []string) (map[string]store.Message, error)
	ServingReadSeqs(ctx context.Context, serving map[string]string) (map[string]int64, error)
	CountVisitorMessagesAfter(ctx context.Context, after map[string]int64) (map[string]int, error)
	ListSkills(ctx context.Context, orgi string) ([]store.SkillGroup, error)
	MonitorSamples(ctx context.Context, orgi string, since time.Time) ([]store.MonitorSample, error)
	GetSession(ctx context.Context, id string) (store.Session, error)
	ListMessages(ctx context.Context, sessionID string, afterSeq, beforeSeq int64, limit int) ([]store.Message, error)
	ListNotes(ctx context.Context, sessionID string) ([]store.SessionNote, error)
}

// Deps are a Hub's collaborators.
type Deps struct {
	Store  Store
	Access *access.Resolver
	// Ask reaches the routing service, which alone knows presence and
	// queue positions.
	Ask    ask.Asker
	NodeID string
	Logger *slog.Logger
}

// Hub holds this node's supervisor sockets.
type Hub struct {
	Deps

	mu   sync.Mutex
	subs map[string]map[*sio.Socket]*sub // tenant → its monitoring sockets here
}

// sub is one monitoring socket.
type sub struct {
	agent store.Agent // as it authenticated at connect
	grant access.Grant
	dir   *access.Directory // the grant was computed from it
	// watching: the chats opened in this socket, each with the highest seq
	// its history carried (a mirror at or below it is a repeat).
	watching map[string]int64
}

// New returns a Hub.
func New(d Deps) *Hub { return &Hub{Deps: d, subs: make(map[string]map[*sio.Socket]*sub)} }

// Register installs the supervisor events on the /im/agent namespace.
func (h *Hub) Register(srv *sio.Server) {
	ns := srv.Namespace(protocol.NamespaceAgent)
	chat.Handle(ns, protocol.EventMonitor, h.monitor)
	chat.Handle(ns, protocol.EventWatch, h.watch)
	ns.OnDisconnect(func(sock *sio.Socket, _ string) { h.drop(sock) })
}

// refreshEvery is how often the directories of monitored tenants are read
// again, so that grants follow admins' edits (access.DefaultTTL).
const refreshEvery = access.DefaultTTL

// Run keeps the monitored tenants' directories fresh until ctx ends:
// Deliver, on the broker's goroutine, must not wait for the store.
func (h *Hub) Run(ctx context.Context) error {
	tick := time.NewTicker(refreshEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			h.mu.Lock()
			orgis := make([]string, 0, len(h.subs))
			for orgi := range h.subs {
				orgis = append(orgis, orgi)
			}
			h.mu.Unlock()
			for _, orgi := range orgis {
				if _, err := h.Access.Directory(ctx, orgi); err != nil {
					h.Logger.WarnContext(ctx, "monitor: directory not refreshed; grants stay as they were", "orgi", orgi, "err", err)
				}
			}
		}
	}
}

func (h *Hub) add(orgi string, sock *sio.Socket, s *sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[orgi] == nil {
		h.subs[orgi] = make(map[*sio.Socket]*sub)
	}
	h.subs[orgi][sock] = s
}

func (h *Hub) drop(sock *sio.Socket) {
	orgi := chat.PrincipalOf(sock).Agent.Orgi
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs[orgi], sock)
	if len(h.subs[orgi]) == 0 {
		delete(h.subs, orgi)
	}
}

// lookup returns the socket's subscription, if it monitors.
func (h *Hub) lookup(sock *sio.Socket) *sub {
	orgi := chat.PrincipalOf(sock).Agent.Orgi
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.subs[orgi][sock]
}

// Deliver hands a tenant's mirror to the supervisor sockets here whose
// scope covers it. It never blocks: grants come from the directories Run
// keeps fresh.
func (h *Hub) Deliver(m broker.Message) {
	orgi := m.Room[len(protocol.MonitorRoom("")):]
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := h.subs[orgi]
	if len(subs) == 0 {
		return
	}
	var mir protocol.Mirror
	if err := json.Unmarshal(m.Data, &mir); err != nil {
		h.Logger.Warn("monitor: malformed mirror dropped", "event", m.Event, "err", err)
		return
	}
	dir, ok := h.Access.Cached(orgi)
	if !ok {
		return
	}
	switch m.Event {
	case protocol.EventMonitorAgents:
		h.deliverAgents(subs, dir, mir.Data)
		return
	case protocol.EventMonitorQueue:
		h.deliverQueue(subs, dir, mir.Data)
		return
	}
	c := dir.Chat(orgi, mir.Skill, mir.AgentNo)
	seq := int64(-1) // decoded on demand, for the watchers' repeats
	for sock, s := range subs {
		s.refresh(dir)
		if (mir.AgentNo != "" && s.agent.ID == mir.AgentNo) || !s.grant.Covers(c) {
			continue
		}
		floor, watched := s.watching[mir.Session]
		switch m.Event {
		case protocol.EventAuditWriting:
			if !watched {
				continue
			}
		case protocol.EventAuditMessage:
			if watched {
				if seq < 0 {
					seq = seqOf(mir.Data)
				}
				if seq <= floor {
					continue
				}
			}
		}
		sock.Deliver(m.Event, mir.Data)
	}
}

// refresh recomputes the grant when the directory was read again.
func (s *sub) refresh(dir *access.Directory) {
	if s.dir != dir {
		s.dir, s.grant = dir, dir.Grant(s.agent)
	}
}

func seqOf(data json.RawMessage) int64 {
	var m struct {
		Seq int64 `json:"seq"`
	}
	_ = json.Unmarshal(data, &m) // no seq: never a repeat
	return m.Seq
}

// deliverAgents sends each socket the changed agents of its scope.
func (h *Hub) deliverAgents(subs map[*sio.Socket]*sub, dir *access.Directory, data json.RawMessage) {
	var in protocol.MonitorAgents
	if err := json.Unmarshal(data, &in); err != nil {
		h.Logger.Warn("monitor: malformed agent rows dropped", "err", err)
		return
	}
	for sock, s := range subs {
		s.refresh(dir)
		out := protocol.MonitorAgents{Agents: scopeAgents(s.grant, dir, in.Agents)}
		if len(out.Agents) > 0 {
			deliverJSON(sock, protocol.EventMonitorAgents, out)
		}
	}
}

// deliverQueue sends each socket the queue of its scope.
func (h *Hub) deliverQueue(subs map[*sio.Socket]*sub, dir *access.Directory, data json.RawMessage) {
	var in protocol.MonitorQueue
	if err := json.Unmarshal(data, &in); err != nil {
		h.Logger.Warn("monitor: malformed queue dropped", "err", err)
		return
	}
	for sock, s := range subs {
		s.refresh(dir)
		deliverJSON(sock, protocol.EventMonitorQueue, scopeQueue(s.grant, dir, in))
	}
}

func deliverJSON(sock *sio.Socket, event string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	sock.Deliver(event, data)
}

// scopeAgents keeps the agents g covers.
func scopeAgents(g access.Grant, dir *access.Directory, rows []protocol.MonitorAgent) []protocol.MonitorAgent {
	out := make([]protocol.MonitorAgent, 0, len(rows))
	for _, a := range rows {
		if g.CoversAgent(dir.AgentGroups(a.ID)) {
			out = append(out, a)
		}
	}
	return out
}

// scopeQueue keeps the waiting visitors g covers, and their groups' counts.
func scopeQueue(g access.Grant, dir *access.Directory, q protocol.MonitorQueue) protocol.MonitorQueue {
	out := protocol.MonitorQueue{Groups: make(map[string]int), Queue: make([]protocol.QueueEntry, 0, len(q.Queue))}
	for k, n := range q.Groups {
		if g.Covers(dir.Chat(g.Orgi, k, "")) {
			out.Groups[k] = n
		}
	}
	for _, e := range q.Queue {
		if g.Covers(dir.Chat(g.Orgi, e.Skill, "")) {
			out.Queue = append(out.Queue, e)
		}
	}
	return out
}
