package sio

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/googollee/go-socket.io/engineio/frame"
	"github.com/googollee/go-socket.io/engineio/packet"
	"github.com/googollee/go-socket.io/engineio/session"
	"github.com/googollee/go-socket.io/engineio/transport"
	"github.com/googollee/go-socket.io/engineio/transport/polling"
)

// pollTransport is the library's long-polling transport with a thin wrapper
// around its connections so that the wire sees what is written on them (see
// wire) and writers are serialised. Everything else — payload framing, JSONP,
// pausing for upgrades — is the library's.
type pollTransport struct {
	srv   *Server
	inner *polling.Transport
}

func newPollTransport(srv *Server) *pollTransport {
	// A fresh value rather than polling.Default, which is a package-level
	// variable shared with anything else in the process. CheckOrigin stays
	// nil: the caller's middleware does CORS.
	return &pollTransport{srv: srv, inner: &polling.Transport{}}
}

// Name implements transport.Transport.
func (t *pollTransport) Name() string { return t.inner.Name() }

// Dial implements transport.Transport; we never act as a client.
func (t *pollTransport) Dial(*url.URL, http.Header) (transport.Conn, error) {
	return nil, errServerOnly
}

// Accept implements transport.Transport.
func (t *pollTransport) Accept(w http.ResponseWriter, r *http.Request) (transport.Conn, error) {
	wr, err := t.srv.attachWire(r, t.Name())
	if err != nil {
		return nil, err
	}
	inner, err := t.inner.Accept(w, r)
	if err != nil {
		wr.abandon()
		return nil, err
	}
	c := &pollConn{Conn: inner, wire: wr}
	if !wr.addConn(c) {
		_ = inner.Close()
		return nil, errWireDead
	}
	if t.srv.isClosing() {
		// Shutdown may have closed the wire's transports just before we
		// added this one; it must not outlive them.
		_ = c.Close()
		return nil, errShuttingDown
	}
	return c, nil
}

// pollConn wraps the library's polling connection. It must keep exposing
// http.Handler (the engine serves GET/POST through it) and session.Pauser
// (the engine pauses polling while upgrading to websocket).
//
// It also papers over two races in the library's polling payload:
//   - Closing it while a writer is using a GET's response writer makes the
//     writer skip its completion signal, so that GET hangs until the write
//     deadline (the ping timeout) and then writes an error into a response
//     the writer already used. A writer can only be using a response while
//     a GET is in progress, so while both a writer and a GET are in
//     progress we postpone the close until one of them is done.
//   - After an upgrade the library closes this connection while its read
//     loop may still hold it from before the switch; the read then fails
//     with EOF and the library ends the (healthy, upgraded) session. After a
//     completed upgrade our errors say "temporary", which makes the library
//     retry on the new transport.
type pollConn struct {
	transport.Conn
	wire *wire

	// writeMu serialises writers (the library's write loop, its pongs and
	// our drains). It is held from NextWriter until the writer is closed.
	writeMu sync.Mutex

	mu       sync.Mutex
	writer   bool // a writer is between NextWriter and Close
	gets     int  // GET requests in progress
	closing  bool // Close was called
	closed   bool // the library's connection was closed
	isClosed atomic.Bool
	// paused is set while the library pauses this transport for an
	// upgrade; feeding counts POSTs inside the library, which Pause lets
	// finish first so that none of them meets the library's refusal.
	paused  bool
	feeding int
	fed     *sync.Cond // signalled when feeding drops
}

var (
	_ http.Handler   = (*pollConn)(nil)
	_ session.Pauser = (*pollConn)(nil)
)

// retryError is a payload.Error the library retries on.
type retryError struct{ err error }

func (e retryError) Error() string   { return e.err.Error() }
func (e retryError) Temporary() bool { return true }

// afterUpgrade turns errors of this closed connection into retries once the
// session moved to another transport.
func (c *pollConn) afterUpgrade(err error) error {
	if err != nil && c.isClosed.Load() && c.wire.isUpgraded() {
		return retryError{err}
	}
	return err
}

// NextReader implements transport.FrameReader.
func (c *pollConn) NextReader() (frame.Type, packet.Type, io.ReadCloser, error) {
	// While paused the library's read loop keeps retrying here; packets
	// POSTed meanwhile wait in the wire (see pollpost.go).
	if in, ok := c.wire.takeInbound(); ok {
		return in.reader()
	}
	ft, pt, r, err := c.Conn.NextReader()
	return ft, pt, r, c.afterUpgrade(err)
}

