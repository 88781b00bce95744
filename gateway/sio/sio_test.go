package sio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kefu-im/kefu/pkg/protocol"
)

const nsUser = protocol.NamespaceUser

// ---- fixture: a /im/user namespace with test handlers ----

type echoReq struct {
	Text string `json:"text"`
	N    int    `json:"n"`
}

func (e echoReq) Validate() error {
	switch e.Text {
	case "":
		return errors.New("text is required")
	case "forbidden":
		return protocol.Errorf(protocol.CodeForbidden, "not for you")
	}
	return nil
}

type echoAck struct {
	OK   bool   `json:"ok"`
	Text string `json:"text"`
	N    int    `json:"n"`
}

type errAck struct {
	OK    bool            `json:"ok"`
	Error *protocol.Error `json:"error"`
}

type disconnect struct {
	id, reason string
}

type fixture struct {
	connected chan *Socket
	discs     chan disconnect

	mu      sync.Mutex
	reasons map[string][]string // socket id → OnDisconnect reasons
	echoed  map[string]int      // socket id → echo handler calls
}

func (f *fixture) socket(t *testing.T) *Socket {
	t.Helper()
	select {
	case s := <-f.connected:
		return s
	case <-time.After(wait):
		t.Fatal("no OnConnect")
		return nil
	}
}

func (f *fixture) disconnected(t *testing.T, id string) string {
	t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case d := <-f.discs:
			if d.id == id {
				return d.reason
			}
		case <-timer.C:
			t.Fatalf("no OnDisconnect for %s", id)
		}
	}
}

func (f *fixture) reasonsOf(id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reasons[id])
}

func (f *fixture) echoCalls(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.echoed[id]
}

func userServer(t *testing.T, cfg Config) (*testServer, *fixture) {
	t.Helper()
	f := &fixture{
		connected: make(chan *Socket, 64),
		discs:     make(chan disconnect, 64),
		reasons:   make(map[string][]string),
		echoed:    make(map[string]int),
	}
	ts := startServer(t, cfg, func(srv *Server) {
		ns := srv.Namespace(nsUser)
		ns.OnConnect(func(ctx context.Context, s *Socket) error {
			q := s.Query()
			if q.Get("deny") != "" {
				// Queued before the refusal: must never reach the client.
				s.Emit("hello", map[string]string{"x": "y"})
				s.Join("r1")
				return protocol.Errorf(protocol.CodeUnauthorized, "bad sign")
			}
			if q.Get("boom") != "" {
				return errors.New("database is down")
			}
			replay, _ := strconv.Atoi(q.Get("replay"))
			for i := 1; i <= replay; i++ {
				s.Emit(protocol.EventMessage, map[string]int{"seq": i})
			}
			for _, r := range q["room"] {
				s.Join(r)
			}
			if ctx.Err() != nil {
				t.Error("OnConnect context already cancelled")
			}
			f.connected <- s
			return nil
		})
		ns.OnDisconnect(func(s *Socket, reason string) {
			if s.Context().Err() == nil {
				t.Error("socket context not cancelled in OnDisconnect")
			}
			f.mu.Lock()
			f.reasons[s.ID()] = append(f.reasons[s.ID()], reason)
			f.mu.Unlock()
			f.discs <- disconnect{s.ID(), reason}
		})
		Handle(ns, "echo", func(ctx context.Context, s *Socket, p echoReq) (any, error) {
			f.mu.Lock()
			f.echoed[s.ID()]++
			f.mu.Unlock()
			return echoAck{OK: true, Text: p.Text, N: p.N}, nil
		})
		Handle(ns, "panic", func(ctx context.Context, s *Socket, p echoReq) (any, error) {
			panic("handler exploded")
		})
		Handle(ns, "fail", func(ctx context.Context, s *Socket, p echoReq) (any, error) {
			return nil, fmt.Errorf("query users: %w", errors.New("connection refused by db-7"))
		})
		Handle(ns, "conflict", func(ctx context.Context, s *Socket, p echoReq) (any, error) {
			return nil, fmt.Errorf("wrapped: %w", protocol.Errorf(protocol.CodeConflict, "duplicate"))
		})
		Handle(ns, "bye", func(ctx context.Context, s *Socket, p echoReq) (any, error) {
			s.Close() // closing from inside a handler must not deadlock
			return protocol.OKAck{OK: true}, nil
		})
		Handle(ns, "raw", func(ctx context.Context, s *Socket, p json.RawMessage) (any, error) {
			return map[string]int{"len": len(p)}, nil
		})
	})
	return ts, f
}

