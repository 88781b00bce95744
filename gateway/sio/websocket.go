package sio

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/googollee/go-socket.io/engineio/frame"
	"github.com/googollee/go-socket.io/engineio/packet"
	"github.com/googollee/go-socket.io/engineio/transport"
	"github.com/gorilla/websocket"
)

const (
	// wsHeaderSlack is added to MaxPacketBytes for the websocket read limit:
	// a frame carries "42/<namespace>,<ack id>["<event>"," around the
	// argument, and an argument of exactly MaxPacketBytes must still get a
	// proper too_large answer rather than a closed connection.
	wsHeaderSlack = 1024
	// closeWriteWait bounds writing our close frame.
	closeWriteWait = time.Second
	// closeLockWait is how long Close waits for an active writer before it
	// concludes the client stopped reading. A healthy writer finishes in
	// microseconds; one blocked on a full TCP buffer would block for the
	// whole write deadline, and dropping the connection unblocks it.
	closeLockWait = 250 * time.Millisecond
	// closeGrace is how long a closing websocket waits for the client's
	// close frame before dropping the TCP connection. Closing a socket that
	// still has unread input makes the kernel send RST, and an RST can make
	// the client discard data it has received but not yet read — such as
	// the `refused` packet we just sent. The close handshake avoids that.
	closeGrace = 2 * time.Second
	// wsReadBuffer is each connection's own read buffer. Left at zero,
	// gorilla would keep the HTTP server's 4 KiB reader for the connection's
	// life; an idle connection needs only enough for a ping, and larger
	// frames are read through it in pieces.
	wsReadBuffer = 1024
)

var errServerOnly = errors.New("sio: transport is server-only")

// wsTransport implements the library's transport.Transport on gorilla/websocket.
// We use our own instead of the library's because that one has no read limit
// (one client could make us buffer an arbitrarily large frame) and because we
// need to observe what the library writes (see wire).
type wsTransport struct {
	srv       *Server
	upgrader  websocket.Upgrader
	readLimit int64
}

func newWSTransport(srv *Server, maxPacket int) *wsTransport {
	return &wsTransport{
		srv: srv,
		upgrader: websocket.Upgrader{
			// The caller's HTTP middleware checked the Origin before the
			// request reached us; checking again here would need a second
			// copy of that policy.
			CheckOrigin:    func(*http.Request) bool { return true },
			ReadBufferSize: wsReadBuffer,
			// Write buffers are needed only while a frame is written; pooled,
			// an idle connection holds none (otherwise it would keep the HTTP
			// server's 4 KiB writer).
			WriteBufferPool: &sync.Pool{},
		},
		readLimit: int64(maxPacket) + wsHeaderSlack,
	}
}

// Name implements transport.Transport.
func (t *wsTransport) Name() string { return "websocket" }

// Dial implements transport.Transport; we never act as a client.
func (t *wsTransport) Dial(*url.URL, http.Header) (transport.Conn, error) {
	return nil, errServerOnly
}

