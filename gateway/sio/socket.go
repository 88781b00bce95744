package sio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"sync"
	"time"

	socketio "github.com/googollee/go-socket.io"
	"github.com/googollee/go-socket.io/engineio"
	"github.com/googollee/go-socket.io/engineio/session"

	"github.com/kefu-im/kefu/pkg/protocol"
)

// Disconnect reasons passed to OnDisconnect.
const (
	// ReasonClientDisconnect: the client left the namespace (DISCONNECT packet).
	ReasonClientDisconnect = "client namespace disconnect"
	// ReasonTransportClose: the connection ended — the client went away,
	// stopped answering pings, or sent something the library rejects.
	ReasonTransportClose = "transport close"
	// ReasonTransportError: writing to the client failed.
	ReasonTransportError = "transport error"
	// ReasonServerDisconnect: Socket.Close was called.
	ReasonServerDisconnect = "server namespace disconnect"
	// ReasonSlowClient: more than Config.SendQueue packets were pending.
	ReasonSlowClient = "slow client"
	// ReasonServerShutdown: Run's context ended.
	ReasonServerShutdown = "server shutdown"
	// reasonRefused closes refused sockets; OnDisconnect never sees it.
	reasonRefused = "refused"
)

// refuseWait bounds how long a refused socket may take to receive
// `refused` before we drop it anyway (a polling client that stopped polling
// would otherwise hold the session until the ping timeout).
const refuseWait = 5 * time.Second

// Socket is one client connection to one namespace. All methods are safe for
// concurrent use.
type Socket struct {
	srv  *Server
	ns   *Namespace
	wire *wire
	conn socketio.Conn // the library's per-namespace connection
	id   string
	sid  string
	k    uint64 // which CONNECT acknowledgement of ns on this session is ours

	ctx    context.Context
	cancel context.CancelFunc

	// runMu is held while user code for this socket runs (OnConnect, event
	// handlers, OnDisconnect), so they never overlap and OnDisconnect comes
	// after the last handler.
	runMu sync.Mutex

	mu          sync.Mutex
	queue       []outPacket
	backlog     int  // leading queue entries queued before OnConnect returned
	draining    bool // a drain goroutine is running
	accepted    bool // OnConnect returned nil
	refused     bool
	finished    bool
	refuseTimer *time.Timer
	holding     bool         // live deliveries wait in held (see Hold)
	held        []heldPacket // live deliveries that arrived while holding
	queueLimit  int          // 0: Config.SendQueue (see SetQueueLimit)

	dataMu sync.Mutex
	data   map[string]any

	// Guarded by ns.mu.
	rooms   map[string]struct{}
	counted bool
}

type heldPacket struct {
	event string
	data  json.RawMessage
	pkt   []byte
}

type outPacket struct {
	data       []byte
	closeAfter bool // close the connection once this packet is written
	closeOnly  bool // no packet: close the connection when the drain gets here
}

func newSocket(ns *Namespace, w *wire, c socketio.Conn, k uint64) *Socket {
	ctx, cancel := context.WithCancel(ns.srv.base)
	sid := c.ID()
	return &Socket{
		srv:    ns.srv,
		ns:     ns,
		wire:   w,
		conn:   c,
		id:     sid + "#" + ns.name,
		sid:    sid,
		k:      k,
		ctx:    ctx,
		cancel: cancel,
	}
}

// ID is unique across the cluster: the session id (which embeds the node
// id) plus the namespace.
func (s *Socket) ID() string { return s.id }

// SessionID returns the Engine.IO session id.
func (s *Socket) SessionID() string { return s.sid }

// Namespace returns the namespace name, e.g. "/im/user".
func (s *Socket) Namespace() string { return s.ns.name }

// Query returns the query parameters of the Engine.IO handshake request
// (socket.io-client 2's `query` option). The result is a copy.
func (s *Socket) Query() url.Values {
	return s.wire.url.Query()
}

// Header returns the headers of the Engine.IO handshake request (a copy).
func (s *Socket) Header() http.Header { return s.wire.header.Clone() }

// RemoteAddr returns the handshake request's RemoteAddr.
func (s *Socket) RemoteAddr() string { return s.wire.remoteAddr }

// Transport returns "polling" or "websocket" (after an upgrade, the latter).
func (s *Socket) Transport() string { return s.wire.currentTransport() }