func wsUser(t *testing.T, ts *testServer, query url.Values) *rawClient {
	t.Helper()
	c := dialWS(t, ts.ts, query, 4096)
	if p := c.next(); p != "40" {
		t.Fatalf("first packet %q, want root connect", p)
	}
	c.connectNS(nsUser)
	return c
}

func pollUser(t *testing.T, ts *testServer, query url.Values) *rawClient {
	t.Helper()
	c := dialPolling(t, ts.ts, query)
	if p := c.next(); p != "40" {
		t.Fatalf("first packet %q, want root connect", p)
	}
	c.connectNS(nsUser)
	return c
}

func checkEcho(t *testing.T, c *rawClient, id int, text string) {
	t.Helper()
	var a echoAck
	c.call(nsUser, id, "echo", fmt.Sprintf(`{"text":%q,"n":%d}`, text, id), &a)
	if !a.OK || a.Text != text || a.N != id {
		t.Fatalf("echo ack %+v", a)
	}
}

func checkErr(t *testing.T, c *rawClient, id int, event, arg, code, msgPart string) {
	t.Helper()
	var a errAck
	c.call(nsUser, id, event, arg, &a)
	if a.OK || a.Error == nil || a.Error.Code != code || !strings.Contains(a.Error.Message, msgPart) {
		t.Fatalf("%s %s: ack %+v (error %+v), want %s containing %q", event, arg, a, a.Error, code, msgPart)
	}
}

// ---- tests ----

