package router

import (
	"fmt"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// offHours reports whether sess was turned away for the hours.
func offHours(s store.Session) bool {
	return s.Status == protocol.SessionEnd && s.EndBy == protocol.EndBySystem
}

func (f *fixture) timeZone(name string) {
	f.t.Helper()
	t, err := f.st.GetTenant(f.ctx, "o")
	if err != nil {
		f.t.Fatal(err)
	}
	t.TimeZone = name
	if err := f.st.UpdateTenant(f.ctx, &t); err != nil {
		f.t.Fatal(err)
	}
	f.handle(command.Command{Kind: command.ConfigChanged, Orgi: "o"})
}

func TestHolidayClosesTheService(t *testing.T) {
	f := newFixture(t, 0) // Tuesday 2026-11-24 09:00 UTC
	f.config(store.SessionConfig{SessionTimers: store.SessionTimers{
		WorkingHours: "08:00~18:00", Schedule: `{"holidays":[{"date":"2026-11-24","hours":"","name":"closed"}]}`,
	}})
	f.ready(f.agent("a", "agent", 0))
	if s := f.request(store.Session{UserID: "u"}); !offHours(s) {
		t.Fatalf("served on a closed holiday: %+v", s)
	}
	if st := lastStatus(f, "u"); st.State != protocol.StateOffHours {
		t.Fatalf("visitor told %+v", st)
	}
	f.now = f.now.Add(24 * time.Hour)
	if s := f.request(store.Session{UserID: "u2"}); s.Status != protocol.SessionInService {
		t.Fatalf("the day after the holiday: %+v", s)
	}
}

func TestHoursAreReadOnTheTenantsClock(t *testing.T) {
	f := newFixture(t, 0) // 09:00 UTC is 17:00 in Shanghai
	f.config(store.SessionConfig{SessionTimers: store.SessionTimers{WorkingHours: "09:00~18:00"}})
	f.ready(f.agent("a", "agent", 0))
	f.timeZone("Asia/Shanghai")
	if s := f.request(store.Session{UserID: "u1"}); s.Status != protocol.SessionInService {
		t.Fatalf("17:00 in Shanghai: %+v", s)
	}
	f.now = f.now.Add(90 * time.Minute) // 18:30 in Shanghai
	if s := f.request(store.Session{UserID: "u2"}); !offHours(s) {
		t.Fatalf("18:30 in Shanghai: %+v", s)
	}
	f.timeZone("UTC") // 10:30 UTC
	if s := f.request(store.Session{UserID: "u3"}); s.Status != protocol.SessionInService {
		t.Fatalf("10:30 UTC: %+v", s)
	}
}

func TestGroupHoursReplaceTheTenants(t *testing.T) {
	f := newFixture(t, 0) // Tuesday 09:00 UTC
	vip := f.skill("vip", 0)
	f.ready(f.agentIn("a", 0, vip))
	// The tenant opens at 10:00; the group opens early on Tuesdays, and its
	// schedule replaces the tenant's hours whole: the tenant's 10:00 start
	// does not apply to it.
	f.config(store.SessionConfig{SessionTimers: store.SessionTimers{WorkingHours: "10:00~18:00"}})
	f.config(store.SessionConfig{Skill: vip, SessionTimers: store.SessionTimers{Schedule: `{"days":{"tue":"08:00~09:30"}}`}})
	if s := f.request(store.Session{UserID: "g", Skill: vip}); s.Status != protocol.SessionInService {
		t.Fatalf("the group's early hours: %+v", s)
	}
	if s := f.request(store.Session{UserID: "t"}); !offHours(s) {
		t.Fatalf("the tenant before 10:00: %+v", s)
	}
	f.now = f.now.Add(time.Hour) // 10:00: the tenant opens, the group has closed
	if s := f.request(store.Session{UserID: "g2", Skill: vip}); !offHours(s) {
		t.Fatalf("the group after 09:30: %+v", s)
	}
}

func TestInitMaxUserDefaultsToFiveAndTheNextScanPullsAgain(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agentIn("a", 10)
	for i := range 7 {
		f.request(store.Session{UserID: fmt.Sprint("w", i), CreatedAt: f.now.Add(time.Duration(i) * time.Second)})
	}
	f.ready(a) // one pull
	if load, _ := f.st.CountInService(f.ctx, "o"); load[a] != 5 {
		t.Fatalf("one pull took %d visitors, want the default initmaxuser 5", load[a])
	}
	f.advance(scanInterval)
	if load, _ := f.st.CountInService(f.ctx, "o"); load[a] != 7 {
		t.Fatalf("after the next scan the agent serves %d, want 7", load[a])
	}
}
