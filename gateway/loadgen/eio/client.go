// Package eio is a minimal Engine.IO 3 / Socket.IO 2 client, the protocol
// of socket.io-client 2.x, written for the load generator: no maintained Go
// client speaks that version. It connects one namespace per connection
// (as Kefu's clients do), over websocket or long-polling (no upgrade),
// sends events with or without acknowledgements, receives events, and
// pings as the protocol wants the client to. It works against Kefu's
// gateway (gateway/sio) and against socket.io 4 servers with allowEIO3.
//
// Not supported: binary packets, upgrades from polling to websocket,
// reconnection, acknowledgements the server asks of the client.
package eio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Transports.
const (
	Websocket = "websocket"
	Polling   = "polling"
)

// Errors a connection ends with (see Client.Err).
var (
	ErrClosed       = errors.New("eio: client closed")
	ErrServerClosed = errors.New("eio: server closed the connection")
	ErrDisconnected = errors.New("eio: server disconnected the namespace")
	ErrPingTimeout  = errors.New("eio: no pong within the ping timeout")
)

// ConnectError is a Socket.IO ERROR packet answering the namespace CONNECT.
type ConnectError struct{ Data string }

func (e *ConnectError) Error() string { return "eio: connect refused: " + e.Data }

// Config configures a connection.
type Config struct {
	// URL is the server's base URL, e.g. "http://127.0.0.1:8081".
	URL string
	// Path is the Engine.IO path; default "/socket.io/".
	Path string
	// Namespace to connect, e.g. "/im/user"; "" or "/" is the root.
	Namespace string
	// Query goes into the handshake URL (socket.io-client 2's `query`),
	// where Kefu's gateway reads connect parameters.
	Query url.Values
	// Transport is Websocket (default) or Polling.
	Transport string
	// HTTPClient makes the polling requests. Required for Polling; it should
	// keep many idle connections per host (each polling client holds one
	// GET open and POSTs beside it).
	HTTPClient *http.Client
	// Dialer opens websockets; nil means a default one.
	Dialer *websocket.Dialer
	// OnEvent is called for every event the server sends to the namespace,
	// one at a time in arrival order, on the connection's reader goroutine:
	// it must not block for long and must not call Close. arg is the first
	// argument (nil if none); it is not retained by the client.
	OnEvent func(event string, arg json.RawMessage)
	// WriteTimeout bounds one websocket write or polling POST; default 10 s.
	WriteTimeout time.Duration
}

// Client is one Engine.IO session connected to one namespace. Its methods
// are safe for concurrent use.
type Client struct {
	cfg  Config
	nsp  string // as written in packets: "" for the root
	base string // handshake URL without transport and sid
	sid  string

	pingInterval, pingTimeout time.Duration

	ctx    context.Context // ends when the client does
	cancel context.CancelFunc
	wg     sync.WaitGroup // reader and polling writer goroutines

	ws  *websocket.Conn // nil for polling
	wmu sync.Mutex      // serialises websocket writes

	pmu      sync.Mutex // polling send queue
	outq     []string
	posting  bool          // a flush goroutine is running
	pflushed chan struct{} // closed when that flush goroutine ends
	pclosed  bool

	amu    sync.Mutex // acknowledgements
	nextID int64
	acks   map[int64]func(json.RawMessage, error)
	aclose bool

	connected chan struct{} // closed by the namespace CONNECT acknowledgement
	connOnce  sync.Once

	done    chan struct{} // closed when the client ended
	endOnce sync.Once
	err     error // why it ended; set before done is closed

	closing atomic.Bool // Close was called: whatever ends the client now, it is ErrClosed

	pingMu   sync.Mutex
	pingT    *time.Timer
	pingSent time.Time
	pongDue  bool
	pongs    int64
}