// Context is cancelled when the socket disconnects.
func (s *Socket) Context() context.Context { return s.ctx }

// Set stores per-socket data.
func (s *Socket) Set(key string, v any) {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	if s.data == nil {
		s.data = make(map[string]any)
	}
	s.data[key] = v
}

// Get returns per-socket data stored with Set, or nil.
func (s *Socket) Get(key string) any {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	return s.data[key]
}

// Join adds the socket to a room of its namespace. No-op once disconnected.
func (s *Socket) Join(room string) { s.ns.join(s, room) }

// Leave removes the socket from a room.
func (s *Socket) Leave(room string) { s.ns.leave(s, room) }

// Rooms returns the rooms the socket is in, sorted.
func (s *Socket) Rooms() []string { return s.ns.roomsOf(s) }

// Emit queues event with v as its argument and never blocks. v is marshalled
// now (a json.RawMessage is sent as is). Packets go out in Emit order, after
// the client was told the namespace is connected. If more than
// Config.SendQueue packets are pending the client is too slow and the socket
// is closed; packets queued during OnConnect (a replay) do not count, since
// none can be written before OnConnect returns. Emit after close (or after a
// refusal) does nothing.
func (s *Socket) Emit(event string, v any) {
	var data json.RawMessage
	if raw, ok := v.(json.RawMessage); ok {
		data = raw
	} else {
		b, err := json.Marshal(v)
		if err != nil {
			s.srv.log.Error("sio: Emit: cannot marshal", "socket", s.id, "event", event, "err", err)
			return
		}
		data = b
	}
	pkt, err := encodeEvent(s.ns.lib, event, data)
	if err != nil {
		s.srv.log.Error("sio: Emit dropped", "socket", s.id, "event", event, "err", err)
		return
	}
	s.enqueue(pkt)
}

// Close disconnects the client. The library cannot leave a single namespace
// from the server side, so this closes the client's whole connection
// (clients use one connection per namespace). OnDisconnect gets
// ReasonServerDisconnect.
func (s *Socket) Close() { s.closeConn(ReasonServerDisconnect) }

// SetQueueLimit raises (or lowers) how many packets may wait for this
// socket, queued or held, before it counts as too slow (default
// Config.SendQueue): a socket that takes a whole tenant's traffic (a
// supervisor's monitor) needs more room than one chat's.
func (s *Socket) SetQueueLimit(n int) {
	s.mu.Lock()
	s.queueLimit = n
	s.mu.Unlock()
}

func (s *Socket) limitLocked() int {
	if s.queueLimit > 0 {
		return s.queueLimit
	}
	return s.srv.cfg.SendQueue
}

// Hold makes live deliveries (EmitLocal) wait, in arrival order, until
// Release, while Emit goes straight out. A caller that joins a room and then
// replays history from storage uses it so that live traffic arriving during
// the replay neither overtakes it nor repeats what it carried.
func (s *Socket) Hold() {
	s.mu.Lock()
	s.holding = true
	s.mu.Unlock()
}

// Release queues the held deliveries that keep accepts, in arrival order,
// and ends the hold. keep must not call back into the socket.
func (s *Socket) Release(keep func(event string, data json.RawMessage) bool) {
	s.mu.Lock()
	held := s.held
	s.held, s.holding = nil, false
	for _, h := range held {
		if keep(h.event, h.data) {
			// Under s.mu so that no live delivery slips in between.
			s.queue = append(s.queue, outPacket{data: h.pkt})
			if !s.accepted {
				s.backlog++
			}
		}
	}
	if s.finished || s.refused {
		s.queue = nil
	}
	start := len(s.queue) > 0 && s.startDrainLocked()
	s.mu.Unlock()
	if start {
		s.srv.tasks.goFunc(s.drain)
	}
}

// Deliver queues event as a live delivery, as EmitLocal does for a room: it
// waits while the socket is held (see Hold), where Emit would not. For
// fan-out that picks its sockets one by one (supervisors' mirrors). It
// reports whether the delivery was queued or held.
func (s *Socket) Deliver(event string, data json.RawMessage) bool {
	pkt, err := encodeEvent(s.ns.lib, event, data)
	if err != nil {
		s.srv.log.Error("sio: Deliver dropped", "socket", s.id, "event", event, "err", err)
		return false
	}
	return s.deliverLive(event, data, pkt)
}

