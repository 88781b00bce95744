package api

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// sessionConfig is the wire shape of routing settings: the tenant's (skill
// empty) or a skill group's overrides. Zero values and a null lastagent
// inherit (group → tenant → built-in defaults).
type sessionConfig struct {
	Skill        string `json:"skill"`
	Distribution string `json:"distribution"`
	LastAgent    *bool  `json:"lastagent"`
	MaxUser      int    `json:"maxuser"`
	InitMaxUser  int    `json:"initmaxuser"`
}

func (r sessionConfig) Validate() error {
	if r.Distribution != "" && !slices.Contains([]string{protocol.DistributionLeast, protocol.DistributionIdle, protocol.DistributionRound}, r.Distribution) {
		return protocol.Errorf(protocol.CodeBadRequest, "distribution must be %q, %q or %q (empty inherits)", protocol.DistributionLeast, protocol.DistributionIdle, protocol.DistributionRound)
	}
	if r.MaxUser < 0 || r.MaxUser > 1000 || r.InitMaxUser < 0 || r.InitMaxUser > 1000 {
		return protocol.Errorf(protocol.CodeBadRequest, "maxuser and initmaxuser must be 0 (inherit) to 1000")
	}
	return nil
}

func (a *API) getSessionConfig(c echo.Context) error {
	cfgs, err := a.Store.SessionConfigs(c.Request().Context(), principal(c).Agent.Orgi)
	if err != nil {
		return err
	}
	out := make([]sessionConfig, len(cfgs))
	for i, x := range cfgs {
		out[i] = sessionConfig{Skill: x.Skill, Distribution: x.Distribution, LastAgent: x.LastAgent, MaxUser: x.MaxUser, InitMaxUser: x.InitMaxUser}
	}
	return c.JSON(http.StatusOK, out)
}

// putSessionConfig replaces one settings row, then has routing serve the
// queue, since capacity may have grown.
func (a *API) putSessionConfig(c echo.Context) error {
	var in sessionConfig
	if err := bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	orgi := principal(c).Agent.Orgi
	if in.Skill != "" {
		skills, err := a.Store.ListSkills(ctx, orgi)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(skills, func(s store.SkillGroup) bool { return s.ID == in.Skill }) {
			return protocol.Errorf(protocol.CodeNotFound, "skill group %q not found", in.Skill)
		}
	}
	err := a.Store.SaveSessionConfig(ctx, store.SessionConfig{
		Orgi: orgi, Skill: in.Skill, Distribution: in.Distribution, LastAgent: in.LastAgent, MaxUser: in.MaxUser, InitMaxUser: in.InitMaxUser,
	})
	if err != nil {
		return err
	}
	a.routingSettingsChanged(c, orgi)
	return c.JSON(http.StatusOK, in)
}
