package sio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// wait is the deadline for anything a test awaits.
const wait = 10 * time.Second

// ---- server under test ----

type testServer struct {
	t      *testing.T
	srv    *Server
	ts     *httptest.Server
	cancel context.CancelFunc
	runErr chan error
	once   sync.Once
	logw   *testLogWriter
}

// testLogWriter sends server logs to the test log until the test ends.
type testLogWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func startServer(t *testing.T, cfg Config, setup func(*Server)) *testServer {
	t.Helper()
	if cfg.NodeID == "" {
		cfg.NodeID = "test-node"
	}
	lw := &testLogWriter{t: t}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if setup != nil {
		setup(srv)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ts := httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	x := &testServer{t: t, srv: srv, ts: ts, cancel: cancel, runErr: make(chan error, 1), logw: lw}
	go func() { x.runErr <- srv.Run(ctx) }()
	waitRunning(t, srv)
	t.Cleanup(func() {
		x.stop()
		lw.mu.Lock()
		lw.done = true
		lw.mu.Unlock()
	})
	return x
}

// waitRunning waits until Run accepts requests.
func waitRunning(t *testing.T, srv *Server) {
	t.Helper()
	select {
	case <-srv.started:
	case <-time.After(wait):
		t.Fatal("server did not start")
	}
}

// stop shuts the server down and checks that Run returned cleanly.
func (x *testServer) stop() {
	x.once.Do(func() {
		x.cancel()
		select {
		case err := <-x.runErr:
			if err != nil {
				x.t.Errorf("Run returned %v", err)
			}
		case <-time.After(wait):
			x.t.Errorf("Run did not return after shutdown")
		}
		x.ts.Close()
	})
}

// ---- raw Engine.IO 3 / Socket.IO 2 client ----

// rawClient speaks Engine.IO 3 directly. in receives every Engine.IO packet
// after the OPEN packet as a string ("40", "42/im/user,[...]", "3probe"...).
type rawClient struct {
	t    *testing.T
	base string // http://host/socket.io/?EIO=3&<query>
	sid  string

	in      chan string
	done    chan struct{} // closed when the connection ended
	doneErr error         // why; readable after done is closed

	sendMu sync.Mutex
	ws     *websocket.Conn // nil while polling

	quit       chan struct{} // closed by close: reader goroutines stop
	quitOnce   sync.Once
	pollCtx    context.Context
	pollCancel context.CancelFunc
	pollDone   chan struct{}
	upgrading  chan struct{} // closed: the poller stops at the next NOOP
	httpc      *http.Client
}

func newRawClient(t *testing.T, ts *httptest.Server, query url.Values, inCap int) *rawClient {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("EIO", "3")
	q.Set("b64", "1") // text payload framing "<len>:<packet>"
	ctx, cancel := context.WithCancel(context.Background())
	c := &rawClient{
		t:          t,
		base:       ts.URL + "/socket.io/?" + q.Encode(),
		in:         make(chan string, inCap),
		quit:       make(chan struct{}),
		done:       make(chan struct{}),
		pollCtx:    ctx,
		pollCancel: cancel,
		pollDone:   make(chan struct{}),
		upgrading:  make(chan struct{}),
		httpc:      &http.Client{Timeout: 2 * wait},
	}
	t.Cleanup(c.close)
	return c
}

// dialPolling performs a polling handshake and starts polling.
func dialPolling(t *testing.T, ts *httptest.Server, query url.Values) *rawClient {
	t.Helper()
	c := newRawClient(t, ts, query, 4096)
	resp, err := c.httpc.Get(c.base + "&transport=polling")
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("handshake: %s: %s", resp.Status, body)
	}
	pkts, err := decodePayload(string(body))
	if err != nil || len(pkts) == 0 || pkts[0][0] != '0' {
		t.Fatalf("handshake payload %q: %v", body, err)
	}
	c.sid = openSID(t, pkts[0])
	for _, p := range pkts[1:] {
		c.deliver(p)
	}
	go c.poll()
	return c
}

// dialWS opens a websocket-only connection.
func dialWS(t *testing.T, ts *httptest.Server, query url.Values, inCap int) *rawClient {
	t.Helper()
	c := newRawClient(t, ts, query, inCap)
	close(c.pollDone)
	ws, resp, err := websocket.DefaultDialer.Dial(wsURL(c.base)+"&transport=websocket", nil)
	if err != nil {
		t.Fatalf("dial websocket: %v (%v)", err, resp)
	}
	c.ws = ws
	_, msg, err := ws.ReadMessage()
	if err != nil || len(msg) == 0 || msg[0] != '0' {
		t.Fatalf("open packet %q: %v", msg, err)
	}
	c.sid = openSID(t, string(msg))
	go c.readWS(ws)
	return c
}