func TestSessionIDs(t *testing.T) {
	g, err := newSIDGenerator("node-7")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^node-7\.[A-Za-z0-9_-]{22}$`)
	seen := make(map[string]bool)
	for range 10000 {
		id := g.NewID()
		if !re.MatchString(id) {
			t.Fatalf("sid %q does not match %s", id, re)
		}
		if seen[id] {
			t.Fatalf("duplicate sid %q", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "Node", "a.b", "a_b", strings.Repeat("a", 33)} {
		if _, err := New(Config{NodeID: bad}); err == nil {
			t.Errorf("New accepted node id %q", bad)
		}
	}

	ts, _ := userServer(t, Config{})
	a := dialPolling(t, ts.ts, nil)
	b := dialWS(t, ts.ts, nil, 16)
	wire := regexp.MustCompile(`^test-node\.[A-Za-z0-9_-]{22}$`)
	for _, sid := range []string{a.sid, b.sid} {
		if !wire.MatchString(sid) {
			t.Errorf("handshake sid %q", sid)
		}
	}
	if a.sid == b.sid {
		t.Error("two sessions share a sid")
	}
}

func TestPollingConnectAndQuery(t *testing.T) {
	ts, f := userServer(t, Config{})
	c := pollUser(t, ts, url.Values{"appid": {"site1"}, "userid": {"u-42"}, "orgi": {"ignored"}})
	s := f.socket(t)

	if got := s.Query().Get("appid"); got != "site1" {
		t.Errorf("Query appid = %q", got)
	}
	if got := s.Query().Get("userid"); got != "u-42" {
		t.Errorf("Query userid = %q", got)
	}
	if s.SessionID() != c.sid || s.ID() != c.sid+"#"+nsUser || s.Namespace() != nsUser {
		t.Errorf("ids: sid %q id %q ns %q (client sid %q)", s.SessionID(), s.ID(), s.Namespace(), c.sid)
	}
	if s.Transport() != "polling" {
		t.Errorf("Transport = %q", s.Transport())
	}
	if s.RemoteAddr() == "" || !strings.HasPrefix(s.Header().Get("User-Agent"), "Go-http-client") {
		t.Errorf("RemoteAddr %q, User-Agent %q", s.RemoteAddr(), s.Header().Get("User-Agent"))
	}
	s.Set("agent", 7)
	if s.Get("agent") != 7 || s.Get("none") != nil {
		t.Error("Set/Get")
	}
	if n := ts.srv.Count(nsUser); n != 1 {
		t.Errorf("Count = %d", n)
	}
	checkEcho(t, c, 1, "hello over polling")

	// Several packets in one POST are all handled.
	c.send(eventPacket(nsUser, 2, "echo", `{"text":"a"}`), eventPacket(nsUser, 3, "echo", `{"text":"b"}`))
	c.ack(nsUser, 2)
	c.ack(nsUser, 3)
}

func TestWebsocketDecodeAndValidate(t *testing.T) {
	ts, _ := userServer(t, Config{})
	c := wsUser(t, ts, nil)

	checkEcho(t, c, 1, "typed")
	// A JSON type error is answered and the connection stays usable.
	checkErr(t, c, 2, "echo", `{"text":5}`, protocol.CodeBadRequest, "text: expected string, got number")
	checkEcho(t, c, 3, "still here")
	checkErr(t, c, 4, "echo", `["not","an","object"]`, protocol.CodeBadRequest, "argument: expected object, got array")
	checkErr(t, c, 5, "echo", `{"text":""}`, protocol.CodeBadRequest, "text is required")
	checkErr(t, c, 6, "echo", `{"text":"forbidden"}`, protocol.CodeForbidden, "not for you")
	checkErr(t, c, 7, "echo", `null`, protocol.CodeBadRequest, "missing argument")
	checkErr(t, c, 8, "fail", `{"text":"x"}`, protocol.CodeInternal, "internal error")
	checkErr(t, c, 9, "conflict", `{"text":"x"}`, protocol.CodeConflict, "duplicate")

	var raw map[string]int
	c.call(nsUser, 10, "raw", `{"a":[1,2]}`, &raw)
	if raw["len"] != len(`{"a":[1,2]}`) {
		t.Errorf("raw ack %v", raw)
	}
	checkEcho(t, c, 11, "the end")
}

func TestPanicInHandler(t *testing.T) {
	ts, _ := userServer(t, Config{})
	c := wsUser(t, ts, nil)
	checkErr(t, c, 1, "panic", `{"text":"x"}`, protocol.CodeInternal, "internal error")
	checkEcho(t, c, 2, "survived")
}

func TestPollingTooLargeArgument(t *testing.T) {
	ts, _ := userServer(t, Config{})
	c := pollUser(t, ts, nil)
	big := fmt.Sprintf(`{"text":%q}`, strings.Repeat("a", protocol.MaxPacketBytes))
	checkErr(t, c, 1, "echo", big, protocol.CodeTooLarge, "exceeds")
	checkEcho(t, c, 2, "small again")
}

func TestPollingBodyLimitClosesConnection(t *testing.T) {
	ts, f := userServer(t, Config{MaxPollBody: 100 << 10})
	c := pollUser(t, ts, nil)
	s := f.socket(t)
	big := eventPacket(nsUser, 1, "echo", fmt.Sprintf(`{"text":%q}`, strings.Repeat("a", 200<<10)))
	if err := c.trySend(big); err == nil {
		t.Fatal("oversized POST accepted")
	}
	c.waitClosed()
	if r := f.disconnected(t, s.ID()); r != ReasonTransportClose {
		t.Errorf("reason %q", r)
	}
}

func TestWebsocketArgumentTooLargeWithinFrameLimit(t *testing.T) {
	ts, _ := userServer(t, Config{})
	c := wsUser(t, ts, nil)
	big := fmt.Sprintf(`{"text":%q}`, strings.Repeat("a", protocol.MaxPacketBytes-5))
	checkErr(t, c, 1, "echo", big, protocol.CodeTooLarge, "exceeds")
	checkEcho(t, c, 2, "ok")
}

func TestWebsocketFrameLimitClosesOnlyThatConnection(t *testing.T) {
	ts, f := userServer(t, Config{})
	a := wsUser(t, ts, nil)
	sa := f.socket(t)
	b := wsUser(t, ts, nil)
	f.socket(t)

	huge := eventPacket(nsUser, 1, "echo", fmt.Sprintf(`{"text":%q}`, strings.Repeat("a", protocol.MaxPacketBytes+2*wsHeaderSlack)))
	a.send(huge)
	a.waitClosed()
	if !websocket.IsCloseError(a.doneErr, websocket.CloseMessageTooBig) {
		t.Errorf("oversized frame: connection ended with %v, want close 1009", a.doneErr)
	}
	if r := f.disconnected(t, sa.ID()); r != ReasonTransportClose {
		t.Errorf("reason %q", r)
	}
	checkEcho(t, b, 1, "unaffected")
	if n := ts.srv.Count(nsUser); n != 1 {
		t.Errorf("Count = %d", n)
	}
}

func TestRefusal(t *testing.T) {
	cases := []struct {
		name, transport, query, code, message string
	}{
		{"polling", "polling", "deny", protocol.CodeUnauthorized, "bad sign"},
		{"websocket", "websocket", "deny", protocol.CodeUnauthorized, "bad sign"},
		{"internal error", "websocket", "boom", protocol.CodeInternal, "internal error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts, f := userServer(t, Config{})
			var c *rawClient
			if tc.transport == "polling" {
				c = dialPolling(t, ts.ts, url.Values{tc.query: {"1"}})
			} else {
				c = dialWS(t, ts.ts, url.Values{tc.query: {"1"}}, 64)
			}
			c.send("40" + nsUser)
			got := c.waitClosed()

			if len(got) != 3 || got[0] != "40" || !strings.HasPrefix(got[1], "40"+nsUser) {
				t.Fatalf("packets before close: %q; want root connect, namespace connect, refused", got)
			}
			name, data := parseEvent(t, nsUser, got[2])
			var pe protocol.Error
			if err := json.Unmarshal(data, &pe); err != nil || name != protocol.EventRefused ||
				pe.Code != tc.code || pe.Message != tc.message {
				t.Fatalf("refusal %q: %s %+v %v", got[2], name, pe, err)
			}
			if tc.transport == "websocket" && !websocket.IsCloseError(c.doneErr, websocket.CloseNormalClosure) {
				t.Errorf("websocket ended with %v, want a normal close after refused", c.doneErr)
			}
			if n := ts.srv.Count(nsUser); n != 0 {
				t.Errorf("Count = %d", n)
			}
			ts.stop()
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.reasons) != 0 || len(f.connected) != 0 {
				t.Errorf("refused socket reached OnConnect success or OnDisconnect: %v", f.reasons)
			}
		})
	}
}

func TestEventsAroundConnect(t *testing.T) {
	ts, f := userServer(t, Config{})

	// Sent before the CONNECT acknowledgement: read only after OnConnect
	// returned, so it is handled for an accepted socket...
	c := dialWS(t, ts.ts, nil, 64)
	c.next()
	c.send("40"+nsUser, eventPacket(nsUser, 1, "echo", `{"text":"early"}`))
	c.expect("40" + nsUser)
	var a echoAck
	if err := json.Unmarshal(c.ack(nsUser, 1)[0], &a); err != nil || a.Text != "early" {
		t.Fatalf("early event: %+v %v", a, err)
	}

	// ...and not handled for a refused one: the handler never runs, and the
	// acknowledgement (if the connection lasts to carry it) says unavailable.
	d := dialWS(t, ts.ts, url.Values{"deny": {"1"}}, 64)
	d.next()
	// The server may close before the second frame is written.
	_ = d.trySend("40"+nsUser, eventPacket(nsUser, 1, "echo", `{"text":"sneaky"}`))
	got := d.waitClosed()
	sawRefused := false
	for _, p := range got {
		sawRefused = sawRefused || strings.Contains(p, `"refused"`)
		if strings.HasPrefix(p, "43"+nsUser+",1") && !strings.Contains(p, `"code":"unavailable"`) {
			t.Errorf("refused socket's event answered with %q", p)
		}
	}
	if !sawRefused {
		t.Errorf("refused socket got %q", got)
	}
	if n := f.echoCalls(d.sid + "#" + nsUser); n != 0 {
		t.Errorf("echo ran %d times for a refused socket", n)
	}
}

func TestReplayAfterConnectAck(t *testing.T) {
	// SendQueue is smaller than the replay: packets queued during OnConnect
	// must not count as a slow client.
	ts, f := userServer(t, Config{SendQueue: 4})
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			const n = 20
			var c *rawClient
			q := url.Values{"replay": {strconv.Itoa(n)}}
			if transport == "polling" {
				c = dialPolling(t, ts.ts, q)
			} else {
				c = dialWS(t, ts.ts, q, 64)
			}
			c.next()
			c.send("40" + nsUser)
			// Emits made inside OnConnect come after the connect ack, in order.
			if p := c.next(); !strings.HasPrefix(p, "40"+nsUser) {
				t.Fatalf("first packet %q, want the namespace connect", p)
			}
			for i := 1; i <= n; i++ {
				name, data := parseEvent(t, nsUser, c.next())
				if name != protocol.EventMessage || string(data) != fmt.Sprintf(`{"seq":%d}`, i) {
					t.Fatalf("replay %d: %s %s", i, name, data)
				}
			}
			s := f.socket(t)
			s.Emit("live", 1)
			if name, _ := c.event(nsUser); name != "live" {
				t.Fatalf("after replay got %q", name)
			}
		})
	}
}

func TestRoomsAndEmitLocal(t *testing.T) {
	ts, f := userServer(t, Config{})
	srv := ts.srv
	a := wsUser(t, ts, url.Values{"room": {"r1", "r2"}})
	sa := f.socket(t)
	b := pollUser(t, ts, url.Values{"room": {"r1"}})
	f.socket(t)
	c := wsUser(t, ts, nil)
	sc := f.socket(t)

	if got := sa.Rooms(); !slices.Equal(got, []string{"r1", "r2"}) {
		t.Errorf("Rooms = %v", got)
	}
	if len(sc.Rooms()) != 0 {
		t.Errorf("c Rooms = %v", sc.Rooms())
	}
	emit := func(room, except, data string, want int) {
		t.Helper()
		if n := srv.EmitLocal(nsUser, room, except, "note", json.RawMessage(data)); n != want {
			t.Errorf("EmitLocal(%q, except %q) = %d, want %d", room, except, n, want)
		}
	}
	emit("r1", "", `{"k":1}`, 2)
	emit("r1", sa.ID(), `{"k":2}`, 1)
	emit("", "", `{"k":3}`, 3)
	emit("r2", "", `{"k":4}`, 1)
	emit("nobody", "", `{"k":0}`, 0)
	emit("", "", `{"k":"end"}`, 3)
	if n := srv.EmitLocal("/nope", "", "", "note", json.RawMessage(`{}`)); n != 0 {
		t.Errorf("EmitLocal to unknown namespace = %d", n)
	}
	if n := srv.EmitLocal(nsUser, "", "", "note", json.RawMessage(`{bad`)); n != 0 {
		t.Errorf("EmitLocal with invalid JSON = %d", n)
	}

	// Exact sequences: each socket gets each emit at most once, in order.
	want := map[*rawClient][]string{
		a: {`{"k":1}`, `{"k":3}`, `{"k":4}`, `{"k":"end"}`},
		b: {`{"k":1}`, `{"k":2}`, `{"k":3}`, `{"k":"end"}`},
		c: {`{"k":3}`, `{"k":"end"}`},
	}
	for cl, seq := range want {
		for _, w := range seq {
			name, data := parseEvent(t, nsUser, cl.next())
			if name != "note" || string(data) != w {
				t.Fatalf("client %s: got %s %s, want note %s", cl.sid, name, data, w)
			}
		}
	}

	sa.Leave("r1")
	emit("r1", "", `{"k":5}`, 1)
	if n := srv.Count(nsUser); n != 3 {
		t.Errorf("Count = %d", n)
	}

	// Emit keeps order per socket.
	for i := range 50 {
		sc.Emit("seq", i)
	}
	for i := range 50 {
		name, data := parseEvent(t, nsUser, c.next())
		if name != "seq" || string(data) != fmt.Sprint(i) {
			t.Fatalf("seq %d: %s %s", i, name, data)
		}
	}
	sc.Emit("pre", json.RawMessage(`{"raw":true}`))
	if name, data := c.event(nsUser); name != "pre" || string(data) != `{"raw":true}` {
		t.Errorf("raw emit: %s %s", name, data)
	}

	// Emit after close does nothing; a closed socket leaves its rooms.
	sa.Close()
	a.waitClosed()
	sa.Emit("late", 1)
	if len(sa.Rooms()) != 0 {
		t.Errorf("closed socket still in %v", sa.Rooms())
	}
	if r := f.disconnected(t, sa.ID()); r != ReasonServerDisconnect {
		t.Errorf("reason %q", r)
	}
	emit("r2", "", `{"k":6}`, 0)
}

func TestSlowClientIsDisconnected(t *testing.T) {
	ts, f := userServer(t, Config{SendQueue: 8})
	healthy := wsUser(t, ts, nil)
	f.socket(t)
	// The slow client's reader blocks as soon as nobody takes its packets,
	// so it stops reading the TCP connection.
	slow := dialWS(t, ts.ts, nil, 0)
	slow.next()
	slow.connectNS(nsUser)
	slowSock := f.socket(t)

	blob := json.RawMessage(fmt.Sprintf(`{"blob":%q}`, strings.Repeat("x", 60<<10)))
	var reason string
	for i := 0; reason == "" && i < 3000; i++ {
		start := time.Now()
		ts.srv.EmitLocal(nsUser, "", "", "big", blob)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("EmitLocal blocked for %s", d)
		}
		if name, _ := healthy.event(nsUser); name != "big" {
			t.Fatalf("healthy client got %q", name)
		}
		select {
		case d := <-f.discs:
			if d.id == slowSock.ID() {
				reason = d.reason
			}
		default:
		}
	}
	if reason != ReasonSlowClient {
		t.Fatalf("slow client: reason %q", reason)
	}
	slow.close()
	checkEcho(t, healthy, 1, "still fine")
}

func TestDisconnects(t *testing.T) {
	ts, f := userServer(t, Config{})

	// Client drops the connection.
	a := wsUser(t, ts, nil)
	sa := f.socket(t)
	a.close()
	if r := f.disconnected(t, sa.ID()); r != ReasonTransportClose {
		t.Errorf("drop: reason %q", r)
	}

	// Client leaves the namespace, then closes the connection.
	b := wsUser(t, ts, nil)
	sb := f.socket(t)
	b.send("41" + nsUser)
	if r := f.disconnected(t, sb.ID()); r != ReasonClientDisconnect {
		t.Errorf("leave: reason %q", r)
	}
	if sb.Context().Err() == nil {
		t.Error("context not cancelled")
	}
	b.close()

	// Handler closes its own socket.
	c := pollUser(t, ts, nil)
	sc := f.socket(t)
	c.emit(nsUser, 1, "bye", `{"text":"x"}`)
	c.waitClosed()
	if r := f.disconnected(t, sc.ID()); r != ReasonServerDisconnect {
		t.Errorf("bye: reason %q", r)
	}
	if n := ts.srv.Count(nsUser); n != 0 {
		t.Errorf("Count = %d", n)
	}

	// Shutdown reports the rest; afterwards every socket was reported once.
	d := wsUser(t, ts, nil)
	sd := f.socket(t)
	ts.stop()
	d.waitClosed()
	if !websocket.IsCloseError(d.doneErr, websocket.CloseGoingAway) {
		t.Errorf("shutdown: websocket ended with %v, want 1001", d.doneErr)
	}
	if r := f.disconnected(t, sd.ID()); r != ReasonServerShutdown {
		t.Errorf("shutdown: reason %q", r)
	}
	for _, s := range []*Socket{sa, sb, sc, sd} {
		if got := f.reasonsOf(s.ID()); len(got) != 1 {
			t.Errorf("%s: OnDisconnect calls %q", s.ID(), got)
		}
	}
	rec := httptest.NewRecorder()
	ts.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=3&transport=polling", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("after shutdown: %d", rec.Code)
	}
}

func TestUpgradePollingToWebsocket(t *testing.T) {
	ts, f := userServer(t, Config{})
	c := pollUser(t, ts, url.Values{"appid": {"s"}})
	s := f.socket(t)
	checkEcho(t, c, 1, "over polling")
	s.Emit("before", 1)
	if name, _ := c.event(nsUser); name != "before" {
		t.Fatalf("got %q", name)
	}

	c.upgrade()
	checkEcho(t, c, 2, "over websocket")
	if s.Transport() != "websocket" {
		t.Errorf("Transport after upgrade = %q", s.Transport())
	}
	if s.Query().Get("appid") != "s" {
		t.Errorf("Query after upgrade = %v", s.Query())
	}
	s.Emit("after", 2)
	if name, data := c.event(nsUser); name != "after" || string(data) != "2" {
		t.Fatalf("got %s %s", name, data)
	}
	// Once on websocket, further requests for the session are refused
	// instead of being parked by the library.
	resp, err := http.Get(c.base + "&transport=polling&sid=" + url.QueryEscape(c.sid))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("polling after upgrade: %s", resp.Status)
	}
	checkEcho(t, c, 3, "still upgraded")
	c.close()
	if r := f.disconnected(t, s.ID()); r != ReasonTransportClose {
		t.Errorf("reason %q", r)
	}
}

func TestServeHTTPBeforeRun(t *testing.T) {
	srv, err := New(Config{NodeID: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=3&transport=polling", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("before Run: %d", rec.Code)
	}
}

func TestHoldKeepsLiveTrafficBehindReplay(t *testing.T) {
	ts, f := userServer(t, Config{})
	c := wsUser(t, ts, nil)
	s := f.socket(t)
	s.Hold()
	s.Join("live")
	// Live traffic published while the replay is being read...
	ts.srv.EmitLocal(nsUser, "live", "", protocol.EventMessage, json.RawMessage(`{"seq":2}`))
	ts.srv.EmitLocal(nsUser, "live", "", protocol.EventMessage, json.RawMessage(`{"seq":3}`))
	ts.srv.EmitLocal(nsUser, "live", "", protocol.EventStatus, json.RawMessage(`{"state":"x"}`))
	// ...goes out after it, less what the replay already carried.
	s.Emit(protocol.EventMessage, json.RawMessage(`{"seq":1}`))
	s.Emit(protocol.EventMessage, json.RawMessage(`{"seq":2}`))
	s.Release(func(event string, data json.RawMessage) bool {
		return event != protocol.EventMessage || string(data) != `{"seq":2}`
	})
	ts.srv.EmitLocal(nsUser, "live", "", protocol.EventMessage, json.RawMessage(`{"seq":4}`))
	for _, want := range []string{
		`message {"seq":1}`, `message {"seq":2}`, `message {"seq":3}`, `status {"state":"x"}`, `message {"seq":4}`,
	} {
		name, data := c.event(nsUser)
		if got := name + " " + string(data); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
}

func TestDisconnectLocalAfterQueuedPackets(t *testing.T) {
	ts, f := userServer(t, Config{})
	c := wsUser(t, ts, nil)
	s := f.socket(t)
	s.Join("login")
	other := pollUser(t, ts, nil)
	f.socket(t)
	ts.srv.EmitLocal(nsUser, "login", "", protocol.EventLeave, json.RawMessage(`{"reason":"logout"}`))
	if n := ts.srv.DisconnectLocal(nsUser, "login"); n != 1 {
		t.Fatalf("DisconnectLocal = %d, want 1", n)
	}
	if name, data := c.event(nsUser); name != protocol.EventLeave || string(data) != `{"reason":"logout"}` {
		t.Fatalf("got %s %s before the close, want leave", name, data)
	}
	c.waitClosed()
	if r := f.disconnected(t, s.ID()); r != ReasonServerDisconnect {
		t.Fatalf("reason %q", r)
	}
	// Others are untouched.
	ts.srv.EmitLocal(nsUser, "", "", "ping", json.RawMessage(`1`))
	if name, _ := other.event(nsUser); name != "ping" {
		t.Fatalf("other client got %q", name)
	}
	if n := ts.srv.DisconnectLocal(nsUser, "nobody"); n != 0 {
		t.Fatalf("empty room closed %d", n)
	}
}