// Accept implements transport.Transport: upgrade the request and wrap it.
func (t *wsTransport) Accept(w http.ResponseWriter, r *http.Request) (transport.Conn, error) {
	wr, err := t.srv.attachWire(r, t.Name())
	if err != nil {
		return nil, err
	}
	ws, err := t.upgrader.Upgrade(w, r, w.Header())
	if err != nil {
		wr.abandon()
		return nil, err
	}
	ws.SetReadLimit(t.readLimit)
	c := newWSConn(t.srv, wr, ws, r)
	if !wr.addConn(c) {
		c.hardClose()
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

// wsConn implements transport.Conn. Frames are adapted to the shape the
// library's packet.Decoder/Encoder want, which add and strip the Engine.IO
// packet type byte; we only add locking, limits and observation.
type wsConn struct {
	srv    *Server
	wire   *wire
	ws     *websocket.Conn
	url    url.URL
	header http.Header

	dec *packet.Decoder
	enc *packet.Encoder

	// wlock serialises writers: the library writes from its write loop and
	// (pongs) its read loop, we write from each socket's drain goroutine, and
	// gorilla allows one writer at a time. The active writer holds its only
	// token from NextWriter until the writer is closed. A channel rather than
	// a sync.Mutex so that Close can wait for it with a time limit.
	wlock         chan struct{}
	writeDeadline atomic.Value // time.Time, applied when a writer starts

	closeOnce   sync.Once
	isClosed    atomic.Bool
	readFailed  atomic.Bool
	readLimited atomic.Bool // the client exceeded the read limit

	// frame reads the current incoming frame. One per connection, reused:
	// gorilla invalidates a frame's reader when the next one is taken.
	frame wsReader

	hardMu    sync.Mutex
	hardDone  bool
	hardTimer *time.Timer
}

func newWSConn(srv *Server, wr *wire, ws *websocket.Conn, r *http.Request) *wsConn {
	c := &wsConn{
		srv:    srv,
		wire:   wr,
		ws:     ws,
		url:    *r.URL,
		header: wr.header, // read-only, so one copy per connection is enough
		wlock:  make(chan struct{}, 1),
	}
	c.writeDeadline.Store(time.Time{})
	c.dec = packet.NewDecoder(wsFrames{c})
	c.enc = packet.NewEncoder(wsFrames{c})
	// The TCP connection is ours until hardClose; Run waits for it.
	srv.tasks.add()
	return c
}

// wsFrames adapts the gorilla connection to packet.FrameReader/FrameWriter.
type wsFrames struct{ c *wsConn }

func (f wsFrames) NextReader() (frame.Type, io.ReadCloser, error) {
	c := f.c
	typ, r, err := c.ws.NextReader()
	if err != nil {
		c.readError(err)
		return 0, nil, err
	}
	ft := frame.String
	if typ == websocket.BinaryMessage {
		ft = frame.Binary
	}
	// gorilla discards an unread remainder on the next NextReader, so Close
	// has nothing to do; read errors (e.g. the read limit) are noted.
	c.frame = wsReader{c: c, r: r}
	return ft, &c.frame, nil
}

func (f wsFrames) NextWriter(ft frame.Type) (io.WriteCloser, error) {
	c := f.c
	typ := websocket.TextMessage
	if ft == frame.Binary {
		typ = websocket.BinaryMessage
	}
	c.wlock <- struct{}{}
	if c.isClosed.Load() {
		<-c.wlock
		return nil, errWireDead
	}
	// SetWriteDeadline only stores a field in gorilla that its writers read,
	// so it may only change while we hold the writer lock.
	_ = c.ws.SetWriteDeadline(c.writeDeadline.Load().(time.Time))
	w, err := c.ws.NextWriter(typ)
	if err != nil {
		<-c.wlock
		return nil, err
	}
	return &wsWriter{w: w, c: c}, nil
}

// wsReader reads one frame. It is an io.ByteScanner so that the library's
// packet parser reads through it directly: for any other reader it allocates
// a 4 KiB bufio.Reader per packet, and keeps the last one while idle.
type wsReader struct {
	c        *wsConn
	r        io.Reader
	last     byte
	unread   bool // last is to be read again
	consumed bool // last holds a byte read
}

func (r *wsReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if r.unread {
		r.unread = false
		p[0] = r.last
		return 1, nil
	}
	n, err := r.r.Read(p)
	if n > 0 {
		r.last, r.consumed = p[n-1], true
	}
	if err != nil && err != io.EOF {
		r.c.readError(err)
	}
	return n, err
}

// ReadByte implements io.ByteReader.
func (r *wsReader) ReadByte() (byte, error) {
	var b [1]byte
	for {
		n, err := r.Read(b[:])
		if n == 1 {
			return b[0], nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// UnreadByte implements io.ByteScanner: the last byte read is read again.
func (r *wsReader) UnreadByte() error {
	if r.unread || !r.consumed {
		return errNoUnread
	}
	r.unread = true
	return nil
}

var errNoUnread = errors.New("sio: UnreadByte without a byte read")

func (r *wsReader) Close() error { return nil }

type wsWriter struct {
	w    io.WriteCloser
	c    *wsConn
	done bool
}

func (w *wsWriter) Write(p []byte) (int, error) { return w.w.Write(p) }

func (w *wsWriter) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	err := w.w.Close()
	<-w.c.wlock
	return err
}

// readError records that reading failed. Once the connection is closing, a
// read error (usually the client's close frame) ends the close handshake.
// Exceeding the read limit is special: gorilla has already sent close 1009
// and the oversized frame is still unread, so Close lingers to let the client
// read that close frame before the TCP connection goes.
func (c *wsConn) readError(err error) {
	if errors.Is(err, websocket.ErrReadLimit) {
		c.readLimited.Store(true)
	}
	c.readFailed.Store(true)
	if c.isClosed.Load() && !c.readLimited.Load() {
		c.hardClose()
	}
}

// NextReader implements transport.FrameReader.
func (c *wsConn) NextReader() (frame.Type, packet.Type, io.ReadCloser, error) {
	// Packets POSTed during the upgrade come first, but only once the
	// upgrade is complete: before that, the reader here is the library's
	// upgrade routine, which must see the client's UPGRADE packet.
	if c.wire.isUpgraded() {
		if in, ok := c.wire.takeInbound(); ok {
			return in.reader()
		}
	}
	ft, pt, r, err := c.dec.NextReader()
	if err == nil && pt == packet.UPGRADE {
		c.wire.markUpgraded()
	}
	return ft, pt, r, err
}

// NextWriter implements transport.FrameWriter.
func (c *wsConn) NextWriter(ft frame.Type, pt packet.Type) (io.WriteCloser, error) {
	switch pt {
	case packet.MESSAGE:
		c.wire.writerStarted()
	case packet.OPEN:
		c.wire.openStarted()
	}
	w, err := c.enc.NextWriter(ft, pt)
	if err != nil {
		if pt == packet.OPEN {
			c.wire.openFailed()
		}
		return nil, err
	}
	// w is our *wsWriter: closing it releases the writer token.
	return newObservedWriter(c.wire, pt, w, nil), nil
}

func (c *wsConn) URL() url.URL              { return c.url }
func (c *wsConn) LocalAddr() net.Addr       { return c.ws.LocalAddr() }
func (c *wsConn) RemoteAddr() net.Addr      { return c.ws.RemoteAddr() }
func (c *wsConn) RemoteHeader() http.Header { return c.header }

// SetReadDeadline implements transport.Conn. After Close the close
// handshake owns the read deadline, so later calls (the library extends it
// on every ping) are ignored.
func (c *wsConn) SetReadDeadline(t time.Time) error {
	if c.isClosed.Load() {
		return nil
	}
	return c.ws.SetReadDeadline(t)
}

// SetWriteDeadline implements transport.Conn. The deadline is applied when
// the next writer starts: waiting for the writer token here could stall the
// library's read loop behind a writer blocked on a slow client.
func (c *wsConn) SetWriteDeadline(t time.Time) error {
	c.writeDeadline.Store(t)
	return nil
}

// ServeHTTP implements the handler the library calls after the upgrade; it
// returns at once. The connection was hijacked, so the request's goroutine
// has nothing left to do, and waiting here would keep its stack and the HTTP
// server's buffers alive for as long as the connection.
func (c *wsConn) ServeHTTP(http.ResponseWriter, *http.Request) {}

// Close implements transport.Conn. It never blocks for long: if a writer is
// still stuck after closeLockWait, the client stopped reading and we drop
// the TCP connection (that also unblocks the writer); otherwise we send a
// close frame and give the client closeGrace to answer before dropping it.
func (c *wsConn) Close() error {
	c.closeOnce.Do(func() {
		c.isClosed.Store(true)
		c.wire.connClosed(c)

		if c.readFailed.Load() && !c.readLimited.Load() {
			// The client is gone (or broke the protocol): nobody to talk to.
			c.hardClose()
			return
		}
		if !c.lockWriter(closeLockWait) {
			c.hardClose()
			return
		}
		var err error
		if !c.readLimited.Load() {
			code := websocket.CloseNormalClosure
			if c.srv.isClosing() {
				code = websocket.CloseGoingAway
			}
			err = c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(code, ""), time.Now().Add(closeWriteWait))
		} // else gorilla has sent 1009 (message too big) already
		<-c.wlock
		if err != nil {
			c.hardClose()
			return
		}
		// Whoever is still reading gets the client's close frame (or this
		// deadline) as an error and calls readError → hardClose; the timer
		// covers the case where nobody reads any more.
		_ = c.ws.SetReadDeadline(time.Now().Add(closeGrace))
		c.hardMu.Lock()
		if !c.hardDone {
			c.hardTimer = time.AfterFunc(closeGrace, c.hardClose)
		}
		c.hardMu.Unlock()
	})
	return nil
}

// lockWriter takes the writer token, waiting at most d.
func (c *wsConn) lockWriter(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case c.wlock <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

// hardClose drops the TCP connection.
func (c *wsConn) hardClose() {
	c.hardMu.Lock()
	if c.hardDone {
		c.hardMu.Unlock()
		return
	}
	c.hardDone = true
	if c.hardTimer != nil {
		c.hardTimer.Stop()
	}
	c.hardMu.Unlock()
	_ = c.ws.Close()
	c.srv.tasks.done()
}