func wsURL(httpURL string) string { return "ws" + strings.TrimPrefix(httpURL, "http") }

func openSID(t *testing.T, open string) string {
	t.Helper()
	var p struct {
		SID      string   `json:"sid"`
		Upgrades []string `json:"upgrades"`
	}
	if err := json.Unmarshal([]byte(open[1:]), &p); err != nil || p.SID == "" {
		t.Fatalf("open packet %q: %v", open, err)
	}
	return p.SID
}

func (c *rawClient) poll() {
	defer close(c.pollDone)
	for {
		req, _ := http.NewRequestWithContext(c.pollCtx, http.MethodGet, c.base+"&transport=polling&sid="+url.QueryEscape(c.sid), nil)
		resp, err := c.httpc.Do(req)
		if err != nil {
			c.finish(fmt.Errorf("poll: %w", err))
			return
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			c.finish(fmt.Errorf("poll: %s: %s", resp.Status, strings.TrimSpace(string(body))))
			return
		}
		pkts, err := decodePayload(string(body))
		if err != nil {
			c.finish(fmt.Errorf("poll payload %q: %w", body, err))
			return
		}
		for _, p := range pkts {
			if p == "6" {
				select {
				case <-c.upgrading:
					return // paused for the upgrade: stop polling, as clients do
				default:
				}
			}
			if !c.deliver(p) {
				return
			}
		}
	}
}

// deliver hands a packet to the test; false once the client was closed.
func (c *rawClient) deliver(p string) bool {
	select {
	case c.in <- p:
		return true
	case <-c.quit:
		return false
	}
}

func (c *rawClient) readWS(ws *websocket.Conn) {
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			c.finish(err)
			return
		}
		if !c.deliver(string(msg)) {
			return
		}
	}
}

func (c *rawClient) finish(err error) {
	select {
	case <-c.done:
	default:
		c.doneErr = err
		close(c.done)
	}
}

func (c *rawClient) close() {
	c.quitOnce.Do(func() { close(c.quit) })
	c.pollCancel()
	c.sendMu.Lock()
	ws := c.ws
	c.sendMu.Unlock()
	if ws != nil {
		_ = ws.Close()
	}
}

// upgrade moves a polling client to websocket like socket.io-client does:
// probe, wait for polling to pause, then send the upgrade packet.
func (c *rawClient) upgrade() {
	c.t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(c.base)+"&transport=websocket&sid="+url.QueryEscape(c.sid), nil)
	if err != nil {
		c.t.Fatalf("upgrade dial: %v", err)
	}
	close(c.upgrading)
	if err := ws.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		c.t.Fatalf("probe: %v", err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(wait))
	_, msg, err := ws.ReadMessage()
	if err != nil || string(msg) != "3probe" {
		c.t.Fatalf("probe answer %q: %v", msg, err)
	}
	_ = ws.SetReadDeadline(time.Time{})
	select {
	case <-c.pollDone:
	case <-time.After(wait):
		c.t.Fatal("polling did not pause for the upgrade")
	}
	c.sendMu.Lock()
	c.ws = ws
	c.sendMu.Unlock()
	c.send("5")
	go c.readWS(ws)
}

// send sends Engine.IO packets: one POST (batched payload) or one frame each.
func (c *rawClient) send(pkts ...string) {
	c.t.Helper()
	if err := c.trySend(pkts...); err != nil {
		c.t.Fatalf("send %.80q: %v", pkts, err)
	}
}

func (c *rawClient) trySend(pkts ...string) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.ws != nil {
		for _, p := range pkts {
			if err := c.ws.WriteMessage(websocket.TextMessage, []byte(p)); err != nil {
				return err
			}
		}
		return nil
	}
	var b strings.Builder
	for _, p := range pkts {
		b.WriteString(strconv.Itoa(utf16Len(p)))
		b.WriteByte(':')
		b.WriteString(p)
	}
	req, _ := http.NewRequest(http.MethodPost, c.base+"&transport=polling&sid="+url.QueryEscape(c.sid), strings.NewReader(b.String()))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := c.httpc.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// next returns the next packet, skipping pongs and noops.