// NextWriter implements transport.FrameWriter.
func (c *pollConn) NextWriter(ft frame.Type, pt packet.Type) (io.WriteCloser, error) {
	switch pt {
	case packet.MESSAGE:
		c.wire.writerStarted()
	case packet.OPEN:
		c.wire.openStarted()
	}
	c.writeMu.Lock()
	c.setWriter(true)
	w, err := c.Conn.NextWriter(ft, pt)
	if err != nil {
		if pt == packet.OPEN {
			c.wire.openFailed()
		}
		c.writerDone()
		return nil, c.afterUpgrade(err)
	}
	return newObservedWriter(c.wire, pt, w, c.writerDone), nil
}

func (c *pollConn) setWriter(v bool) {
	c.mu.Lock()
	c.writer = v
	c.mu.Unlock()
}

// writerDone runs when a writer finished (or failed to start): it performs
// a close postponed for it and releases the writer lock.
func (c *pollConn) writerDone() {
	c.mu.Lock()
	c.writer = false
	closeNow := c.closeDueLocked()
	c.mu.Unlock()
	if closeNow {
		_ = c.Conn.Close()
	}
	c.writeMu.Unlock()
}

// closeDueLocked reports whether a requested close may happen now, and
// marks it done if so. c.mu must be held.
func (c *pollConn) closeDueLocked() bool {
	if !c.closing || c.closed || (c.writer && c.gets > 0) {
		return false
	}
	c.closed = true
	return true
}

// ServeHTTP forwards polling requests to the library's connection.
func (c *pollConn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, ok := c.Conn.(http.Handler)
	if !ok {
		http.Error(w, "transport cannot serve requests", http.StatusInternalServerError)
		return
	}
	if r.Method == http.MethodPost {
		c.servePost(h, w, r)
		return
	}
	if r.Method != http.MethodGet {
		h.ServeHTTP(w, r)
		return
	}
	c.mu.Lock()
	c.gets++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.gets--
		closeNow := c.closeDueLocked()
		c.mu.Unlock()
		if closeNow {
			_ = c.Conn.Close()
		}
	}()
	h.ServeHTTP(w, r)
}

// servePost checks a POST body, then feeds it to the library, or during an
// upgrade straight to the session's read loop (see pollpost.go).
func (c *pollConn) servePost(h http.Handler, w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read: "+err.Error(), http.StatusBadRequest)
		_ = c.Close()
		return
	}
	var pkts []string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		// Binary (octet-stream) payloads are left to the library: our clients
		// send none, and it parses them itself.
		if pkts, err = splitTextPayload(string(body)); err == nil {
			for _, p := range pkts {
				if err = checkPacket(p); err != nil {
					break
				}
			}
		}
		if err != nil {
			c.wire.srv.log.Debug("sio: malformed polling payload", "err", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			_ = c.Close()
			return
		}
	}
	c.mu.Lock()
	if c.paused && pkts != nil {
		c.mu.Unlock()
		in := make([]inbound, len(pkts))
		for i, p := range pkts {
			in[i] = newInbound(p)
		}
		c.wire.inject(in)
		_, _ = io.WriteString(w, "ok")
		return
	}
	c.feeding++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.feeding--
		c.fedCond().Broadcast()
		c.mu.Unlock()
	}()
	r.Body = io.NopCloser(bytes.NewReader(body))
	h.ServeHTTP(w, r)
}

// fedCond returns the condition variable for feeding. c.mu must be held.
func (c *pollConn) fedCond() *sync.Cond {
	if c.fed == nil {
		c.fed = sync.NewCond(&c.mu)
	}
	return c.fed
}

// Pause implements session.Pauser. POSTs already inside the library finish
// first (the library's own pause would wait for them anyway); later ones
// are delivered by servePost.
func (c *pollConn) Pause() {
	c.mu.Lock()
	c.paused = true
	for c.feeding > 0 {
		c.fedCond().Wait()
	}
	c.mu.Unlock()
	if p, ok := c.Conn.(session.Pauser); ok {
		p.Pause()
	}
}

// Resume implements session.Pauser.
func (c *pollConn) Resume() {
	if p, ok := c.Conn.(session.Pauser); ok {
		p.Resume()
	}
	c.mu.Lock()
	c.paused = false
	c.mu.Unlock()
}

// Close implements transport.Conn. See the type comment for why the
// library's connection may be closed a moment later.
func (c *pollConn) Close() error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return nil
	}
	c.closing = true
	c.isClosed.Store(true)
	closeNow := c.closeDueLocked()
	c.mu.Unlock()

	var err error
	if closeNow {
		err = c.Conn.Close()
	}
	c.wire.connClosed(c)
	return err
}
