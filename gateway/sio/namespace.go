package sio

import (
	"context"
	"fmt"
	"sort"
	"sync"

	socketio "github.com/googollee/go-socket.io"
)

// libCloseMsg is the reason the library passes to OnDisconnect when the
// whole connection closes; a client's DISCONNECT packet passes its own
// (usually empty) argument instead.
const libCloseMsg = "client namespace disconnect"

// Namespace is a Socket.IO namespace such as "/im/user". Room membership is
// kept here rather than in the library: the library's rooms send one packet
// per room membership (so a socket in two rooms gets a namespace-wide
// broadcast twice) and its Emit blocks on slow clients.
type Namespace struct {
	srv  *Server
	name string // public name, "/" for the root
	lib  string // the library's key, "" for the root

	mu           sync.RWMutex
	exposed      bool // false for the root until Namespace("/") is called
	onConnect    func(ctx context.Context, s *Socket) error
	onDisconnect []func(s *Socket, reason string)
	sockets      map[*Socket]struct{}
	byConn       map[socketio.Conn]*Socket
	rooms        map[string]map[*Socket]struct{}
	open         int // sockets whose OnConnect succeeded and that are not finished
}

func newNamespace(srv *Server, name string) *Namespace {
	return &Namespace{
		srv:     srv,
		name:    name,
		lib:     libNamespace(name),
		sockets: make(map[*Socket]struct{}),
		byConn:  make(map[socketio.Conn]*Socket),
		rooms:   make(map[string]map[*Socket]struct{}),
	}
}

// Name returns the namespace's name.
func (n *Namespace) Name() string { return n.name }

// OnConnect sets the function that admits a new socket. It runs before the
// client is told it is connected, on the connection's read loop (so no event
// of that connection is processed meanwhile); the socket may Emit and Join.
// A non-nil error refuses the socket: the client gets `refused`
// {code, message} (protocol.AsError(err)) and is disconnected, nothing it
// was sent before reaches it, its events are ignored, and OnDisconnect is
// not called. ctx is the socket's context.
func (n *Namespace) OnConnect(f func(ctx context.Context, s *Socket) error) {
	n.mu.Lock()
	n.onConnect = f
	n.mu.Unlock()
}

// OnDisconnect adds a function called exactly once for every socket whose
// OnConnect succeeded, after its last handler returned; several run in the
// order they were added (the parts of a namespace each forget the socket).
// reason is one of the Reason* constants.
func (n *Namespace) OnDisconnect(f func(s *Socket, reason string)) {
	n.mu.Lock()
	n.onDisconnect = append(n.onDisconnect, f)
	n.mu.Unlock()
}

func (n *Namespace) callbacks() (func(context.Context, *Socket) error, []func(*Socket, string), bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.onConnect, n.onDisconnect, n.exposed
}

// libConnect is the library's OnConnect for this namespace. It always
// returns nil for a known session: an error makes the library drop the whole
// connection without telling the client why, which is what refusal avoids.
func (n *Namespace) libConnect(c socketio.Conn) error {
	w := n.srv.lookupWire(c.ID())
	if w == nil {
		// Cannot happen for sessions our transports created; closing the
		// connection is the only safe answer.
		return fmt.Errorf("sio: no session state for %q", c.ID())
	}
	k := w.dispatch(n.lib)
	if _, _, exposed := n.callbacks(); !exposed {
		return nil
	}

	w.mu.Lock()
	if _, dup := w.sockets[c]; dup || w.dead {
		// A repeated CONNECT for a namespace already connected: the library
		// reuses its connection object, and so do we.
		w.mu.Unlock()
		return nil
	}
	if _, gone := w.tomb[c]; gone {
		// The connection closed between the library registering the
		// namespace and calling us.
		delete(w.tomb, c)
		w.mu.Unlock()
		return nil
	}
	s := newSocket(n, w, c, k)
	w.sockets[c] = s
	w.mu.Unlock()

	n.add(s)
	if n.srv.isClosing() {
		s.finish(ReasonServerShutdown)
		return nil
	}
	s.runConnect()
	return nil
}

// libDisconnect is the library's OnDisconnect for this namespace.
func (n *Namespace) libDisconnect(c socketio.Conn, msg string) {
	w := n.srv.lookupWire(c.ID())
	if w == nil {
		return // the wire died and finished its sockets already
	}
	_, _, exposed := n.callbacks()
	w.mu.Lock()
	s := w.sockets[c]
	if s == nil {
		if exposed {
			w.tomb[c] = struct{}{}
		}
		w.mu.Unlock()
		return
	}
	w.mu.Unlock()
	reason := ReasonClientDisconnect
	if msg == libCloseMsg {
		reason = ReasonTransportClose
	}
	s.finish(reason)
}

// libError is the library's OnError for this namespace. Errors that matter
// also close the connection, which OnDisconnect reports; this is for logs.
func (n *Namespace) libError(c socketio.Conn, err error) {
	sid := ""
	if c != nil {
		sid = c.ID()
	}
	n.srv.log.Debug("sio: library error", "namespace", n.name, "sid", sid, "err", err)
}

func (n *Namespace) add(s *Socket) {
	n.mu.Lock()
	n.sockets[s] = struct{}{}
	n.byConn[s.conn] = s
	n.mu.Unlock()
}

// markOpen counts s as connected unless it already finished.
func (n *Namespace) markOpen(s *Socket) {
	n.mu.Lock()
	if _, ok := n.sockets[s]; ok && !s.counted {
		s.counted = true
		n.open++
	}
	n.mu.Unlock()
}

func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.sockets[s]; !ok {
		return
	}
	delete(n.sockets, s)
	if n.byConn[s.conn] == s {
		delete(n.byConn, s.conn)
	}
	for room := range s.rooms {
		n.leaveLocked(s, room)
	}
	if s.counted {
		s.counted = false
		n.open--
	}
}

func (n *Namespace) lookupConn(c socketio.Conn) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.byConn[c]
}

func (n *Namespace) join(s *Socket, room string) {
	if room == "" {
		return // "" means "the whole namespace" to EmitLocal
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.sockets[s]; !ok {
		return // finished sockets join nothing
	}
	members := n.rooms[room]
	if members == nil {
		members = make(map[*Socket]struct{})
		n.rooms[room] = members
	}
	members[s] = struct{}{}
	if s.rooms == nil {
		s.rooms = make(map[string]struct{})
	}
	s.rooms[room] = struct{}{}
}

func (n *Namespace) leave(s *Socket, room string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.leaveLocked(s, room)
}

func (n *Namespace) leaveLocked(s *Socket, room string) {
	delete(s.rooms, room)
	if members := n.rooms[room]; members != nil {
		delete(members, s)
		if len(members) == 0 {
			delete(n.rooms, room)
		}
	}
}

func (n *Namespace) roomsOf(s *Socket) []string {
	n.mu.RLock()
	out := make([]string, 0, len(s.rooms))
	for room := range s.rooms {
		out = append(out, room)
	}
	n.mu.RUnlock()
	sort.Strings(out)
	return out
}

// targets returns the sockets in room ("" = all), each once. The set is
// copied so that queueing happens outside the lock.
func (n *Namespace) targets(room string) []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	set := n.sockets
	if room != "" {
		set = n.rooms[room]
	}
	out := make([]*Socket, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	return out
}

func (n *Namespace) snapshot() []*Socket { return n.targets("") }