// Dial opens a connection and connects the namespace. It returns once the
// server acknowledged the namespace CONNECT, or fails when ctx ends first.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Path == "" {
		cfg.Path = "/socket.io/"
	}
	if cfg.Transport == "" {
		cfg.Transport = Websocket
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	nsp := cfg.Namespace
	if nsp == "/" {
		nsp = ""
	}
	if nsp != "" && !strings.HasPrefix(nsp, "/") {
		return nil, fmt.Errorf("eio: namespace %q must start with /", nsp)
	}
	q := url.Values{}
	for k, v := range cfg.Query {
		q[k] = v
	}
	q.Set("EIO", "3")
	base := strings.TrimRight(cfg.URL, "/") + cfg.Path + "?" + q.Encode()

	cctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		cfg:       cfg,
		nsp:       nsp,
		base:      base,
		ctx:       cctx,
		cancel:    cancel,
		acks:      make(map[int64]func(json.RawMessage, error)),
		connected: make(chan struct{}),
		done:      make(chan struct{}),
	}
	var err error
	switch cfg.Transport {
	case Websocket:
		err = c.openWebsocket(ctx)
	case Polling:
		if cfg.HTTPClient == nil {
			err = errors.New("eio: polling needs Config.HTTPClient")
		} else {
			err = c.openPolling(ctx)
		}
	default:
		err = fmt.Errorf("eio: unknown transport %q", cfg.Transport)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	// The server connects the root namespace by itself ("40"); any other
	// one is asked for.
	if nsp != "" {
		c.send(string([]byte{eioMessage, sioConnect}) + nsp)
	}
	select {
	case <-c.connected:
	case <-c.done:
		c.wg.Wait()
		return nil, c.err
	case <-ctx.Done():
		c.end(fmt.Errorf("eio: connect %s: %w", nsp, ctx.Err()))
		c.wg.Wait()
		return nil, c.err
	}
	c.schedulePing()
	return c, nil
}

// SID returns the Engine.IO session id.
func (c *Client) SID() string { return c.sid }

// Transport returns the transport in use.
func (c *Client) Transport() string { return c.cfg.Transport }

// Done is closed when the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err says why the connection ended; nil while it is up.
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Pongs returns how many pongs the server has sent.
func (c *Client) Pongs() int64 {
	c.pingMu.Lock()
	defer c.pingMu.Unlock()
	return c.pongs
}

// Emit sends an event without asking for an acknowledgement. arg is
// marshalled as JSON (a json.RawMessage is sent as is); nil sends no
// argument.
func (c *Client) Emit(event string, arg any) error {
	raw, err := marshalArg(arg)
	if err != nil {
		return err
	}
	if err := c.Err(); err != nil {
		return err
	}
	c.send(encodeEvent(c.nsp, -1, event, raw))
	return nil
}

// EmitAsync sends an event asking for an acknowledgement and returns
// without waiting. If it returns nil, done is called exactly once: with
// the acknowledgement's first argument, or with the error the connection
// ended with. done runs on the reader goroutine (or the one ending the
// connection) and must not block or call Close. On error done is never
// called.
func (c *Client) EmitAsync(event string, arg any, done func(json.RawMessage, error)) error {
	raw, err := marshalArg(arg)
	if err != nil {
		return err
	}
	c.amu.Lock()
	if c.aclose {
		c.amu.Unlock()
		return c.err
	}
	id := c.nextID
	c.nextID++
	c.acks[id] = done
	c.amu.Unlock()
	c.send(encodeEvent(c.nsp, id, event, raw))
	return nil
}

// Call sends an event and waits for its acknowledgement's first argument.
func (c *Client) Call(ctx context.Context, event string, arg any) (json.RawMessage, error) {
	type result struct {
		ack json.RawMessage
		err error
	}
	ch := make(chan result, 1)
	if err := c.EmitAsync(event, arg, func(ack json.RawMessage, err error) {
		// The client does not retain ack; copy it for the caller.
		ch <- result{append(json.RawMessage(nil), ack...), err}
	}); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r.ack, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("eio: %s: no acknowledgement: %w", event, ctx.Err())
	}
}

// Close ends the connection (telling the server, best effort) and waits
// for the client's goroutines. It must not be called from OnEvent or an
// acknowledgement callback.
func (c *Client) Close() error {
	if c.closing.Swap(true) {
		c.wg.Wait()
		return nil
	}
	if c.Err() == nil {
		if c.ws != nil {
			c.wmu.Lock()
			_ = c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			c.wmu.Unlock()
		} else {
			c.postClose()
		}
	}
	c.end(ErrClosed)
	c.wg.Wait()
	return nil
}

func marshalArg(arg any) (json.RawMessage, error) {
	switch a := arg.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		if !json.Valid(a) {
			return nil, errors.New("eio: argument is not valid JSON")
		}
		return a, nil
	default:
		b, err := json.Marshal(arg)
		if err != nil {
			return nil, fmt.Errorf("eio: marshal argument: %w", err)
		}
		return b, nil
	}
}