// deliverLive queues a live delivery, or holds it (see Hold).
func (s *Socket) deliverLive(event string, data json.RawMessage, pkt []byte) bool {
	s.mu.Lock()
	if s.holding && !s.finished && !s.refused {
		if len(s.held) >= s.limitLocked() {
			s.mu.Unlock()
			s.srv.log.Warn("sio: too much held for a socket, disconnecting", "socket", s.id)
			s.closeConn(ReasonSlowClient)
			return false
		}
		s.held = append(s.held, heldPacket{event: event, data: data, pkt: pkt})
		s.mu.Unlock()
		return true
	}
	s.mu.Unlock()
	return s.enqueue(pkt)
}

// closeWhenSent closes the connection once everything queued before it has
// been written (e.g. `leave`, then goodbye).
func (s *Socket) closeWhenSent() {
	s.mu.Lock()
	if s.finished || s.refused {
		s.mu.Unlock()
		return
	}
	s.queue = append(s.queue, outPacket{closeOnly: true})
	start := s.startDrainLocked()
	s.mu.Unlock()
	if start {
		s.srv.tasks.goFunc(s.drain)
	}
}

// enqueue queues one encoded packet; false if the socket does not take it.
func (s *Socket) enqueue(pkt []byte) bool {
	s.mu.Lock()
	if s.finished || s.refused {
		s.mu.Unlock()
		return false
	}
	if !s.accepted {
		// Still in OnConnect: nothing can be written before the connect
		// acknowledgement, so a long replay must not count as a slow client.
		s.backlog++
	} else if limit := s.limitLocked(); len(s.queue)-s.backlog >= limit {
		s.mu.Unlock()
		s.srv.log.Warn("sio: client too slow, disconnecting", "socket", s.id, "pending", limit)
		s.closeConn(ReasonSlowClient)
		return false
	}
	s.queue = append(s.queue, outPacket{data: pkt})
	start := s.startDrainLocked()
	s.mu.Unlock()
	if start {
		s.srv.tasks.goFunc(s.drain)
	}
	return true
}

// startDrainLocked reports whether the caller must start a drain goroutine.
// A socket has one only while it has something to send, rather than a
// permanent writer goroutine per connection.
func (s *Socket) startDrainLocked() bool {
	if s.draining {
		return false
	}
	s.draining = true
	return true
}

// drain writes queued packets in order until the queue is empty. It writes
// straight to the library's session, bypassing the library's unbuffered
// write channel, and blocks only itself when the client is slow.
func (s *Socket) drain() {
	eio, err := s.wire.waitReady(s.ctx, s.ns.lib, s.k)
	if err != nil {
		s.mu.Lock()
		s.draining = false
		s.mu.Unlock()
		return
	}
	for {
		s.mu.Lock()
		if s.finished || len(s.queue) == 0 {
			s.draining = false
			s.mu.Unlock()
			return
		}
		p := s.queue[0]
		s.queue[0] = outPacket{}
		s.queue = s.queue[1:]
		if s.backlog > 0 {
			s.backlog--
		}
		s.mu.Unlock()

		if p.closeOnly {
			s.closeConn(ReasonServerDisconnect)
			continue // the loop ends on finished
		}
		if err := writePacket(eio, p.data); err != nil {
			s.srv.log.Debug("sio: write failed", "socket", s.id, "err", err)
			s.closeConn(ReasonTransportError)
			continue // the loop ends on finished
		}
		if p.closeAfter {
			// The refusal has been handed to the transport: for polling it
			// is in a GET response already, for websocket in the TCP
			// stream, and our websocket Close does a close handshake so it
			// is not lost to a reset. Only now may the connection go.
			s.closeConn(reasonRefused)
		}
	}
}

