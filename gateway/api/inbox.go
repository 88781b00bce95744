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