// end finishes the client once: records why, stops everything, and fails
// the acknowledgements still awaited.
func (c *Client) end(err error) {
	c.endOnce.Do(func() {
		if c.closing.Load() {
			err = ErrClosed
		}
		c.err = err
		close(c.done)
		c.cancel()
		if c.ws != nil {
			_ = c.ws.Close()
		}
		c.pmu.Lock()
		c.pclosed = true
		c.outq = nil
		c.pmu.Unlock()
		c.pingMu.Lock()
		if c.pingT != nil {
			c.pingT.Stop()
		}
		c.pingMu.Unlock()
		c.amu.Lock()
		c.aclose = true
		pending := c.acks
		c.acks = nil
		c.amu.Unlock()
		for _, f := range pending {
			f(nil, err)
		}
	})
}

// send writes one Engine.IO packet. A failure ends the connection.
func (c *Client) send(pkt string) {
	if c.ws != nil {
		c.wmu.Lock()
		_ = c.ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
		err := c.ws.WriteMessage(websocket.TextMessage, []byte(pkt))
		c.wmu.Unlock()
		if err != nil {
			c.end(fmt.Errorf("eio: websocket write: %w", err))
		}
		return
	}
	c.queuePost(pkt)
}

// queuePost queues a packet for the next polling POST and returns the
// channel closed once the flush that will carry it has ended (nil if the
// client has ended).
func (c *Client) queuePost(pkt string) <-chan struct{} {
	c.pmu.Lock()
	if c.pclosed {
		c.pmu.Unlock()
		return nil
	}
	c.outq = append(c.outq, pkt)
	start := !c.posting
	if start {
		c.posting = true
		c.pflushed = make(chan struct{})
		c.wg.Add(1) // under pmu, before end can set pclosed: Close's Wait sees it
	}
	done := c.pflushed
	c.pmu.Unlock()
	if start {
		go c.flush(done)
	}
	return done
}

// handle dispatches one Engine.IO packet from the server.
func (c *Client) handle(p string) {
	if p == "" {
		return
	}
	switch p[0] {
	case eioClose:
		c.end(ErrServerClosed)
	case eioPing: // Engine.IO 4 servers ping; answer in kind
		c.send(string(eioPong) + p[1:])
	case eioPong:
		c.pingMu.Lock()
		c.pongDue = false
		c.pongs++
		c.pingMu.Unlock()
	case eioMessage:
		c.handleMessage(p[1:])
	case eioOpen, eioUpgrade, eioNoop:
	}
}

func (c *Client) handleMessage(m string) {
	p, err := parseSIO(m)
	if err != nil {
		c.end(err)
		return
	}
	if p.nsp != c.nsp {
		return // the root namespace's CONNECT, or another namespace's traffic
	}
	switch p.typ {
	case sioConnect:
		c.connOnce.Do(func() { close(c.connected) })
	case sioDisconnect:
		c.end(ErrDisconnected)
	case sioEvent:
		name, arg, err := eventArgs(p.data)
		if err != nil {
			c.end(err)
			return
		}
		if c.cfg.OnEvent != nil {
			c.cfg.OnEvent(name, arg)
		}
	case sioAck:
		if !p.hasID {
			return // the Go library acknowledges events that asked for none
		}
		arg, err := ackArg(p.data)
		if err != nil {
			c.end(err)
			return
		}
		c.amu.Lock()
		f := c.acks[p.id]
		delete(c.acks, p.id)
		c.amu.Unlock()
		if f != nil {
			f(arg, nil)
		}
	case sioError:
		c.end(&ConnectError{Data: p.data})
	}
}

// schedulePing starts the client's pings: Engine.IO 3 clients ping every
// pingInterval and expect a pong within pingTimeout.
func (c *Client) schedulePing() {
	if c.pingInterval <= 0 {
		return
	}
	c.pingMu.Lock()
	defer c.pingMu.Unlock()
	select {
	case <-c.done:
		return
	default:
	}
	c.pingT = time.AfterFunc(c.pingInterval, c.pingTick)
}

func (c *Client) pingTick() {
	c.pingMu.Lock()
	select {
	case <-c.done:
		c.pingMu.Unlock()
		return
	default:
	}
	if c.pongDue && time.Since(c.pingSent) >= c.pingTimeout {
		c.pingMu.Unlock()
		c.end(ErrPingTimeout)
		return
	}
	ping := !c.pongDue
	if ping {
		c.pongDue = true
		c.pingSent = time.Now()
	}
	next := c.pingInterval
	if !ping {
		// Still waiting for the last pong: look again when it is due.
		next = min(next, max(time.Millisecond, c.pingTimeout-time.Since(c.pingSent)))
	}
	c.pingT.Reset(next)
	c.pingMu.Unlock()
	if ping {
		c.send(string(eioPing))
	}
}

