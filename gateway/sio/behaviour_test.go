package sio

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/kefu-im/kefu/pkg/protocol"
)

// TestLibraryBehaviour pins down what go-socket.io v1.8.0-rc.1 does with
// unusual packets before (or instead of) reaching Handle. The package
// documentation describes each case; if the library changes, this fails.
func TestLibraryBehaviour(t *testing.T) {
	ts, f := userServer(t, Config{})
	connect := func(t *testing.T) (*rawClient, *Socket) {
		t.Helper()
		c := wsUser(t, ts, nil)
		return c, f.socket(t)
	}

	t.Run("missing argument is answered bad_request", func(t *testing.T) {
		c, _ := connect(t)
		c.send(`42` + nsUser + `,1["echo"]`)
		var a errAck
		if err := json.Unmarshal(c.ack(nsUser, 1)[0], &a); err != nil || a.Error == nil ||
			a.Error.Code != protocol.CodeBadRequest || a.Error.Message != "missing argument" {
			t.Fatalf("ack %+v %v", a, err)
		}
		checkEcho(t, c, 2, "alive")
	})

	t.Run("extra arguments are ignored", func(t *testing.T) {
		c, _ := connect(t)
		c.send(`42` + nsUser + `,1["echo",{"text":"first"},{"text":"second"},3]`)
		var a echoAck
		if err := json.Unmarshal(c.ack(nsUser, 1)[0], &a); err != nil || a.Text != "first" {
			t.Fatalf("ack %+v %v", a, err)
		}
	})

	t.Run("unknown event gets the library's empty ack", func(t *testing.T) {
		c, _ := connect(t)
		c.emit(nsUser, 1, "no-such-event", `{"x":1}`)
		if p := strings.TrimSpace(c.expect("43" + nsUser + ",1")); p != "43"+nsUser+",1[]" {
			t.Fatalf("unknown event answered %q", p)
		}
		// Without an ack id nothing comes back; the connection stays up.
		c.send(`42` + nsUser + `,["no-such-event",{}]`)
		checkEcho(t, c, 2, "alive")
	})

	t.Run("event without ack id still gets an id-less ack", func(t *testing.T) {
		c, _ := connect(t)
		c.send(`42` + nsUser + `,["echo",{"text":"fire and forget"}]`)
		p := c.expect("43" + nsUser + ",")
		if !strings.HasPrefix(p, "43"+nsUser+",[") || !strings.Contains(p, "fire and forget") {
			t.Fatalf("got %q", p)
		}
	})

	t.Run("event for a namespace not joined is dropped silently", func(t *testing.T) {
		c, _ := connect(t)
		c.emit("/im/agent", 1, "echo", `{"text":"x"}`)
		// The next acknowledgement is the one for /im/user: nothing was
		// sent for the dropped event and the connection is alive.
		c.emit(nsUser, 2, "echo", `{"text":"y"}`)
		if p := c.expect("43"); !strings.HasPrefix(p, "43"+nsUser+",2[") {
			t.Fatalf("got %q", p)
		}
	})

	closes := []struct{ name, packet string }{
		{"malformed JSON closes the connection", `42` + nsUser + `,1["echo",{"text":]`},
		{"event without a name closes the connection", `42` + nsUser + `,1[]`},
		{"event name that is not a string closes the connection", `42` + nsUser + `,1[7,{}]`},
		{"unknown packet type closes the connection", `49` + nsUser + `,1["echo",{}]`},
		{"connect to an unregistered namespace closes the connection", `40/nope`},
	}
	for _, tc := range closes {
		t.Run(tc.name, func(t *testing.T) {
			c, s := connect(t)
			c.send(tc.packet)
			c.waitClosed()
			if r := f.disconnected(t, s.ID()); r != ReasonTransportClose {
				t.Errorf("reason %q", r)
			}
		})
	}

	t.Run("binary attachments are not decoded", func(t *testing.T) {
		c, _ := connect(t)
		// A binary event: the JSON holds a placeholder and the bytes follow
		// in a binary frame. Handlers see the placeholder, not the bytes.
		c.send(`451-` + nsUser + `,1["raw",{"_placeholder":true,"num":0}]`)
		c.sendMu.Lock()
		err := c.ws.WriteMessage(websocket.BinaryMessage, []byte{4, 0xde, 0xad})
		c.sendMu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		var a map[string]int
		if err := json.Unmarshal(c.ack(nsUser, 1)[0], &a); err != nil || a["len"] != len(`{"_placeholder":true,"num":0}`) {
			t.Fatalf("ack %v %v", a, err)
		}
	})

	t.Run("binary attachment missing closes the connection", func(t *testing.T) {
		c, s := connect(t)
		c.send(`451-`+nsUser+`,1["raw",{"_placeholder":true,"num":0}]`, eventPacket(nsUser, 2, "echo", `{"text":"x"}`))
		c.waitClosed()
		if r := f.disconnected(t, s.ID()); r != ReasonTransportClose {
			t.Errorf("reason %q", r)
		}
	})
}
