package sio

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSplitTextPayload(t *testing.T) {
	good := map[string][]string{
		"2:40":              {"40"},
		"2:4010:40/im/user": {"40", "40/im/user"},
		"4:42[\"":           {"42[\""},
		"3:4张文":             {"4张文"}, // one UTF-16 unit per BMP character
		"3:4😀":              {"4😀"},  // a surrogate pair counts two
		"1:21:3":            {"2", "3"},
	}
	for in, want := range good {
		got, err := splitTextPayload(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("split(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "5:42", "0:", "-1:4", "99999:4", "2:4😀", ":4", "2;40", "12345678901:4"} {
		if got, err := splitTextPayload(in); !errors.Is(err, errMalformed) {
			t.Errorf("split(%q) = %q, %v; want errMalformed", in, got, err)
		}
	}
}

func TestCheckPacket(t *testing.T) {
	for _, p := range []string{
		"2", "2probe", "3", "5", "6", "1",
		"40", "40/im/user", "41/im/user",
		`42["message",{"a":1}]`, `42/im/user,["message"]`, `42/im/user,12["message",{}]`, `43/im/user,3[{"ok":true}]`, `43/im/user,3[]`,
	} {
		if err := checkPacket(p); err != nil {
			t.Errorf("checkPacket(%q) = %v", p, err)
		}
	}
	for _, p := range []string{
		"0", "7", "4", "44/im/user,", "45-/im/user,[]", "49[]",
		`42["m`, `42/im/user,0`, `42/im/user,2[{"a":1}]`, `42/im/user,3[]`, `42/im/user,[1]`, `42/im/user,[""]`, `42/im/user,{"a":1}`, `42/im/user`,
	} {
		if err := checkPacket(p); !errors.Is(err, errMalformed) {
			t.Errorf("checkPacket(%q) = %v; want errMalformed", p, err)
		}
	}
}

func TestMalformedPollingPostIsAnsweredAtOnce(t *testing.T) {
	ts, f := userServer(t, Config{})
	for _, bad := range []string{`42/im/user,2[{"a":1}]`, `42["m`, `4999["x"]`} {
		c := dialPolling(t, ts.ts, url.Values{})
		c.connectNS(nsUser)
		f.socket(t)
		start := time.Now()
		err := c.trySend(bad)
		if err == nil || !strings.Contains(err.Error(), "400") {
			t.Fatalf("%q: got %v, want 400", bad, err)
		}
		if d := time.Since(start); d > wait {
			t.Fatalf("%q answered after %s", bad, d)
		}
		c.waitClosed()
	}
}