// ---- websocket ----

func (c *Client) openWebsocket(ctx context.Context) error {
	d := c.cfg.Dialer
	if d == nil {
		d = &websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	}
	u := "ws" + strings.TrimPrefix(c.base, "http") + "&transport=websocket"
	ws, resp, err := d.DialContext(ctx, u, nil)
	if err != nil {
		if resp != nil {
			return fmt.Errorf("eio: websocket handshake: %s: %w", resp.Status, err)
		}
		return fmt.Errorf("eio: websocket dial: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = ws.SetReadDeadline(dl)
	}
	_, msg, err := ws.ReadMessage()
	if err != nil {
		_ = ws.Close()
		return fmt.Errorf("eio: read OPEN packet: %w", err)
	}
	_ = ws.SetReadDeadline(time.Time{})
	o, err := parseOpen(string(msg))
	if err != nil {
		_ = ws.Close()
		return err
	}
	c.setOpen(o)
	c.ws = ws
	c.wg.Add(1)
	go c.readWebsocket()
	return nil
}

func (c *Client) readWebsocket() {
	defer c.wg.Done()
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				c.end(fmt.Errorf("%w (websocket close %d)", ErrServerClosed, ce.Code))
			} else {
				c.end(fmt.Errorf("eio: websocket read: %w", err))
			}
			return
		}
		c.handle(string(msg))
		if c.Err() != nil {
			return
		}
	}
}

func (c *Client) setOpen(o openPacket) {
	c.sid = o.SID
	c.pingInterval = time.Duration(o.PingInterval) * time.Millisecond
	c.pingTimeout = time.Duration(o.PingTimeout) * time.Millisecond
}

// ---- long-polling ----

func (c *Client) pollURL() string {
	return c.base + "&transport=polling&b64=1&sid=" + url.QueryEscape(c.sid)
}

func (c *Client) openPolling(ctx context.Context) error {
	body, err := c.get(ctx, c.base+"&transport=polling&b64=1")
	if err != nil {
		return fmt.Errorf("eio: polling handshake: %w", err)
	}
	pkts, err := decodePayload(body)
	if err != nil {
		return err
	}
	if len(pkts) == 0 {
		return errors.New("eio: empty handshake payload")
	}
	o, err := parseOpen(pkts[0])
	if err != nil {
		return err
	}
	c.setOpen(o)
	c.wg.Add(1)
	go c.poll(pkts[1:])
	return nil
}

// poll is the polling reader: one GET after another until the end.
func (c *Client) poll(first []string) {
	defer c.wg.Done()
	for _, p := range first {
		c.handle(p)
	}
	for c.Err() == nil {
		body, err := c.get(c.ctx, c.pollURL())
		if err != nil {
			c.end(fmt.Errorf("eio: poll: %w", err))
			return
		}
		pkts, err := decodePayload(body)
		if err != nil {
			c.end(err)
			return
		}
		for _, p := range pkts {
			c.handle(p)
		}
	}
}

func (c *Client) get(ctx context.Context, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %.200s", resp.Status, strings.TrimSpace(string(b)))
	}
	return string(b), nil
}

// flush POSTs the send queue, everything queued at once as socket.io-client
// does, until it is empty. One flush runs at a time per client.
func (c *Client) flush(done chan struct{}) {
	defer c.wg.Done()
	defer close(done)
	for {
		c.pmu.Lock()
		if c.pclosed || len(c.outq) == 0 {
			c.posting = false
			c.pmu.Unlock()
			return
		}
		batch := c.outq
		c.outq = nil
		c.pmu.Unlock()
		if err := c.post(c.ctx, encodePayload(batch)); err != nil {
			c.end(fmt.Errorf("eio: post: %w", err))
			// posting stays set: pclosed stops every later send.
			return
		}
	}
}

func (c *Client) post(ctx context.Context, body string) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.WriteTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.pollURL(), strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %.200s", resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

// postClose tells a polling server the client is leaving (best effort):
// the CLOSE packet goes in the send queue, since a second POST beside the
// one in flight would be refused.
func (c *Client) postClose() {
	done := c.queuePost(string(eioClose))
	if done == nil {
		return
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}
