package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

type inviteRequest struct {
	Message string `json:"message"`
}

func (r inviteRequest) Validate() error {
	return request.MaxText("message", r.Message, 500)
}

// inviteVisitor asks a visitor on the site to chat with the caller, and
// records the invitation (UCKeFu InviteRecord). An agent who is not ready
// is refused: routing would hand the visitor's yes to somebody else.
func (a *API) inviteVisitor(c echo.Context) error {
	site, err := a.staffSite(c, c.Param("appid"))
	if err != nil {
		return err
	}
	var in inviteRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := request.Principal(c)
	st, err := a.Store.GetAgentState(ctx, p.Agent.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if st.Status != protocol.AgentReady {
		return protocol.Errorf(protocol.CodeNotReady, "you are not ready: set yourself ready before inviting, or another agent would get the chat")
	}
	rec := store.InviteRecord{Orgi: site.Orgi, AppID: site.AppID, UserID: c.Param("userid"), AgentID: p.Agent.ID}
	if err := a.Store.CreateInvite(ctx, &rec); err != nil {
		return err
	}
	inv := protocol.Invite{InviteID: rec.ID, AgentNo: p.Agent.ID, NickName: p.Agent.Nickname, Message: strings.TrimSpace(in.Message)}
	if err := a.Emit.ToVisitor(ctx, site.AppID, rec.UserID, protocol.EventInvite, inv); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, protocol.InviteSentAnswer{OK: true, InviteID: rec.ID, Status: rec.Status})
}

// inviteView is an invitation as GET /api/v1/invites lists it.
type inviteView struct {
	ID             string        `json:"id"`
	AppID          string        `json:"appid"`
	UserID         string        `json:"userid"`
	AgentNo        string        `json:"agentno"`
	Status         string        `json:"status"`
	AgentServiceID string        `json:"agentserviceid"`
	ServedBy       string        `json:"servedby"`
	CreateTime     protocol.Time `json:"createtime"`
	UpdateTime     protocol.Time `json:"updatetime"`
}

// listInvites lists the caller's invitations; an admin may name another
// agent (agent=) or leave it out for the whole tenant (agent=*).
func (a *API) listInvites(c echo.Context) error {
	p := request.Principal(c)
	agent := p.Agent.ID
	if q := c.QueryParam("agent"); q != "" && q != agent {
		if !p.Has(protocol.RoleAdmin) {
			return protocol.Errorf(protocol.CodeForbidden, "only admins list other agents' invitations")
		}
		agent = q
		if q == "*" {
			agent = ""
		}
	}
	limit, err := request.Int(c, "limit")
	if err != nil {
		return err
	}
	rows, err := a.Store.ListInvites(c.Request().Context(), p.Agent.Orgi, agent, int(limit))
	if err != nil {
		return err
	}
	out := make([]inviteView, len(rows))
	for i, r := range rows {
		out[i] = inviteView{
			ID: r.ID, AppID: r.AppID, UserID: r.UserID, AgentNo: r.AgentID, Status: r.Status, AgentServiceID: r.SessionID,
			ServedBy: r.ServedBy, CreateTime: protocol.Time(r.CreatedAt), UpdateTime: protocol.Time(r.UpdatedAt),
		}
	}
	return c.JSON(http.StatusOK, out)
}
