package sessionconf

import (
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/store"
)

func TestResolveLayersAndSources(t *testing.T) {
	off, on := false, true
	tenant := &store.SessionConfig{
		Distribution: "idle", LastAgent: &on, InitMaxUser: 3,
		SessionTimers: store.SessionTimers{VisitorIdleWarn: 300, QueueTimeout: 600, WorkingHours: "09:00~18:00", Schedule: `{"days":{"sun":""}}`},
	}
	group := &store.SessionConfig{
		LastAgent: &off, MaxUser: 4,
		SessionTimers: store.SessionTimers{VisitorIdleWarn: 120, QueueTimeout: -1, Schedule: `{"days":{"sat":""}}`},
	}
	r := Resolve(Input{Tenant: tenant, Group: group, TenantMaxUser: 8})
	checks := []struct {
		name       string
		got, want  any
		from, wont string
	}{
		{"distribution", r.Distribution.Value, "idle", r.Distribution.Source, FromTenant},
		{"lastagent", r.LastAgent.Value, false, r.LastAgent.Source, FromGroup},
		{"maxuser", r.MaxUser.Value, 4, r.MaxUser.Source, FromGroup},
		{"initmaxuser", r.InitMaxUser.Value, 3, r.InitMaxUser.Source, FromTenant},
		{"timeout", r.VisitorIdleWarn.Value, 120, r.VisitorIdleWarn.Source, FromGroup},
		{"quenetimeout", r.QueueTimeout.Value, 0, r.QueueTimeout.Source, FromGroup},
		{"agenttimeout", r.AgentNoReply.Value, 0, r.AgentNoReply.Source, FromDefault},
		// The group's schedule replaces the tenant's hours whole.
		{"workinghours", r.WorkingHours.Value, "", r.WorkingHours.Source, FromGroup},
		{"lang", r.Lang.Value, "zh-CN", r.Lang.Source, FromDefault},
	}
	for _, c := range checks {
		if c.got != c.want || c.from != c.wont {
			t.Errorf("%s = %v from %s; want %v from %s", c.name, c.got, c.from, c.want, c.wont)
		}
	}
	if _, sun := r.Schedule.Value.Days["sun"]; sun || len(r.Schedule.Value.Days) != 1 {
		t.Errorf("schedule %+v; want the group's alone", r.Schedule.Value)
	}

	d := Resolve(Input{})
	if d.InitMaxUser.Value != DefaultInitMaxUser || d.MaxUser.Value != DefaultMaxUser || d.Distribution.Value != DefaultDistribution ||
		d.InitMaxUser.Source != FromDefault || d.WorkingHours.Source != FromDefault {
		t.Errorf("defaults: %+v", d)
	}
	if g := Resolve(Input{Tenant: tenant, Group: &store.SessionConfig{}, GroupMaxUser: 6}); g.WorkingHours.Value != "09:00~18:00" ||
		g.WorkingHours.Source != FromTenant || g.MaxUser.Value != 6 || g.MaxUser.Source != FromGroup {
		t.Errorf("a group without its own hours: %+v", g)
	}
}

func TestBadStoredScheduleIsAlwaysOpen(t *testing.T) {
	r := Resolve(Input{Tenant: &store.SessionConfig{SessionTimers: store.SessionTimers{WorkingHours: "9-18"}}})
	if !r.Hours().Open(time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC), time.UTC) {
		t.Error("a malformed stored setting closed the service")
	}
}
