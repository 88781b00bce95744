package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/tenancy"
)

// registerTeam mounts the routes of this file (issue 11).
func (a *API) registerTeam(authed, admin *echo.Group) {
	admin.DELETE("/agents/:id", a.deleteAgent)
	admin.POST("/agents/:id/password", a.resetPassword)
	admin.DELETE("/skills/:id", a.deleteSkill)
	admin.PUT("/skills/:id/members", a.setSkillMembers)
}

// offlineWait bounds waiting for routing to hand a deleted agent's chats
// back to the queue.
const offlineWait = 5 * time.Second

// deleteAgent removes an agent of the admin's tenant (see removeAgent).
func (a *API) deleteAgent(c echo.Context) error {
	ag, err := a.tenantAgent(c)
	if err != nil {
		return err
	}
	if err := a.removeAgent(c, ag); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// removeAgent deletes ag for the admin of the request, who may not remove
// themselves. The steps run in an order that strands no chat with an
// agent that is gone, and each may be run again:
//
//  1. the agent is disabled, taken out of its groups and its logins end
//     (its sockets get `leave`): routing gives it nothing new, and it cannot
//     come back;
//  2. routing sets it offline, which hands its chats back to the head of
//     the queue; without routing's answer the deletion stops here (503) and
//     the admin repeats it;
//  3. the store deletes it (store.DeleteAgent): the row and its nickname
//     stay for the history, the username is freed.
func (a *API) removeAgent(c echo.Context, ag store.Agent) error {
	ctx := c.Request().Context()
	me := request.Principal(c).Agent
	if ag.ID == me.ID {
		return protocol.Errorf(protocol.CodeConflict, "an admin cannot delete themselves")
	}
	ag.Disabled = true
	if err := a.Store.UpdateAgent(ctx, &ag, &[]string{}); err != nil {
		return err
	}
	if err := a.endLogins(ctx, ag.ID, "disabled"); err != nil {
		return err
	}
	a.routingSettingsChanged(c, ag.Orgi)
	cmd := command.Command{ID: store.NewID(), Kind: command.AgentOffline, Orgi: ag.Orgi, AgentID: ag.ID, By: me.ID, Node: a.NodeID, At: time.Now().UTC()}
	var res protocol.TransferResult
	switch err := a.Ask.Ask(ctx, cmd, offlineWait, &res); {
	case err != nil: // late or not sent
		return protocol.Errorf(protocol.CodeUnavailable, "the user is disabled, but routing has not handed its chats back yet: delete again in a moment")
	case !res.OK:
		return res.Error
	}
	if err := a.Store.DeleteAgent(ctx, ag.ID); err != nil {
		return err
	}
	a.routingSettingsChanged(c, ag.Orgi)
	return nil
}

// resetRequest is an admin's new password for someone; empty: generate one.
type resetRequest struct {
	Password string `json:"password"`
}

// resetAnswer carries a generated password, shown this once.
type resetAnswer struct {
	Password string `json:"password,omitempty"`
}

// resetPassword sets an agent's password, the admin's or a generated one,
// and ends all its logins.
func (a *API) resetPassword(c echo.Context) error {
	var in resetRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	ag, err := a.tenantAgent(c)
	if err != nil {
		return err
	}
	var out resetAnswer
	if in.Password == "" {
		in.Password = identity.GeneratePassword(ag.Username)
		out.Password = in.Password
	} else if err := tenancy.ValidatePassword(in.Password, ag.Username); err != nil {
		return err
	}
	if err := a.setPassword(ctx, &ag, in.Password); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// setPassword stores a new (already checked) password of ag and ends all its
// logins, as a reset by an admin and a change of one's own password both do:
// whoever knew the old one is out.
func (a *API) setPassword(ctx context.Context, ag *store.Agent, password string) error {
	var err error
	if ag.PasswordHash, err = identity.HashPassword(password); err != nil {
		return err
	}
	if err := a.Store.UpdateAgent(ctx, ag, nil); err != nil {
		return err
	}
	return a.endLogins(ctx, ag.ID, "password")
}

// deleteSkill deletes a skill group that nothing depends on any more.
func (a *API) deleteSkill(c echo.Context) error {
	orgi := request.Principal(c).Agent.Orgi
	err := a.Store.DeleteSkill(c.Request().Context(), orgi, c.Param("id"))
	var use *store.SkillInUseError
	switch {
	case errors.As(err, &use):
		return protocol.Errorf(protocol.CodeConflict, "the group is still in use (%s): move or remove these first", inUse(use))
	case err != nil:
		return request.NotFound(err, "skill group")
	}
	a.routingSettingsChanged(c, orgi)
	return c.NoContent(http.StatusNoContent)
}

// inUse words what a skill group still has.
func inUse(u *store.SkillInUseError) string {
	var parts []string
	for _, p := range []struct {
		n    int64
		what string
	}{{u.Children, "child groups"}, {u.Members, "members"}, {u.Queued, "visitors waiting"}, {u.Sites, "sites routing to it"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	return strings.Join(parts, ", ")
}

// maxMembers bounds one group's member list in a request.
const maxMembers = 5000

// membersRequest is a skill group's whole membership.
type membersRequest struct {
	Agents []string `json:"agents"`
}

func (r membersRequest) Validate() error {
	if r.Agents == nil {
		return protocol.Errorf(protocol.CodeBadRequest, "agents is required (an empty list removes every member)")
	}
	if len(r.Agents) > maxMembers {
		return protocol.Errorf(protocol.CodeBadRequest, "at most %d agents", maxMembers)
	}
	return nil
}

// membersAnswer is the membership as stored.
type membersAnswer struct {
	ID     string   `json:"id"`
	Agents []string `json:"agents"`
}

// setSkillMembers replaces a skill group's members.
func (a *API) setSkillMembers(c echo.Context) error {
	var in membersRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	orgi, id := request.Principal(c).Agent.Orgi, c.Param("id")
	groups, err := a.Store.ListSkills(ctx, orgi)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(groups, func(g store.SkillGroup) bool { return g.ID == id }) {
		return protocol.Errorf(protocol.CodeNotFound, "skill group not found")
	}
	if err := a.Store.SetSkillMembers(ctx, orgi, id, in.Agents); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return protocol.Errorf(protocol.CodeBadRequest, "unknown agent in agents")
		}
		return err
	}
	a.routingSettingsChanged(c, orgi)
	members := slices.Clone(in.Agents)
	slices.Sort(members)
	return c.JSON(http.StatusOK, membersAnswer{ID: id, Agents: slices.Compact(members)})
}
