package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/tenancy"
)

// agentUpdate changes the fields given; omitted ones stay.
type agentUpdate struct {
	Nickname *string   `json:"nickname"`
	Password *string   `json:"password"`
	MaxUser  *int      `json:"maxuser"`
	Skills   *[]string `json:"skills"`
	Roles    *[]string `json:"roles"`
	Disabled *bool     `json:"disabled"`
}

// Validate checks the fields present as creation does; the password's
// rules need the username, so updateAgent checks it.
func (u agentUpdate) Validate() error {
	var r agentRequest
	if u.Nickname != nil {
		r.Nickname = *u.Nickname
	}
	if u.MaxUser != nil {
		r.MaxUser = *u.MaxUser
	}
	if u.Roles != nil {
		if len(*u.Roles) == 0 {
			return protocol.Errorf(protocol.CodeBadRequest, "roles must not be empty")
		}
		r.Roles = *u.Roles
	}
	return validAgentFields(r.Nickname, r.MaxUser, r.Roles)
}

// tenantAgent loads the :id agent of the admin's tenant; deleted agents
// are not found.
func (a *API) tenantAgent(c echo.Context) (store.Agent, error) {
	ag, err := a.Store.GetAgent(c.Request().Context(), c.Param("id"))
	if err != nil {
		return store.Agent{}, request.NotFound(err, "agent")
	}
	if ag.Orgi != request.Principal(c).Agent.Orgi || ag.DeletedAt != nil {
		return store.Agent{}, protocol.Errorf(protocol.CodeNotFound, "agent not found")
	}
	return ag, nil
}

// updateAgent edits an agent of the admin's tenant. Disabling it, or
// setting its password, ends all its logins: its sockets get `leave` and
// are disconnected on every node.
func (a *API) updateAgent(c echo.Context) error {
	var in agentUpdate
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	me := request.Principal(c)
	ag, err := a.tenantAgent(c)
	if err != nil {
		return err
	}
	if ag.ID == me.Agent.ID && ((in.Disabled != nil && *in.Disabled) || (in.Roles != nil && !slices.Contains(*in.Roles, protocol.RoleAdmin))) {
		return protocol.Errorf(protocol.CodeConflict, "an admin cannot disable or demote themselves")
	}
	endLogins := false
	if in.Nickname != nil {
		ag.Nickname = strings.TrimSpace(*in.Nickname)
	}
	if in.Password != nil {
		if err := tenancy.ValidatePassword(*in.Password, ag.Username); err != nil {
			return err
		}
		if ag.PasswordHash, err = identity.HashPassword(*in.Password); err != nil {
			return err
		}
		endLogins = true
	}
	if in.MaxUser != nil {
		ag.MaxUser = *in.MaxUser
	}
	if in.Roles != nil {
		if err := a.checkRoles(ctx, ag.Orgi, *in.Roles); err != nil {
			return err
		}
		ag.Roles = strings.Join(*in.Roles, ",")
	}
	if in.Disabled != nil {
		endLogins = endLogins || (*in.Disabled && !ag.Disabled)
		ag.Disabled = *in.Disabled
	}
	if err := a.Store.UpdateAgent(ctx, &ag, in.Skills); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return protocol.Errorf(protocol.CodeBadRequest, "unknown skill group")
		}
		return err
	}
	if endLogins {
		reason := "password"
		if ag.Disabled {
			reason = "disabled"
		}
		if err := a.endLogins(ctx, ag.ID, reason); err != nil {
			return err
		}
	}
	a.routingSettingsChanged(c, ag.Orgi)
	skills, err := a.Store.AgentSkills(ctx, ag.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, recordOf(ag, skills))
}

// skillUpdate changes the fields given; omitted ones stay.
type skillUpdate struct {
	Name     *string `json:"name"`
	MaxUser  *int    `json:"maxuser"`
	Parent   *string `json:"parent"`
	Disabled *bool   `json:"disabled"`
}

func (u skillUpdate) Validate() error {
	r := skillRequest{Name: "x"}
	if u.Name != nil {
		r.Name = *u.Name
	}
	if u.MaxUser != nil {
		r.MaxUser = *u.MaxUser
	}
	return r.Validate()
}

