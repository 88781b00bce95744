package api

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/prompt"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/workhours"
)

// sessionConfig is the wire shape of routing settings: the tenant's (skill
// empty) or a skill group's overrides. Zero values and a null lastagent
// inherit (group → tenant → built-in defaults). Timers are in seconds; a
// group's -1 turns the tenant's timer off for it. Prompts and lang belong
// to the tenant row. A PUT without schedule keeps the stored one, so that
// clients older than schedules do not erase it; {} clears it.
type sessionConfig struct {
	Skill            string              `json:"skill"`
	Distribution     string              `json:"distribution"`
	LastAgent        *bool               `json:"lastagent"`
	MaxUser          int                 `json:"maxuser"`
	InitMaxUser      int                 `json:"initmaxuser"`
	VisitorIdleWarn  int                 `json:"timeout"`
	VisitorIdleClose int                 `json:"retimeout"`
	AgentNoReply     int                 `json:"agenttimeout"`
	QueueTimeout     int                 `json:"quenetimeout"`
	VisitorLeftGrace int                 `json:"visitorleftgrace"`
	WorkingHours     string              `json:"workinghours"`
	Schedule         *workhours.Schedule `json:"schedule"`
	Lang             string              `json:"lang"`
	Prompts          map[string]string   `json:"prompts"`
}

// maxTimer bounds every timer: a day.
const maxTimer = 86400

// maxCapacity bounds maxuser and initmaxuser.
const maxCapacity = 1000

// Validate checks every field; an error's message starts with the wire
// name of the field at fault ("timeout: ...", "schedule.days.sat: ..."), so
// the editor can show it next to that field.
func (r sessionConfig) Validate() error {
	bad := func(field, format string, args ...any) error {
		return protocol.Errorf(protocol.CodeBadRequest, field+": "+format, args...)
	}
	if r.Distribution != "" && !slices.Contains([]string{protocol.DistributionLeast, protocol.DistributionIdle, protocol.DistributionRound}, r.Distribution) {
		return bad("distribution", "must be %q, %q or %q (empty inherits)", protocol.DistributionLeast, protocol.DistributionIdle, protocol.DistributionRound)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"maxuser", r.MaxUser}, {"initmaxuser", r.InitMaxUser}} {
		if f.v < 0 || f.v > maxCapacity {
			return bad(f.name, "must be 0 (inherit) to %d", maxCapacity)
		}
	}
	least := 0
	if r.Skill != "" {
		least = -1
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"timeout", r.VisitorIdleWarn}, {"retimeout", r.VisitorIdleClose}, {"agenttimeout", r.AgentNoReply},
		{"quenetimeout", r.QueueTimeout}, {"visitorleftgrace", r.VisitorLeftGrace},
	} {
		if f.v < least || f.v > maxTimer {
			return bad(f.name, "seconds from %d to %d (0 inherits or is off; -1 turns a group's off)", least, maxTimer)
		}
	}
	if err := workhours.Validate(r.WorkingHours); err != nil {
		return bad("workinghours", "%v", err)
	}
	if r.Schedule != nil {
		if _, err := workhours.Compile(r.WorkingHours, *r.Schedule); err != nil {
			return protocol.Errorf(protocol.CodeBadRequest, "schedule.%v", err)
		}
	}
	if r.Skill != "" && r.Lang != "" {
		return bad("lang", "the tenant's: set it on the row with an empty skill")
	}
	if r.Skill != "" && len(r.Prompts) > 0 {
		return bad("prompts", "the tenant's: set them on the row with an empty skill")
	}
	if r.Lang != "" && !slices.Contains(prompt.Languages(), r.Lang) {
		return bad("lang", "must be one of %v (empty: %s)", prompt.Languages(), prompt.Chinese)
	}
	if err := prompt.Validate(r.Prompts); err != nil {
		return bad("prompts", "%v", err)
	}
	return nil
}

