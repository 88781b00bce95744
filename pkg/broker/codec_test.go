package broker

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestCodecRoundTrip(t *testing.T) {
	for _, msg := range []Message{
		{Namespace: "/im/user", Room: "v:demo:u1", Except: "sock-9", Event: "message", Data: json.RawMessage(`{"text":"héllo","n":[1,2]}`)},
		{Namespace: "/", Event: "announce"},
		{Namespace: "/relay", Room: strings.Repeat("r", 300), Event: "relay", Data: json.RawMessage(`"x"`)},
	} {
		b, err := encodeMessage(msg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeMessage(string(b))
		if err != nil {
			t.Fatalf("decode %+v: %v", msg, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(msg) {
			t.Fatalf("round trip: got %+v, want %+v", got, msg)
		}
	}
}

func TestCodecAcceptsTheJSONFormOfEarlierVersions(t *testing.T) {
	want := Message{Namespace: "/im/agent", Room: "a:7", Except: "s", Event: "message", Data: json.RawMessage(`{"a":1}`)}
	old, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeMessage(string(old))
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("decode %s = %+v, %v", old, got, err)
	}
}

func TestCodecRejects(t *testing.T) {
	if _, err := encodeMessage(Message{Event: "x", Data: json.RawMessage(`{"a":`)}); err == nil {
		t.Error("encoded invalid JSON data")
	}
	good, err := encodeMessage(Message{Namespace: "/n", Room: "room", Event: "e"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"", "\x02abc", "\x01", "\x01\x05ab", string(good[:len(good)-2]), "\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", `{"n":1}`, "[1]"} {
		if m, err := decodeMessage(p); err == nil {
			t.Errorf("decoded %q as %+v", p, m)
		}
	}
}
