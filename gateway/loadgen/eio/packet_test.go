package eio

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestParseSIO(t *testing.T) {
	cases := []struct {
		in       string
		typ      byte
		nsp      string
		id       int64
		data     string
		wantFail bool
	}{
		{in: "0", typ: sioConnect, id: -1},
		{in: "0/im/user", typ: sioConnect, nsp: "/im/user", id: -1},
		{in: "0/relay,", typ: sioConnect, nsp: "/relay", id: -1},                   // socket.io 4
		{in: "0/im/user,[]", typ: sioConnect, nsp: "/im/user", id: -1, data: "[]"}, // the Go library
		{in: "0/relay?a=b,", typ: sioConnect, nsp: "/relay", id: -1},
		{in: `2/relay,["relay",{"a":1}]`, typ: sioEvent, nsp: "/relay", id: -1, data: `["relay",{"a":1}]`},
		{in: `2/relay,12["x"]`, typ: sioEvent, nsp: "/relay", id: 12, data: `["x"]`},
		{in: `3/im/user,7[{"ok":true}]`, typ: sioAck, nsp: "/im/user", id: 7, data: `[{"ok":true}]`},
		{in: `3/im/user,[{"ok":true}]`, typ: sioAck, nsp: "/im/user", id: -1, data: `[{"ok":true}]`},
		{in: `2["root"]`, typ: sioEvent, id: -1, data: `["root"]`},
		{in: `4/relay,"nope"`, typ: sioError, nsp: "/relay", id: -1, data: `"nope"`},
		{in: `51-/relay,["b",{"_placeholder":true,"num":0}]`, typ: sioBinaryEvent, nsp: "/relay", id: -1, data: `["b",{"_placeholder":true,"num":0}]`},
		{in: "", wantFail: true},
	}
	for _, tc := range cases {
		p, err := parseSIO(tc.in)
		if tc.wantFail {
			if err == nil {
				t.Errorf("%q: no error", tc.in)
			}
			continue
		}
		if err != nil || p.typ != tc.typ || p.nsp != tc.nsp || p.id != tc.id || p.data != tc.data || p.hasID != (tc.id >= 0) {
			t.Errorf("%q: got %+v %v", tc.in, p, err)
		}
	}
}

func TestEncodeEvent(t *testing.T) {
	if got := encodeEvent("/relay", 3, "relay", json.RawMessage(`{"room":"r"}`)); got != `42/relay,3["relay",{"room":"r"}]` {
		t.Errorf("got %s", got)
	}
	if got := encodeEvent("", -1, "ev", nil); got != `42["ev"]` {
		t.Errorf("got %s", got)
	}
	name, arg, err := eventArgs(`["a \"quoted\" name",{"x":[1,2]},"ignored"]`)
	if err != nil || name != `a "quoted" name` || string(arg) != `{"x":[1,2]}` {
		t.Errorf("eventArgs: %q %s %v", name, arg, err)
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	pkts := []string{"2", `42/t,["x","😀 surrogate pair"]`, "40/t", `42/t,["中文"]`}
	body := encodePayload(pkts)
	// JavaScript counts UTF-16 code units: the emoji is two.
	if want := `1:2`; body[:3] != want {
		t.Fatalf("payload %q", body)
	}
	got, err := decodePayload(body)
	if err != nil || !slices.Equal(got, pkts) {
		t.Fatalf("decode %q: %q %v", body, got, err)
	}
	for _, bad := range []string{"5:abc", "x:1", ":1", "2"} {
		if _, err := decodePayload(bad); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

func TestParseOpen(t *testing.T) {
	o, err := parseOpen(`0{"sid":"gw1.abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":60000}`)
	if err != nil || o.SID != "gw1.abc" || o.PingInterval != 25000 || o.PingTimeout != 60000 {
		t.Fatalf("%+v %v", o, err)
	}
	for _, bad := range []string{"", "40", `0{"upgrades":[]}`, "0{"} {
		if _, err := parseOpen(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