// wireSessionConfig is x on the wire.
func wireSessionConfig(x store.SessionConfig) sessionConfig {
	prompts := map[string]string{}
	if x.Prompts != "" {
		_ = json.Unmarshal([]byte(x.Prompts), &prompts) // validated when saved
	}
	sched, _ := workhours.DecodeSchedule(x.Schedule) // validated when saved
	return sessionConfig{
		Skill: x.Skill, Distribution: x.Distribution, LastAgent: x.LastAgent, MaxUser: x.MaxUser, InitMaxUser: x.InitMaxUser,
		VisitorIdleWarn: x.VisitorIdleWarn, VisitorIdleClose: x.VisitorIdleClose, AgentNoReply: x.AgentNoReply,
		QueueTimeout: x.QueueTimeout, VisitorLeftGrace: x.VisitorLeftGrace, WorkingHours: x.WorkingHours,
		Schedule: &sched, Lang: x.Lang, Prompts: prompts,
	}
}

func (a *API) getSessionConfig(c echo.Context) error {
	cfgs, err := a.Store.SessionConfigs(c.Request().Context(), request.Principal(c).Agent.Orgi)
	if err != nil {
		return err
	}
	out := make([]sessionConfig, len(cfgs))
	for i, x := range cfgs {
		out[i] = wireSessionConfig(x)
	}
	return c.JSON(http.StatusOK, out)
}

// putSessionConfig replaces one settings row, then has routing reload the
// tenant and serve the queue, since capacity may have grown.
func (a *API) putSessionConfig(c echo.Context) error {
	var in sessionConfig
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	orgi := request.Principal(c).Agent.Orgi
	if _, err := a.skillGroup(c, orgi, in.Skill); err != nil {
		return err
	}
	cfgs, err := a.Store.SessionConfigs(ctx, orgi)
	if err != nil {
		return err
	}
	if in.Schedule == nil {
		stored := workhours.Schedule{}
		if i := slices.IndexFunc(cfgs, func(x store.SessionConfig) bool { return x.Skill == in.Skill }); i >= 0 {
			stored, _ = workhours.DecodeSchedule(cfgs[i].Schedule)
		}
		// The stored schedule must still fit the new working hours.
		if _, err := workhours.Compile(in.WorkingHours, stored); err != nil {
			return protocol.Errorf(protocol.CodeBadRequest, "schedule.%v", err)
		}
		in.Schedule = &stored
	}
	if in.Prompts == nil {
		in.Prompts = map[string]string{}
	}
	prompts, err := json.Marshal(in.Prompts)
	if err != nil {
		return err
	}
	row := store.SessionConfig{
		Orgi: orgi, Skill: in.Skill, Distribution: in.Distribution, LastAgent: in.LastAgent, MaxUser: in.MaxUser, InitMaxUser: in.InitMaxUser,
		SessionTimers: store.SessionTimers{
			VisitorIdleWarn: in.VisitorIdleWarn, VisitorIdleClose: in.VisitorIdleClose, AgentNoReply: in.AgentNoReply,
			QueueTimeout: in.QueueTimeout, VisitorLeftGrace: in.VisitorLeftGrace, WorkingHours: in.WorkingHours,
			Schedule: in.Schedule.Encode(),
		},
		Lang: in.Lang, Prompts: string(prompts),
	}
	if err := a.Store.SaveSessionConfig(ctx, row); err != nil {
		return err
	}
	a.routingSettingsChanged(c, orgi)
	return c.JSON(http.StatusOK, wireSessionConfig(row))
}

// deleteSessionConfig removes a group's overrides: it inherits everything.
func (a *API) deleteSessionConfig(c echo.Context) error {
	orgi := request.Principal(c).Agent.Orgi
	if _, err := a.skillGroup(c, orgi, c.Param("skill")); err != nil {
		return err
	}
	err := a.Store.DeleteSessionConfig(c.Request().Context(), orgi, c.Param("skill"))
	if err != nil {
		return err
	}
	a.routingSettingsChanged(c, orgi)
	return c.NoContent(http.StatusNoContent)
}

// skillGroup finds the tenant's group id; "" is the tenant itself (nil).
// Disabled groups are found: their settings are kept for when they return.
func (a *API) skillGroup(c echo.Context, orgi, id string) (*store.SkillGroup, error) {
	if id == "" {
		return nil, nil
	}
	skills, err := a.Store.ListSkills(c.Request().Context(), orgi)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(skills, func(s store.SkillGroup) bool { return s.ID == id })
	if i < 0 {
		return nil, protocol.Errorf(protocol.CodeNotFound, "skill group %q not found", id)
	}
	return &skills[i], nil
}
