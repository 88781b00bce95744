package node_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/gateway/node/nodetest"
)

// apiError is an error answer.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type sourced[T any] struct {
	Value  T      `json:"value"`
	Source string `json:"source"`
}

type effective struct {
	Skill     string `json:"skill"`
	Effective struct {
		Distribution sourced[string] `json:"distribution"`
		InitMaxUser  sourced[int]    `json:"initmaxuser"`
		MaxUser      sourced[int]    `json:"maxuser"`
		Timeout      sourced[int]    `json:"timeout"`
		AgentTimeout sourced[int]    `json:"agenttimeout"`
		WorkingHours sourced[string] `json:"workinghours"`
		Schedule     sourced[struct {
			Days map[string]string `json:"days"`
		}] `json:"schedule"`
	} `json:"effective"`
	Defaults struct {
		InitMaxUser int `json:"initmaxuser"`
	} `json:"defaults"`
	Prompts    []promptEntry `json:"prompts"`
	TimeZone   string        `json:"timezone"`
	Now        string        `json:"now"`
	Weekday    string        `json:"weekday"`
	OpenNow    bool          `json:"open_now"`
	NextChange string        `json:"next_change"`
}

type promptEntry struct {
	Key          string   `json:"key"`
	DefaultEN    string   `json:"default_en"`
	Placeholders []string `json:"placeholders"`
	Value        string   `json:"value"`
}

func (e effective) prompt(key string) promptEntry {
	i := slices.IndexFunc(e.Prompts, func(p promptEntry) bool { return p.Key == key })
	if i < 0 {
		return promptEntry{}
	}
	return e.Prompts[i]
}

func TestSettingsErrorsNameTheField(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{})
	admin := n.Admin()
	cases := []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"distribution": "random"}, "distribution:"},
		{map[string]any{"initmaxuser": 5000}, "initmaxuser:"},
		{map[string]any{"timeout": -1}, "timeout:"},
		{map[string]any{"quenetimeout": 90000}, "quenetimeout:"},
		{map[string]any{"workinghours": "9-18"}, "workinghours:"},
		{map[string]any{"schedule": map[string]any{"days": map[string]string{"sat": "9~18"}}}, "schedule.days.sat:"},
		{map[string]any{"schedule": map[string]any{"days": map[string]string{"saturday": ""}}}, "schedule.days:"},
		{map[string]any{"schedule": map[string]any{"holidays": []map[string]string{{"date": "2026-13-01"}}}}, "schedule.holidays[0].date:"},
		{map[string]any{"schedule": map[string]any{"holidays": []map[string]string{{"date": "2026-10-01"}, {"date": "2026-10-01"}}}}, "schedule.holidays[1].date:"},
		{map[string]any{"schedule": map[string]any{"holidays": []map[string]string{{"date": "2026-10-01", "hours": "10:00~10:00"}}}}, "schedule.holidays[0].hours:"},
		{map[string]any{"lang": "fr"}, "lang:"},
		{map[string]any{"prompts": map[string]string{"nope": "x"}}, "prompts:"},
	}
	for _, c := range cases {
		var e apiError
		r := n.Do(http.MethodPut, "/api/v1/admin/sessionconfig", admin, c.body, &e)
		if r.StatusCode != http.StatusBadRequest || e.Error.Code != "bad_request" || !strings.HasPrefix(e.Error.Message, c.field) {
			t.Errorf("%v: %d %+v; want bad_request starting %q", c.body, r.StatusCode, e.Error, c.field)
		}
	}
	for _, body := range []map[string]any{{"timezone": "Mars/Olympus"}, {"timezone": "Local"}, {"name": " "}} {
		var e apiError
		if r := n.Do(http.MethodPut, "/api/v1/admin/tenant", admin, body, &e); r.StatusCode != http.StatusBadRequest {
			t.Errorf("tenant %v: %d %+v", body, r.StatusCode, e.Error)
		}
	}
	_, agent := n.Staff(demo.Tenant, "plain", "agent", 0)
	if r := n.Do(http.MethodPut, "/api/v1/admin/tenant", agent, map[string]any{"timezone": "UTC"}, nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("an agent set the time zone: %d", r.StatusCode)
	}
}