func (a *API) updateSkill(c echo.Context) error {
	var in skillUpdate
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	orgi := request.Principal(c).Agent.Orgi
	skills, err := a.Store.ListSkills(ctx, orgi)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(skills, func(s store.SkillGroup) bool { return s.ID == c.Param("id") })
	if i < 0 {
		return protocol.Errorf(protocol.CodeNotFound, "skill group not found")
	}
	sk := skills[i]
	if in.Name != nil {
		sk.Name = strings.TrimSpace(*in.Name)
	}
	if in.MaxUser != nil {
		sk.MaxUser = *in.MaxUser
	}
	if in.Disabled != nil {
		sk.Disabled = *in.Disabled
	}
	if in.Parent != nil {
		if err := checkParent(skills, sk.ID, *in.Parent); err != nil {
			return err
		}
		sk.ParentID = *in.Parent
	}
	if err := a.Store.UpdateSkill(ctx, &sk); err != nil {
		return err
	}
	a.routingSettingsChanged(c, orgi)
	return c.JSON(http.StatusOK, viewOfSkill(sk))
}

// routingSettingsChanged has routing serve the queue again: capacity may
// have grown. A lost command only delays that to the next change.
func (a *API) routingSettingsChanged(c echo.Context, orgi string) {
	a.Access.Forget(orgi) // groups and memberships are scopes too
	err := a.Commands.Send(c.Request().Context(), command.Command{ID: store.NewID(), Kind: command.ConfigChanged, Orgi: orgi, Node: a.NodeID, At: time.Now().UTC()})
	if err != nil {
		a.Logger.WarnContext(c.Request().Context(), "routing not told of new settings", "orgi", orgi, "err", err)
	}
}

// queueEntry is one waiting visitor in the queue view.
type queueEntry struct {
	protocol.SessionSummary
	Agent   string `json:"agent"` // the agent the visitor asked for
	Waiting int64  `json:"waiting"`
}

// queue lists the waiting visitors of the caller's supervision scope,
// oldest first.
func (a *API) queue(c echo.Context) error {
	ctx := c.Request().Context()
	p := request.Principal(c)
	dir, err := a.Access.Directory(ctx, p.Agent.Orgi)
	if err != nil {
		return err
	}
	grant := dir.Grant(p.Agent)
	if !grant.Rights.Has(access.Read) {
		return protocol.Errorf(protocol.CodeForbidden, "needs the read right of supervision")
	}
	queued, err := a.Store.ListQueued(ctx, p.Agent.Orgi, 500)
	if err != nil {
		return err
	}
	now := time.Now()
	out := make([]queueEntry, 0, len(queued))
	for _, s := range queued {
		if grant.Covers(dir.Chat(s.Orgi, s.Skill, s.AgentNo)) {
			out = append(out, queueEntry{SessionSummary: s.Summary(), Agent: s.Agent, Waiting: int64(now.Sub(s.CreatedAt) / time.Second)})
		}
	}
	return c.JSON(http.StatusOK, out)
}

// endLogins ends every login of an agent: its tokens stop working, and its
// sockets on every node get `leave` and are disconnected.
func (a *API) endLogins(ctx context.Context, agentID, reason string) error {
	if err := a.Store.DeleteAgentTokens(ctx, agentID); err != nil {
		return err
	}
	if err := a.Emit.ToRoom(ctx, protocol.NamespaceAgent, protocol.AgentRoom(agentID), protocol.EventLeave, protocol.Leave{Reason: reason}, ""); err != nil {
		a.Logger.WarnContext(ctx, "leave not delivered", "agent", agentID, "err", err)
	}
	return nil
}

type passwordRequest struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// changePassword lets an agent change its own password. Every login ends,
// this one too: the workbench logs in again with the new password.
func (a *API) changePassword(c echo.Context) error {
	ctx := c.Request().Context()
	var in passwordRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ag, err := a.Store.GetAgent(ctx, request.Principal(c).Agent.ID)
	if err != nil {
		return err
	}
	if identity.CheckPassword(ag.PasswordHash, in.Old) != nil {
		return protocol.Errorf(protocol.CodeForbidden, "the current password is wrong")
	}
	if err := tenancy.ValidatePassword(in.New, ag.Username); err != nil {
		return err
	}
	if err := a.setPassword(ctx, &ag, in.New); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
