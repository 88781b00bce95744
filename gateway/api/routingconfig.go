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
// to the tenant row.
type sessionConfig struct {
	Skill            string            `json:"skill"`
	Distribution     string            `json:"distribution"`
	LastAgent        *bool             `json:"lastagent"`
	MaxUser          int               `json:"maxuser"`
	InitMaxUser      int               `json:"initmaxuser"`
	VisitorIdleWarn  int               `json:"timeout"`
	VisitorIdleClose int               `json:"retimeout"`
	AgentNoReply     int               `json:"agenttimeout"`
	QueueTimeout     int               `json:"quenetimeout"`
	VisitorLeftGrace int               `json:"visitorleftgrace"`
	WorkingHours     string            `json:"workinghours"`
	Lang             string            `json:"lang"`
	Prompts          map[string]string `json:"prompts"`
}

// maxTimer bounds every timer: a day.
const maxTimer = 86400

func (r sessionConfig) Validate() error {
	if r.Distribution != "" && !slices.Contains([]string{protocol.DistributionLeast, protocol.DistributionIdle, protocol.DistributionRound}, r.Distribution) {
		return protocol.Errorf(protocol.CodeBadRequest, "distribution must be %q, %q or %q (empty inherits)", protocol.DistributionLeast, protocol.DistributionIdle, protocol.DistributionRound)
	}
	if r.MaxUser < 0 || r.MaxUser > 1000 || r.InitMaxUser < 0 || r.InitMaxUser > 1000 {
		return protocol.Errorf(protocol.CodeBadRequest, "maxuser and initmaxuser must be 0 (inherit) to 1000")
	}
	least := 0
	if r.Skill != "" {
		least = -1
	}
	for _, t := range []int{r.VisitorIdleWarn, r.VisitorIdleClose, r.AgentNoReply, r.QueueTimeout, r.VisitorLeftGrace} {
		if t < least || t > maxTimer {
			return protocol.Errorf(protocol.CodeBadRequest, "timers are seconds from %d to %d (0 inherits or is off; -1 turns a group's off)", least, maxTimer)
		}
	}
	if err := workhours.Validate(r.WorkingHours); err != nil {
		return protocol.Errorf(protocol.CodeBadRequest, "%v", err)
	}
	if r.Skill != "" && (r.Lang != "" || len(r.Prompts) > 0) {
		return protocol.Errorf(protocol.CodeBadRequest, "lang and prompts are the tenant's: set them on the row with an empty skill")
	}
	if r.Lang != "" && !slices.Contains(prompt.Languages(), r.Lang) {
		return protocol.Errorf(protocol.CodeBadRequest, "lang must be one of %v (empty: %s)", prompt.Languages(), prompt.Chinese)
	}
	if err := prompt.Validate(r.Prompts); err != nil {
		return protocol.Errorf(protocol.CodeBadRequest, "%v", err)
	}
	return nil
}

func (a *API) getSessionConfig(c echo.Context) error {
	cfgs, err := a.Store.SessionConfigs(c.Request().Context(), request.Principal(c).Agent.Orgi)
	if err != nil {
		return err
	}
	out := make([]sessionConfig, len(cfgs))
	for i, x := range cfgs {
		prompts := map[string]string{}
		if x.Prompts != "" {
			_ = json.Unmarshal([]byte(x.Prompts), &prompts) // validated when saved
		}
		out[i] = sessionConfig{
			Skill: x.Skill, Distribution: x.Distribution, LastAgent: x.LastAgent, MaxUser: x.MaxUser, InitMaxUser: x.InitMaxUser,
			VisitorIdleWarn: x.VisitorIdleWarn, VisitorIdleClose: x.VisitorIdleClose, AgentNoReply: x.AgentNoReply,
			QueueTimeout: x.QueueTimeout, VisitorLeftGrace: x.VisitorLeftGrace, WorkingHours: x.WorkingHours,
			Lang: x.Lang, Prompts: prompts,
		}
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
	if in.Skill != "" {
		skills, err := a.Store.ListSkills(ctx, orgi)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(skills, func(s store.SkillGroup) bool { return s.ID == in.Skill }) {
			return protocol.Errorf(protocol.CodeNotFound, "skill group %q not found", in.Skill)
		}
	}
	if in.Prompts == nil {
		in.Prompts = map[string]string{}
	}
	prompts, err := json.Marshal(in.Prompts)
	if err != nil {
		return err
	}
	err = a.Store.SaveSessionConfig(ctx, store.SessionConfig{
		Orgi: orgi, Skill: in.Skill, Distribution: in.Distribution, LastAgent: in.LastAgent, MaxUser: in.MaxUser, InitMaxUser: in.InitMaxUser,
		SessionTimers: store.SessionTimers{
			VisitorIdleWarn: in.VisitorIdleWarn, VisitorIdleClose: in.VisitorIdleClose, AgentNoReply: in.AgentNoReply,
			QueueTimeout: in.QueueTimeout, VisitorLeftGrace: in.VisitorLeftGrace, WorkingHours: in.WorkingHours,
		},
		Lang: in.Lang, Prompts: string(prompts),
	})
	if err != nil {
		return err
	}
	a.routingSettingsChanged(c, orgi)
	return c.JSON(http.StatusOK, in)
}
