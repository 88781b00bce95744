package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/prompt"
	"github.com/kefu-im/kefu/pkg/sessionconf"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/tenancy"
	"github.com/kefu-im/kefu/pkg/workhours"
)

// registerSettings mounts the routes of this file (issue 11).
func (a *API) registerSettings(authed, admin *echo.Group) {
	admin.GET("/tenant", a.getTenantSettings)
	admin.PUT("/tenant", a.putTenantSettings)
	admin.GET("/sessionconfig/effective", a.effectiveSessionConfig)
	admin.DELETE("/sessionconfig/:skill", a.deleteSessionConfig)
}

// tenantSettings is what a tenant's admin sets about the tenant itself.
type tenantSettings struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	TimeZone string `json:"timezone"`
	wallClock
}

// wallClock is the tenant's wall clock now, for "open now (Asia/Shanghai
// 14:05, Monday)".
type wallClock struct {
	Now     string `json:"now"`     // RFC 3339 with the zone's offset
	Weekday string `json:"weekday"` // workhours.Weekdays
}

func clockOf(now time.Time, loc *time.Location) wallClock {
	local := now.In(loc)
	return wallClock{Now: local.Format(time.RFC3339), Weekday: workhours.Weekdays[local.Weekday()]}
}

// tenantChange is a PUT /admin/tenant body; absent fields stay.
type tenantChange struct {
	Name     *string `json:"name"`
	TimeZone *string `json:"timezone"`
}

func (r tenantChange) Validate() error {
	return tenancy.Change{Name: r.Name, TimeZone: r.TimeZone}.Validate()
}

func wireTenant(t store.Tenant) tenantSettings {
	return tenantSettings{ID: t.ID, Name: t.Name, TimeZone: t.TimeZone, wallClock: clockOf(time.Now(), workhours.ZoneOrUTC(t.TimeZone))}
}

func (a *API) getTenantSettings(c echo.Context) error {
	t, err := a.Store.GetTenant(c.Request().Context(), request.Principal(c).Agent.Orgi)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wireTenant(t))
}

// putTenantSettings renames the tenant or moves it to another time zone;
// routing reloads it, since working hours are read on its clock.
func (a *API) putTenantSettings(c echo.Context) error {
	var in tenantChange
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	orgi := request.Principal(c).Agent.Orgi
	t, err := a.Store.GetTenant(ctx, orgi)
	if err != nil {
		return err
	}
	zone := t.TimeZone
	if in.Name != nil {
		t.Name = strings.TrimSpace(*in.Name)
	}
	if in.TimeZone != nil {
		t.TimeZone = *in.TimeZone
	}
	if err := a.Store.UpdateTenant(ctx, &t); err != nil {
		return err
	}
	if t.TimeZone != zone {
		a.routingSettingsChanged(c, orgi)
	}
	return c.JSON(http.StatusOK, wireTenant(t))
}

// effectiveSettings is what takes effect for the tenant or one group, and
// why: each value with its source, the defaults behind "inherits", the
// prompts, and whether the service is open now on the tenant's clock.
type effectiveSettings struct {
	Skill     string               `json:"skill"`
	Effective sessionconf.Resolved `json:"effective"`
	Defaults  settingsDefaults     `json:"defaults"`
	Prompts   []promptInfo         `json:"prompts"`
	TimeZone  string               `json:"timezone"`
	wallClock
	OpenNow bool `json:"open_now"`
	// NextChange is when open_now flips (RFC 3339, the zone's offset),
	// if within three weeks.
	NextChange string `json:"next_change,omitempty"`
}

// settingsDefaults are the built-in values; timers default to 0, off.
type settingsDefaults struct {
	Distribution string `json:"distribution"`
	MaxUser      int    `json:"maxuser"`
	InitMaxUser  int    `json:"initmaxuser"`
	Lang         string `json:"lang"`
}

// promptInfo is one prompt: its built-in texts, what it may contain, and
// the tenant's own text ("" uses the default of the tenant's language).
type promptInfo struct {
	Key          string   `json:"key"`
	DefaultZH    string   `json:"default_zh"`
	DefaultEN    string   `json:"default_en"`
	Placeholders []string `json:"placeholders"`
	Value        string   `json:"value"`
}

func (a *API) effectiveSessionConfig(c echo.Context) error {
	ctx := c.Request().Context()
	orgi := request.Principal(c).Agent.Orgi
	skill := c.QueryParam("skill")
	g, err := a.skillGroup(c, orgi, skill)
	if err != nil {
		return err
	}
	t, err := a.Store.GetTenant(ctx, orgi)
	if err != nil {
		return err
	}
	cfgs, err := a.Store.SessionConfigs(ctx, orgi)
	if err != nil {
		return err
	}
	r := resolveSettings(t, cfgs, g)
	var own map[string]string
	for _, x := range cfgs {
		if x.Skill == "" {
			own = wireSessionConfig(x).Prompts
		}
	}
	out := effectiveSettings{
		Skill: skill, Effective: r, TimeZone: t.TimeZone,
		Defaults: settingsDefaults{
			Distribution: sessionconf.DefaultDistribution, MaxUser: sessionconf.DefaultMaxUser,
			InitMaxUser: sessionconf.DefaultInitMaxUser, Lang: prompt.Chinese,
		},
	}
	for _, k := range prompt.Keys() {
		out.Prompts = append(out.Prompts, promptInfo{
			Key: k, DefaultZH: prompt.Default(prompt.Chinese, k), DefaultEN: prompt.Default(prompt.English, k),
			Placeholders: append([]string{}, prompt.Placeholders(k)...), Value: own[k],
		})
	}
	now, loc := time.Now(), workhours.ZoneOrUTC(t.TimeZone)
	hours := r.Hours()
	out.wallClock, out.OpenNow = clockOf(now, loc), hours.Open(now, loc)
	if next, ok := hours.Next(now, loc); ok {
		out.NextChange = next.In(loc).Format(time.RFC3339)
	}
	return c.JSON(http.StatusOK, out)
}
