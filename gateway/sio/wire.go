package sio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"

	socketio "github.com/googollee/go-socket.io"
	"github.com/googollee/go-socket.io/engineio"
	"github.com/googollee/go-socket.io/engineio/packet"
)

// errWireDead is returned to writers waiting on a session that has ended.
var errWireDead = errors.New("sio: engine.io session closed")

// transportConn is what a wire needs from our transport connections.
type transportConn interface {
	Close() error
}

// wire is our bookkeeping for one Engine.IO session (one client connection,
// whatever transports it uses over its life). The library keeps its session
// objects private; our transports sit underneath them, so they observe what the
// library writes and report it here. That gives us three things the library
// does not: the handshake request (query, headers, address), the moment a
// namespace CONNECT acknowledgement has gone out (so our own packets for that
// namespace are never written before it), and the moment the session dies.
type wire struct {
	srv *Server

	// Fixed at creation from the handshake request.
	url        url.URL
	header     http.Header
	remoteAddr string
	transport  string

	mu         sync.Mutex
	sid        string
	eio        engineio.Conn     // the library's session; nil until connInitor runs
	changed    chan struct{}     // closed and replaced whenever eio, acks or dead change
	acks       map[string]uint64 // CONNECT packets written, per library namespace key
	dispatched map[string]uint64 // library OnConnect calls, per library namespace key
	conns      map[transportConn]struct{}
	sockets    map[socketio.Conn]*Socket
	tomb       map[socketio.Conn]struct{} // disconnected before their OnConnect ran
	upgraded   bool                       // a websocket received the UPGRADE packet
	inbox      []inbound                  // POSTed during an upgrade, not yet read
	delivered  bool                       // the library started serving the session
	dead       bool
}

func newWire(srv *Server, r *http.Request, transport string) *wire {
	return &wire{
		srv:        srv,
		url:        *r.URL,
		header:     r.Header.Clone(),
		remoteAddr: r.RemoteAddr,
		transport:  transport,
		changed:    make(chan struct{}),
		acks:       make(map[string]uint64),
		dispatched: make(map[string]uint64),
		conns:      make(map[transportConn]struct{}),
		sockets:    make(map[socketio.Conn]*Socket),
		tomb:       make(map[socketio.Conn]struct{}),
	}
}

// signalLocked wakes everyone waiting in waitReady. w.mu must be held.
func (w *wire) signalLocked() {
	close(w.changed)
	w.changed = make(chan struct{})
}

// addConn registers an open transport connection of this session.
func (w *wire) addConn(c transportConn) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dead {
		return false
	}
	w.conns[c] = struct{}{}
	return true
}

// connClosed is called once per transport connection when it closes. The
// session is over when its last transport is gone: the library closes the
// old polling transport only after a successful upgrade and closes a failed
// upgrade's websocket on its own, so the count never touches zero in between.
func (w *wire) connClosed(c transportConn) {
	w.mu.Lock()
	delete(w.conns, c)
	last := len(w.conns) == 0
	w.mu.Unlock()
	if last {
		w.die()
	}
}

// abandon drops a wire whose transport failed to start.
func (w *wire) abandon() {
	w.mu.Lock()
	empty := len(w.conns) == 0
	w.mu.Unlock()
	if empty {
		w.die()
	}
}

// die marks the session dead and finishes the sockets still attached to it.
// The library normally reports the disconnect itself; this is the safety net
// for sessions it never served or paths where it does not call back.
func (w *wire) die() {
	w.mu.Lock()
	if w.dead {
		w.mu.Unlock()
		return
	}
	w.dead = true
	w.signalLocked()
	socks := make([]*Socket, 0, len(w.sockets))
	for _, s := range w.sockets {
		socks = append(socks, s)
	}
	sid := w.sid
	w.mu.Unlock()

	w.srv.forgetWire(w, sid)
	for _, s := range socks {
		s.finish(ReasonTransportClose)
	}
}

