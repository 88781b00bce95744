package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSendMessageValidate(t *testing.T) {
	ok := SendMessage{Type: TypeMessage, MsgType: MsgTypeText, Message: "hi", ClientID: "c1"}
	cases := []struct {
		name string
		edit func(*SendMessage)
		code string
	}{
		{"valid", func(*SendMessage) {}, ""},
		{"writing needs no clientid", func(m *SendMessage) { m.Type, m.ClientID, m.Message = TypeWriting, "", "" }, ""},
		{"unknown type", func(m *SendMessage) { m.Type = "shout" }, CodeBadRequest},
		{"missing type", func(m *SendMessage) { m.Type = "" }, CodeBadRequest},
		{"unknown msgtype", func(m *SendMessage) { m.MsgType = "video" }, CodeBadRequest},
		{"image without uploads", func(m *SendMessage) { m.MsgType = MsgTypeImage }, CodeBadRequest},
		{"empty text", func(m *SendMessage) { m.Message = "" }, CodeBadRequest},
		{"missing clientid", func(m *SendMessage) { m.ClientID = "" }, CodeBadRequest},
		{"long clientid", func(m *SendMessage) { m.ClientID = strings.Repeat("x", MaxClientIDLen+1) }, CodeBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := ok
			c.edit(&m)
			err := m.Validate()
			if c.code == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Code != c.code {
				t.Fatalf("got %v, want code %s", err, c.code)
			}
		})
	}
}

func TestNewChatValidateCountsCharactersNotBytes(t *testing.T) {
	if err := (NewChat{Name: strings.Repeat("张", 64)}).Validate(); err != nil {
		t.Fatalf("64 CJK characters rejected: %v", err)
	}
	err := (NewChat{Memo: strings.Repeat("a", 513)}).Validate()
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != CodeTooLarge {
		t.Fatalf("long memo: %v", err)
	}
}

func TestAsErrorHidesInternals(t *testing.T) {
	if got := AsError(fmt.Errorf("wrapped: %w", Errorf(CodeForbidden, "no"))); got.Code != CodeForbidden {
		t.Fatalf("wrapped protocol error lost: %+v", got)
	}
	got := AsError(errors.New("dial tcp 10.0.0.5:3306: connection refused"))
	if got.Code != CodeInternal || strings.Contains(got.Message, "3306") {
		t.Fatalf("internal detail leaked: %+v", got)
	}
	b, _ := json.Marshal(NewErrorAck(Errorf(CodeTooLarge, "big")))
	if string(b) != `{"ok":false,"error":{"code":"too_large","message":"big"}}` {
		t.Fatalf("error ack shape: %s", b)
	}
}

func TestTimeFormat(t *testing.T) {
	ts := Time(time.Date(2026, 11, 24, 1, 2, 3, 456789000, time.FixedZone("CST", 8*3600)))
	b, err := json.Marshal(ts)
	if err != nil || string(b) != `"2026-11-23T17:02:03.456Z"` {
		t.Fatalf("marshal = %s, %v; want UTC with milliseconds", b, err)
	}
	var back Time
	if err := json.Unmarshal(b, &back); err != nil || !time.Time(back).Equal(time.Time(ts).Truncate(time.Millisecond)) {
		t.Fatalf("round trip: %v %v", time.Time(back), err)
	}
	if b, _ := json.Marshal(Time{}); string(b) != `""` {
		t.Fatalf("zero time: %s", b)
	}
}

func TestRoomsDoNotCollide(t *testing.T) {
	rooms := map[string]bool{}
	for _, r := range []string{VisitorRoom("a", "b"), AgentRoom("a"), TenantAgentsRoom("a"), SessionRoom("a"), LoginRoom("a"), VisitorRoom("a:b", "")} {
		if rooms[r] {
			t.Fatalf("room %q named twice", r)
		}
		rooms[r] = true
	}
}