func TestEffectiveSettingsSayWhereEachValueComesFrom(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{MySQL: true})
	admin := n.Admin()
	var eff effective
	if r := n.Do(http.MethodGet, "/api/v1/admin/sessionconfig/effective", admin, nil, &eff); r.StatusCode != http.StatusOK {
		t.Fatalf("effective: %d", r.StatusCode)
	}
	if eff.Effective.InitMaxUser != (sourced[int]{5, "default"}) || eff.Defaults.InitMaxUser != 5 ||
		eff.Effective.Distribution != (sourced[string]{"least", "default"}) || !eff.OpenNow || eff.TimeZone != "UTC" {
		t.Fatalf("a fresh tenant: %+v", eff)
	}
	if p := eff.prompt("successmsg"); !slices.Equal(p.Placeholders, []string{"{agent}"}) || !strings.Contains(p.DefaultEN, "{agent}") {
		t.Fatalf("prompts: %+v", eff.Prompts)
	}

	var group struct {
		ID string `json:"id"`
	}
	n.Do(http.MethodPost, "/api/v1/admin/skills", admin, map[string]any{"name": "VIP"}, &group)
	for _, body := range []map[string]any{
		{"initmaxuser": 3, "timeout": 300, "workinghours": "09:00~18:00", "prompts": map[string]string{"successmsg": "{agent} 在此"}},
		{"skill": group.ID, "timeout": 120, "maxuser": 4, "schedule": map[string]any{"days": map[string]string{"sat": ""}}},
	} {
		var e apiError
		if r := n.Do(http.MethodPut, "/api/v1/admin/sessionconfig", admin, body, &e); r.StatusCode != http.StatusOK {
			t.Fatalf("save %v: %d %+v", body, r.StatusCode, e.Error)
		}
	}
	// A PUT without schedule (an older client) keeps the stored one.
	if r := n.Do(http.MethodPut, "/api/v1/admin/sessionconfig", admin, map[string]any{"skill": group.ID, "timeout": 100, "maxuser": 4}, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("save without schedule: %d", r.StatusCode)
	}
	eff = effective{}
	n.Do(http.MethodGet, "/api/v1/admin/sessionconfig/effective?skill="+group.ID, admin, nil, &eff)
	e := eff.Effective
	if eff.Skill != group.ID || e.Timeout != (sourced[int]{100, "group"}) || e.InitMaxUser != (sourced[int]{3, "tenant"}) ||
		e.MaxUser != (sourced[int]{4, "group"}) || e.AgentTimeout != (sourced[int]{0, "default"}) ||
		e.WorkingHours != (sourced[string]{"", "group"}) || e.Schedule.Source != "group" || e.Schedule.Value.Days["sat"] != "" || len(e.Schedule.Value.Days) != 1 {
		t.Fatalf("the group's: %+v", eff)
	}
	if p := eff.prompt("successmsg"); p.Value != "{agent} 在此" {
		t.Fatalf("the tenant's own prompt: %+v", p)
	}

	if r := n.Do(http.MethodDelete, "/api/v1/admin/sessionconfig/"+group.ID, admin, nil, nil); r.StatusCode != http.StatusNoContent {
		t.Fatalf("delete the group's overrides: %d", r.StatusCode)
	}
	eff = effective{}
	n.Do(http.MethodGet, "/api/v1/admin/sessionconfig/effective?skill="+group.ID, admin, nil, &eff)
	if eff.Effective.Timeout != (sourced[int]{300, "tenant"}) || eff.Effective.WorkingHours != (sourced[string]{"09:00~18:00", "tenant"}) {
		t.Fatalf("after removing the overrides: %+v", eff.Effective)
	}
	for _, path := range []string{"/api/v1/admin/sessionconfig/effective?skill=nope", "/api/v1/admin/sessionconfig/nope"} {
		method := http.MethodGet
		if !strings.Contains(path, "effective") {
			method = http.MethodDelete
		}
		if r := n.Do(method, path, admin, nil, nil); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: %d", method, path, r.StatusCode)
		}
	}
}

// TestTimeZoneDecidesTheWidgetsOpen sets hours that are open now in UTC
// and closed in Shanghai (eight hours ahead), then moves the tenant.
func TestTimeZoneDecidesTheWidgetsOpen(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{})
	admin := n.Admin()
	h := time.Now().UTC().Hour()
	spec := fmt.Sprintf("%02d:00~%02d:00", (h+22)%24, (h+2)%24) // two hours either side of now, in UTC
	if r := n.Do(http.MethodPut, "/api/v1/admin/sessionconfig", admin, map[string]any{"workinghours": spec}, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("save %s: %d", spec, r.StatusCode)
	}
	open := func() bool {
		t.Helper()
		var cfg struct {
			Open *bool `json:"open"`
		}
		if r := n.Do(http.MethodGet, "/im/"+demo.AppID+"/config", "", nil, &cfg); r.StatusCode != http.StatusOK || cfg.Open == nil {
			t.Fatalf("widget config: %d", r.StatusCode)
		}
		return *cfg.Open
	}
	for _, c := range []struct {
		zone string
		open bool
	}{{"UTC", true}, {"Asia/Shanghai", false}, {"UTC", true}} {
		var got struct {
			TimeZone string `json:"timezone"`
			Now      string `json:"now"`
		}
		if r := n.Do(http.MethodPut, "/api/v1/admin/tenant", admin, map[string]any{"timezone": c.zone}, &got); r.StatusCode != http.StatusOK || got.TimeZone != c.zone {
			t.Fatalf("set %s: %d %+v", c.zone, r.StatusCode, got)
		}
		if c.zone == "Asia/Shanghai" && !strings.HasSuffix(got.Now, "+08:00") {
			t.Errorf("Shanghai's clock: %s", got.Now)
		}
		if o := open(); o != c.open {
			t.Fatalf("%s with %s: open %v, want %v", c.zone, spec, o, c.open)
		}
	}
}
