package api

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// EventLeaveMessage tells a tenant's agents that a visitor left a message.
const EventLeaveMessage = "leavemsg"

func leaveView(m store.LeaveMessage) map[string]any {
	return map[string]any{
		"id": m.ID, "appid": m.AppID, "userid": m.UserID, "name": m.Name, "phone": m.Phone, "email": m.Email,
		"content": m.Content, "status": m.Status, "note": m.Note, "handledby": m.HandledBy, "handledat": handled(m.HandledAt),
		"createtime": protocol.Time(m.CreatedAt),
	}
}

func (a *API) listLeaveMessages(c echo.Context) error {
	status := c.QueryParam("status")
	if status == "" {
		status = store.LeaveNotProcessed
	}
	if status != store.LeaveNotProcessed && status != store.LeaveProcessed {
		return protocol.Errorf(protocol.CodeBadRequest, "status must be %s or %s", store.LeaveNotProcessed, store.LeaveProcessed)
	}
	ms, err := a.Store.ListLeaveMessages(c.Request().Context(), request.Principal(c).Agent.Orgi, status, 200)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(ms))
	for i, m := range ms {
		out[i] = leaveView(m)
	}
	return c.JSON(http.StatusOK, out)
}

type handleRequest struct {
	Status *string `json:"status"`
	Note   *string `json:"note"`
}

func (r handleRequest) Validate() error {
	if r.Status != nil && *r.Status != store.LeaveNotProcessed && *r.Status != store.LeaveProcessed {
		return protocol.Errorf(protocol.CodeBadRequest, "status must be %s or %s", store.LeaveNotProcessed, store.LeaveProcessed)
	}
	if r.Note != nil && utf8.RuneCountInString(*r.Note) > 2000 {
		return protocol.Errorf(protocol.CodeBadRequest, "note is longer than 2000 characters")
	}
	return nil
}

// handleLeaveMessage marks a left message processed and/or notes the reply.
func (a *API) handleLeaveMessage(c echo.Context) error {
	ctx := c.Request().Context()
	p := request.Principal(c)
	m, err := a.Store.GetLeaveMessage(ctx, c.Param("id"))
	if err != nil || m.Orgi != p.Agent.Orgi {
		return protocol.Errorf(protocol.CodeNotFound, "leave message not found")
	}
	var in handleRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	if in.Status != nil {
		m.Status = *in.Status
	}
	if in.Note != nil {
		m.Note = strings.TrimSpace(*in.Note)
	}
	now := time.Now().UTC()
	if err := a.Store.HandleLeaveMessage(ctx, m.ID, m.Status, m.Note, p.Agent.ID, now); err != nil {
		return err
	}
	m.HandledBy, m.HandledAt = p.Agent.ID, &now
	return c.JSON(http.StatusOK, leaveView(m))
}

// Canned replies.

type cannedRequest struct {
	Category string `json:"category"`
	Title    string `json:"title"`
	Content  string `json:"content"`
	Scope    string `json:"scope"` // tenant | private
}

func (r cannedRequest) Validate() error {
	switch {
	case r.Scope != "tenant" && r.Scope != "private":
		return protocol.Errorf(protocol.CodeBadRequest, "scope must be tenant or private")
	case utf8.RuneCountInString(strings.TrimSpace(r.Title)) == 0 || utf8.RuneCountInString(r.Title) > 128:
		return protocol.Errorf(protocol.CodeBadRequest, "title must be 1 to 128 characters")
	case utf8.RuneCountInString(strings.TrimSpace(r.Content)) == 0 || utf8.RuneCountInString(r.Content) > 2000:
		return protocol.Errorf(protocol.CodeBadRequest, "content must be 1 to 2000 characters")
	case utf8.RuneCountInString(r.Category) > 64:
		return protocol.Errorf(protocol.CodeBadRequest, "category is longer than 64 characters")
	}
	return nil
}

func cannedView(r store.CannedReply) map[string]any {
	scope := "tenant"
	if r.Owner != "" {
		scope = "private"
	}
	return map[string]any{"id": r.ID, "category": r.Category, "title": r.Title, "content": r.Content, "scope": scope}
}

// mayManageTenantWide: tenant-wide replies are for supervisors and admins.
func mayManageTenantWide(c echo.Context) bool {
	p := request.Principal(c)
	return p.Has(protocol.RoleSupervisor) || p.Has(protocol.RoleAdmin)
}

func (a *API) listCanned(c echo.Context) error {
	p := request.Principal(c)
	rs, err := a.Store.ListCanned(c.Request().Context(), p.Agent.Orgi, p.Agent.ID, c.QueryParam("q"))
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(rs))
	for i, r := range rs {
		out[i] = cannedView(r)
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) saveCanned(c echo.Context) error {
	ctx := c.Request().Context()
	p := request.Principal(c)
	var in cannedRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	r := store.CannedReply{Orgi: p.Agent.Orgi}
	if id := c.Param("id"); id != "" {
		var err error
		if r, err = a.ownCanned(c, id); err != nil {
			return err
		}
	}
	if in.Scope == "tenant" && !mayManageTenantWide(c) {
		return protocol.Errorf(protocol.CodeForbidden, "only supervisors and admins manage tenant-wide replies")
	}
	r.Owner = ""
	if in.Scope == "private" {
		r.Owner = p.Agent.ID
	}
	r.Category, r.Title, r.Content = strings.TrimSpace(in.Category), strings.TrimSpace(in.Title), strings.TrimSpace(in.Content)
	created := r.ID == ""
	if err := a.Store.SaveCanned(ctx, &r); err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, cannedView(r))
}

func (a *API) deleteCanned(c echo.Context) error {
	r, err := a.ownCanned(c, c.Param("id"))
	if err != nil {
		return err
	}
	if err := a.Store.DeleteCanned(c.Request().Context(), r.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// ownCanned loads a reply the caller may change: its own private one, or a
// tenant-wide one for supervisors and admins.
func (a *API) ownCanned(c echo.Context, id string) (store.CannedReply, error) {
	p := request.Principal(c)
	r, err := a.Store.GetCanned(c.Request().Context(), id)
	if err != nil || r.Orgi != p.Agent.Orgi || (r.Owner != "" && r.Owner != p.Agent.ID) {
		return store.CannedReply{}, protocol.Errorf(protocol.CodeNotFound, "canned reply not found")
	}
	if r.Owner == "" && !mayManageTenantWide(c) {
		return store.CannedReply{}, protocol.Errorf(protocol.CodeForbidden, "only supervisors and admins manage tenant-wide replies")
	}
	return r, nil
}