func writePacket(eio engineio.Conn, p []byte) error {
	w, err := eio.NextWriter(session.TEXT)
	if err != nil {
		return fmt.Errorf("sio: next writer: %w", err)
	}
	if _, err := w.Write(p); err != nil {
		_ = w.Close()
		return fmt.Errorf("sio: write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("sio: flush: %w", err)
	}
	return nil
}

// closeConn finishes the socket and closes the client's connection in the
// background: closing can wait on the transport (an upgrade in progress, a
// websocket close frame), and Close and Emit must not block.
func (s *Socket) closeConn(reason string) {
	if !s.finish(reason) {
		return
	}
	s.srv.tasks.goFunc(func() { _ = s.conn.Close() })
}

// finish ends the socket once: no more packets or events, context
// cancelled, out of its namespace and rooms, OnDisconnect scheduled. It
// reports whether this call did it.
func (s *Socket) finish(reason string) bool {
	s.mu.Lock()
	if s.finished {
		s.mu.Unlock()
		return false
	}
	s.finished = true
	s.queue = nil
	s.held = nil
	s.backlog = 0
	timer := s.refuseTimer
	s.refuseTimer = nil
	s.mu.Unlock()

	if timer != nil {
		timer.Stop()
	}
	s.cancel()
	s.ns.remove(s)
	s.wire.mu.Lock()
	if s.wire.sockets[s.conn] == s {
		delete(s.wire.sockets, s.conn)
	}
	s.wire.mu.Unlock()
	// In a goroutine because finish runs inside library callbacks, inside
	// Emit and possibly inside a handler of this very socket, none of which
	// may wait for runMu.
	s.srv.tasks.goFunc(func() { s.finalize(reason) })
	return true
}

func (s *Socket) finalize(reason string) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	s.mu.Lock()
	accepted := s.accepted
	s.mu.Unlock()
	_, onDisconnect, _ := s.ns.callbacks()
	if !accepted {
		return
	}
	for _, f := range onDisconnect {
		s.disconnected(f, reason)
	}
}

// disconnected runs one OnDisconnect function; a panic in one does not keep
// the others from running.
func (s *Socket) disconnected(f func(*Socket, string), reason string) {
	defer func() {
		if r := recover(); r != nil {
			s.srv.log.Error("sio: OnDisconnect panicked", "socket", s.id, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	f(s, reason)
}

// runConnect runs OnConnect and then accepts or refuses the socket.
func (s *Socket) runConnect() {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	onConnect, _, _ := s.ns.callbacks()
	var err error
	if onConnect != nil {
		err = s.callConnect(onConnect)
	}
	if err != nil {
		s.refuse(err)
		return
	}
	s.mu.Lock()
	// Set even if the socket finished meanwhile: OnConnect succeeded, so
	// OnDisconnect is owed.
	s.accepted = true
	s.mu.Unlock()
	s.ns.markOpen(s)
}

func (s *Socket) callConnect(f func(context.Context, *Socket) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.srv.log.Error("sio: OnConnect panicked", "socket", s.id, "panic", r, "stack", string(debug.Stack()))
			err = protocol.Errorf(protocol.CodeInternal, "internal error")
		}
	}()
	return f(s.ctx, s)
}

// refuse replaces whatever OnConnect queued with a single `refused` packet;
// the drain closes the connection once that packet is written. The drain
// also waits, like every write of ours, until the library's CONNECT
// acknowledgement is out: socket.io-client 2 ignores events of a namespace
// it has not seen connect.
func (s *Socket) refuse(err error) {
	pe := protocol.AsError(err)
	var known *protocol.Error
	if !errors.As(err, &known) {
		s.srv.log.Error("sio: OnConnect failed", "socket", s.id, "err", err)
	} else {
		s.srv.log.Debug("sio: socket refused", "socket", s.id, "code", pe.Code, "message", pe.Message)
	}
	payload, mErr := json.Marshal(pe)
	var pkt []byte
	if mErr == nil {
		pkt, mErr = encodeEvent(s.ns.lib, protocol.EventRefused, payload)
	}
	if mErr != nil {
		s.srv.log.Error("sio: cannot encode refusal", "socket", s.id, "err", mErr)
		s.closeConn(reasonRefused)
		return
	}

	s.mu.Lock()
	if s.finished {
		s.mu.Unlock()
		return
	}
	s.refused = true
	s.queue = []outPacket{{data: pkt, closeAfter: true}}
	s.backlog = 0
	s.refuseTimer = time.AfterFunc(refuseWait, func() { s.closeConn(reasonRefused) })
	start := s.startDrainLocked()
	s.mu.Unlock()
	if start {
		s.srv.tasks.goFunc(s.drain)
	}
}

// isOpen reports whether events should reach handlers.
func (s *Socket) isOpen() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted && !s.refused && !s.finished
}