func (c *rawClient) next() string {
	c.t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case p := <-c.in:
			if p == "3" || p == "6" {
				continue
			}
			return p
		case <-c.done:
			// Drain what arrived before the end.
			select {
			case p := <-c.in:
				if p == "3" || p == "6" {
					continue
				}
				return p
			default:
			}
			c.t.Fatalf("connection ended while waiting for a packet: %v", c.doneErr)
		case <-timer.C:
			c.t.Fatal("timed out waiting for a packet")
		}
	}
}

// expect skips packets until one starts with prefix, and returns it.
func (c *rawClient) expect(prefix string) string {
	c.t.Helper()
	for {
		if p := c.next(); strings.HasPrefix(p, prefix) {
			return p
		}
	}
}

// waitClosed waits until the connection ended and returns every packet that
// arrived before, in order (pongs and noops excluded).
func (c *rawClient) waitClosed() []string {
	c.t.Helper()
	var got []string
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case p := <-c.in:
			if p != "3" && p != "6" {
				got = append(got, p)
			}
		case <-c.done:
			for {
				select {
				case p := <-c.in:
					if p != "3" && p != "6" {
						got = append(got, p)
					}
				default:
					return got
				}
			}
		case <-timer.C:
			c.t.Fatalf("connection did not close; received %q", got)
		}
	}
}

// ---- Socket.IO helpers ----

func (c *rawClient) connectNS(nsp string) {
	c.t.Helper()
	c.send("40" + nsp)
	c.expect("40" + nsp)
}

func (c *rawClient) emit(nsp string, id int, event, arg string) {
	c.t.Helper()
	c.send(eventPacket(nsp, id, event, arg))
}

func eventPacket(nsp string, id int, event, arg string) string {
	name, _ := json.Marshal(event)
	return fmt.Sprintf("42%s,%d[%s,%s]", nsp, id, name, arg)
}

// ack waits for the acknowledgement with id and returns its arguments.
func (c *rawClient) ack(nsp string, id int) []json.RawMessage {
	c.t.Helper()
	p := c.expect(fmt.Sprintf("43%s,%d[", nsp, id))
	return decodeArgs(c.t, p[len(fmt.Sprintf("43%s,%d", nsp, id)):])
}

// call emits an event with an ack id and decodes the first ack argument.
func (c *rawClient) call(nsp string, id int, event, arg string, out any) {
	c.t.Helper()
	c.emit(nsp, id, event, arg)
	args := c.ack(nsp, id)
	if len(args) == 0 {
		c.t.Fatalf("ack %d has no arguments", id)
	}
	if err := json.Unmarshal(args[0], out); err != nil {
		c.t.Fatalf("ack %d: %s: %v", id, args[0], err)
	}
}

// event waits for a server event and returns its name and first argument.
func (c *rawClient) event(nsp string) (string, json.RawMessage) {
	c.t.Helper()
	p := c.expect("42" + nsp)
	return parseEvent(c.t, nsp, p)
}

func parseEvent(t *testing.T, nsp, p string) (string, json.RawMessage) {
	t.Helper()
	rest := strings.TrimPrefix(p, "42")
	if nsp != "" {
		rest = strings.TrimPrefix(rest, nsp+",")
	}
	args := decodeArgs(t, rest)
	if len(args) == 0 {
		t.Fatalf("event without name: %q", p)
	}
	var name string
	if err := json.Unmarshal(args[0], &name); err != nil {
		t.Fatalf("event name in %q: %v", p, err)
	}
	var data json.RawMessage
	if len(args) > 1 {
		data = args[1]
	}
	return name, data
}

func decodeArgs(t *testing.T, s string) []json.RawMessage {
	t.Helper()
	var args []json.RawMessage
	if err := json.Unmarshal([]byte(s), &args); err != nil {
		t.Fatalf("packet arguments %q: %v", s, err)
	}
	return args
}

// ---- Engine.IO payload framing ----

// decodePayload splits a text payload "<len>:<packet><len>:<packet>..."; the
// length counts UTF-16 code units, as JavaScript strings do.
func decodePayload(s string) ([]string, error) {
	var out []string
	for len(s) > 0 {
		i := strings.IndexByte(s, ':')
		if i <= 0 {
			return nil, errors.New("missing length")
		}
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return nil, err
		}
		s = s[i+1:]
		end, units := 0, 0
		for units < n {
			if end >= len(s) {
				return nil, errors.New("short packet")
			}
			r, size := decodeRune(s[end:])
			end += size
			units += utf16.RuneLen(r)
		}
		out = append(out, s[:end])
		s = s[end:]
	}
	return out, nil
}

func decodeRune(s string) (rune, int) { return utf8.DecodeRuneInString(s) }

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
