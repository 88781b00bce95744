package relay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/loadgen/eio"
	"github.com/kefu-im/kefu/gateway/relay"
	"github.com/kefu-im/kefu/gateway/relay/relaytest"
	"github.com/kefu-im/kefu/pkg/protocol"
)

const wait = 10 * time.Second

type client struct {
	*eio.Client
	events chan string // "event arg"
}

func connect(t *testing.T, base, transport string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	c := &client{events: make(chan string, 64)}
	var err error
	c.Client, err = eio.Dial(ctx, eio.Config{
		URL: base, Namespace: relay.Namespace, Transport: transport, HTTPClient: &http.Client{Transport: tr},
		OnEvent: func(event string, arg json.RawMessage) { c.events <- event + " " + string(arg) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func (c *client) call(t *testing.T, event string, arg any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ack, err := c.Call(ctx, event, arg)
	if err != nil {
		t.Fatal(err)
	}
	return string(ack)
}

func (c *client) next(t *testing.T) string {
	t.Helper()
	select {
	case e := <-c.events:
		return e
	case <-time.After(wait):
		t.Fatal("no event")
		return ""
	}
}

func TestRelayAcrossNodes(t *testing.T) {
	for _, tr := range []string{eio.Websocket, eio.Polling} {
		t.Run(tr, func(t *testing.T) {
			urls := relaytest.Cluster(t, nil)
			a := connect(t, urls[0], tr) // sender, node 0
			b := connect(t, urls[1], tr) // receiver, node 1
			c := connect(t, urls[0], tr) // receiver, node 0
			d := connect(t, urls[1], tr) // in another room
			for _, x := range []*client{a, b, c} {
				if ack := x.call(t, relay.EventJoin, map[string]string{"room": "r1"}); ack != `{"ok":true}` {
					t.Fatalf("join ack %s", ack)
				}
			}
			d.call(t, relay.EventJoin, map[string]string{"room": "r2"})

			// The argument travels as sent, to everyone in the room but
			// the sender, on both nodes.
			msg := `{"room":"r1","data":{"s":1,"text":"héllo 😀"},"extra":[1,2]}`
			if ack := a.call(t, relay.EventRelay, json.RawMessage(msg)); ack != `{"ok":true}` {
				t.Fatalf("relay ack %s", ack)
			}
			for _, x := range []*client{b, c} {
				if got := x.next(t); got != "relay "+msg {
					t.Fatalf("got %q", got)
				}
			}

			// The sender got nothing of its own: the next thing it receives
			// is b's message, published after its own (one broker order).
			back := `{"room":"r1","data":{"s":2}}`
			b.call(t, relay.EventRelay, json.RawMessage(back))
			if got := a.next(t); got != "relay "+back {
				t.Fatalf("sender got %q", got)
			}
			if got := c.next(t); got != "relay "+back {
				t.Fatalf("c got %q", got)
			}
			// d, in another room, gets only what is sent there.
			other := `{"room":"r2","data":3}`
			a.call(t, relay.EventRelay, json.RawMessage(other))
			if got := d.next(t); got != "relay "+other {
				t.Fatalf("d got %q", got)
			}
		})
	}
}

func TestRelayBadRequests(t *testing.T) {
	urls := relaytest.Cluster(t, nil)
	a := connect(t, urls[0], eio.Websocket)
	for _, tc := range []struct {
		event string
		arg   string
	}{
		{relay.EventJoin, `{"room":""}`},
		{relay.EventJoin, fmt.Sprintf(`{"room":"%0129d"}`, 0)},
		{relay.EventRelay, `{"data":1}`},
		{relay.EventRelay, `"just a string"`},
		{relay.EventRelay, `{"room":5}`},
	} {
		var ack protocol.ErrorAck
		raw := a.call(t, tc.event, json.RawMessage(tc.arg))
		if err := json.Unmarshal([]byte(raw), &ack); err != nil || ack.OK || ack.Error == nil || ack.Error.Code != protocol.CodeBadRequest {
			t.Errorf("%s %s: ack %s", tc.event, tc.arg, raw)
		}
	}
}

func TestProfiling(t *testing.T) {
	ts := httptest.NewServer(relay.Profiling())
	defer ts.Close()
	for path, want := range map[string]int{
		"/debug/pprof/":                  http.StatusOK,
		"/debug/pprof/heap?debug=1":      http.StatusOK,
		"/debug/pprof/goroutine?debug=1": http.StatusOK,
		"/debug/pprof/cmdline":           http.StatusNotFound,
	} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