// closeTransports closes every transport connection of the session; the
// library notices and tears the session down.
func (w *wire) closeTransports() {
	w.mu.Lock()
	conns := make([]transportConn, 0, len(w.conns))
	for c := range w.conns {
		conns = append(conns, c)
	}
	w.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// setEIO records the library's session object, used for our own writes.
func (w *wire) setEIO(c engineio.Conn) {
	w.mu.Lock()
	w.eio = c
	w.signalLocked()
	w.mu.Unlock()
	w.bind(c.ID())
}

// bind associates the session id with this wire. It runs when the OPEN packet
// is written (before the library can deliver the session to its handlers) and
// again from connInitor; both carry the same id. Both register it with the
// server (registering is idempotent): if only the first did, the library
// could serve the session while that first caller was still between setting
// w.sid and registering, and the session would be unknown ("no session
// state"), closing about 1 in 1,000–10,000 websocket connects in a burst.
func (w *wire) bind(sid string) {
	if sid == "" {
		return
	}
	w.mu.Lock()
	if w.dead || (w.sid != "" && w.sid != sid) {
		w.mu.Unlock()
		return
	}
	w.sid = sid
	w.mu.Unlock()
	w.srv.bindWire(w, sid)
}

// writerStarted is called whenever a transport hands out a MESSAGE writer.
// The first one for a session comes from the library's serveConn, which only
// runs after the library accepted the session: from then on the library
// cannot send the session into its (soon to be closed) accept channel any
// more, which is what Run waits for before closing the library.
func (w *wire) writerStarted() {
	w.mu.Lock()
	first := !w.delivered
	if first {
		w.delivered = true
		w.signalLocked()
	}
	w.mu.Unlock()
	if first {
		w.srv.markDelivered(w)
	}
}

// waitDelivered waits until the library serves the session (or it died).
//
// The library answers the handshake before it registers the session in its
// own table, so a client quick enough to send its next request (the first
// poll, a POST, an upgrade) in between gets "invalid sid". Requests carrying
// a sid wait here first; the library is serving the session once its write
// loop asked for a writer, which comes after the registration.
func (w *wire) waitDelivered(ctx context.Context) {
	for {
		w.mu.Lock()
		if w.delivered || w.dead {
			w.mu.Unlock()
			return
		}
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// openStarted is called when a transport is asked for the OPEN packet's
// writer. Once that packet is out, the library hands the session to Serve
// through a channel that Run must not close before; we count the session
// as pending delivery from this moment, before the packet can go out, so
// Run cannot miss it.
func (w *wire) openStarted() {
	w.mu.Lock()
	delivered := w.delivered
	w.mu.Unlock()
	if !delivered {
		w.srv.markOpened(w)
	}
}

// openFailed is called when writing the OPEN packet failed: the library
// drops the session without delivering it.
func (w *wire) openFailed() { w.srv.markDelivered(w) }

// written is called after a transport finished writing one Engine.IO packet
// of type pt whose first bytes are head.
func (w *wire) written(pt packet.Type, head []byte) {
	switch pt {
	case packet.OPEN:
		var p struct {
			SID string `json:"sid"`
		}
		if err := json.Unmarshal(bytes.TrimSpace(head), &p); err == nil {
			w.bind(p.SID)
		}
	case packet.MESSAGE:
		if lib, ok := connectAckNamespace(head); ok {
			w.mu.Lock()
			w.acks[lib]++
			w.signalLocked()
			w.mu.Unlock()
		}
	}
}

// dispatch counts a library OnConnect call for a namespace. The library
// writes exactly one CONNECT acknowledgement after each such call returns,
// in call order, so the n-th dispatch is acknowledged by the n-th CONNECT
// packet written for that namespace.
func (w *wire) dispatch(lib string) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dispatched[lib]++
	return w.dispatched[lib]
}

// waitReady blocks until the k-th CONNECT acknowledgement for namespace lib
// has been written and the library's session object is known, and returns
// that session. Socket writes wait here so that nothing of ours reaches a
// client before the library told it the namespace is connected.
func (w *wire) waitReady(ctx context.Context, lib string, k uint64) (engineio.Conn, error) {
	for {
		w.mu.Lock()
		if w.dead {
			w.mu.Unlock()
			return nil, errWireDead
		}
		if w.eio != nil && w.acks[lib] >= k {
			eio := w.eio
			w.mu.Unlock()
			return eio, nil
		}
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// markUpgraded records that the client completed an upgrade: the library
// switches the session to the new transport right after reading that packet.
func (w *wire) markUpgraded() {
	w.mu.Lock()
	w.upgraded = true
	w.mu.Unlock()
}

// inject queues packets POSTed while the polling transport was paused for
// an upgrade; the session's read loop takes them (takeInbound) from
// whichever transport it reads next.
func (w *wire) inject(pkts []inbound) {
	w.mu.Lock()
	w.inbox = append(w.inbox, pkts...)
	w.mu.Unlock()
}

// takeInbound pops the oldest injected packet.
func (w *wire) takeInbound() (inbound, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.inbox) == 0 {
		return inbound{}, false
	}
	in := w.inbox[0]
	w.inbox = w.inbox[1:]
	return in, true
}

func (w *wire) isUpgraded() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.upgraded
}

// currentTransport asks the library's session which transport it uses now.
func (w *wire) currentTransport() string {
	w.mu.Lock()
	eio := w.eio
	w.mu.Unlock()
	// *session.Session exports Transport(); engineio.Conn just does not list it.
	if t, ok := eio.(interface{ Transport() string }); ok {
		return t.Transport()
	}
	return w.transport
}

// observedWriter wraps a transport's packet writer: it remembers the first
// bytes written and reports them to the wire once the packet is complete.
type observedWriter struct {
	io.WriteCloser
	wire    *wire
	pt      packet.Type
	head    []byte
	limit   int
	release func() // unlocks the transport's writer lock; may be nil
	closed  bool
}

// headLimit bounds how much of a packet we look at: enough for the OPEN
// packet's JSON and for "0/<namespace>," (namespaces are at most
// maxNamespaceLen bytes).
const headLimit = 512

func newObservedWriter(w *wire, pt packet.Type, inner io.WriteCloser, release func()) *observedWriter {
	return &observedWriter{WriteCloser: inner, wire: w, pt: pt, limit: headLimit, release: release}
}

func (o *observedWriter) Write(p []byte) (int, error) {
	if room := o.limit - len(o.head); room > 0 {
		o.head = append(o.head, p[:min(room, len(p))]...)
	}
	return o.WriteCloser.Write(p)
}

// ReadFrom makes io.Copy write through a small buffer: the library answers
// every ping by io.Copy into this writer, and io.Copy's own 32 KiB buffer
// per ping was most of an idle connection's garbage.
func (o *observedWriter) ReadFrom(r io.Reader) (int64, error) {
	var buf [128]byte
	var total int64
	for {
		n, err := r.Read(buf[:])
		if n > 0 {
			if _, werr := o.Write(buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func (o *observedWriter) Close() error {
	if o.closed {
		return nil
	}
	o.closed = true
	err := o.WriteCloser.Close()
	if err == nil {
		o.wire.written(o.pt, o.head)
	} else if o.pt == packet.OPEN {
		o.wire.openFailed()
	}
	if o.release != nil {
		o.release()
	}
	return err
}
