package supervise

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

type takeOverRequest struct {
	Memo string `json:"memo"`
}

func (r takeOverRequest) Validate() error {
	return request.MaxText("memo", r.Memo, 512)
}

// takeOver moves a chat in service to the caller at once (强接).
func (a *API) takeOver(c echo.Context) error {
	var in takeOverRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	sess, err := a.session(c, access.Transfer, protocol.SessionInService)
	if err != nil {
		return err
	}
	if sess.AgentNo == request.Principal(c).Agent.ID {
		return protocol.Errorf(protocol.CodeConflict, "the chat is yours already")
	}
	return a.run(c, command.Command{Kind: command.TakeOver, SessionID: sess.ID, Memo: strings.TrimSpace(in.Memo)})
}

type assignRequest struct {
	AgentNo  string `json:"agentno"`
	Override bool   `json:"override"`
}

func (r assignRequest) Validate() error {
	if r.AgentNo == "" || len(r.AgentNo) > 32 {
		return protocol.Errorf(protocol.CodeBadRequest, "agentno is required")
	}
	return nil
}

// queueAssign hands a waiting visitor to an agent of the caller's scope, or
// to the caller itself (take it).
func (a *API) queueAssign(c echo.Context) error {
	var in assignRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	sess, err := a.session(c, access.Transfer, protocol.SessionInQueue)
	if err != nil {
		return err
	}
	if _, err := a.agent(c, in.AgentNo, access.Transfer); err != nil {
		return err
	}
	return a.run(c, command.Command{Kind: command.QueueAssign, SessionID: sess.ID, AgentID: in.AgentNo, Override: in.Override})
}

type moveRequest struct {
	Skill string `json:"skill"`
}

func (r moveRequest) Validate() error {
	if r.Skill == "" || len(r.Skill) > 32 {
		return protocol.Errorf(protocol.CodeBadRequest, "skill is required")
	}
	return nil
}

// queueMove moves a waiting visitor to another skill group (any of the
// tenant's, as an agent may transfer to any).
func (a *API) queueMove(c echo.Context) error {
	var in moveRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	sess, err := a.session(c, access.Transfer, protocol.SessionInQueue)
	if err != nil {
		return err
	}
	return a.run(c, command.Command{Kind: command.QueueMove, SessionID: sess.ID, Skill: in.Skill})
}

// queueReroute drops a waiting visitor's group and agent binding and
// routes it again, to anyone.
func (a *API) queueReroute(c echo.Context) error {
	sess, err := a.session(c, access.Transfer, protocol.SessionInQueue)
	if err != nil {
		return err
	}
	return a.run(c, command.Command{Kind: command.QueueReroute, SessionID: sess.ID})
}

type statusRequest struct {
	Status *string `json:"status"`
	Busy   *bool   `json:"busy"`
}

func (r statusRequest) Validate() error {
	if r.Status == nil && r.Busy == nil {
		return protocol.Errorf(protocol.CodeBadRequest, "give status and/or busy")
	}
	if r.Status != nil && *r.Status != protocol.AgentReady && *r.Status != protocol.AgentNotReady {
		return protocol.Errorf(protocol.CodeBadRequest, "status must be %q or %q (offline: POST .../offline)", protocol.AgentReady, protocol.AgentNotReady)
	}
	return nil
}

// agentStatus sets another agent's status (e.g. not ready); the agent's
// sockets learn it, and by whom, from `agentstatus`.
func (a *API) agentStatus(c echo.Context) error {
	var in statusRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ag, err := a.agent(c, c.Param("id"), access.Transfer)
	if err != nil {
		return err
	}
	p := request.Principal(c)
	cmd := command.Command{
		ID: store.NewID(), Kind: command.AgentStatus, Orgi: ag.Orgi, AgentID: ag.ID, Busy: in.Busy, By: p.Agent.ID, Node: a.NodeID, At: time.Now().UTC(),
	}
	if in.Status != nil {
		cmd.Status = *in.Status
	}
	if err := a.Ask.Commands.Send(c.Request().Context(), cmd); err != nil {
		return protocol.Errorf(protocol.CodeUnavailable, "routing service unreachable, retry")
	}
	return c.JSON(http.StatusOK, okAnswer{OK: true})
}

// agentOffline sets an agent offline at once: its chats go back to the
// head of the queue.
func (a *API) agentOffline(c echo.Context) error {
	ag, err := a.agent(c, c.Param("id"), access.Transfer)
	if err != nil {
		return err
	}
	return a.run(c, command.Command{Kind: command.AgentOffline, AgentID: ag.ID})
}

// historyLimit bounds how far back the counters' history reaches.
const historyLimit = 7 * 24 * time.Hour

// history is the tenant's counters, a sample a minute, since `since`
// (default: the last hour).
func (a *API) history(c echo.Context) error {
	p := request.Principal(c)
	ctx := c.Request().Context()
	g, err := a.Access.Grant(ctx, p.Agent)
	if err != nil {
		return err
	}
	if !g.Rights.Has(access.Read) {
		return protocol.Errorf(protocol.CodeForbidden, "needs the read right of supervision")
	}
	since := time.Now().Add(-time.Hour)
	if v := c.QueryParam("since"); v != "" {
		if since, err = time.Parse(time.RFC3339, v); err != nil {
			return protocol.Errorf(protocol.CodeBadRequest, "since: an RFC 3339 time, e.g. 2026-01-02T15:04:05Z")
		}
	}
	if floor := time.Now().Add(-historyLimit); since.Before(floor) {
		return protocol.Errorf(protocol.CodeBadRequest, "since: at most %s back", historyLimit)
	}
	samples, err := a.Store.MonitorSamples(ctx, p.Agent.Orgi, since)
	if err != nil {
		return err
	}
	out := make([]protocol.CounterSample, len(samples))
	for i, s := range samples {
		out[i] = protocol.CounterSample{At: protocol.Time(s.At), Agents: s.Agents, Busy: s.Busy, Users: s.Users, InQueue: s.InQueue}
	}
	return c.JSON(http.StatusOK, out)
}

// notes are a chat's whispers, oldest first, for whoever may read the chat.
func (a *API) notes(c echo.Context) error {
	p := request.Principal(c)
	ctx := c.Request().Context()
	sess, err := a.Store.GetSession(ctx, c.Param("id"))
	if err != nil || sess.Orgi != p.Agent.Orgi {
		return request.NotFound(errors.Join(err, store.ErrNotFound), "session")
	}
	ok, err := a.Access.MayRead(ctx, p.Agent, sess, a.Store)
	if err != nil {
		return err
	}
	if !ok {
		return protocol.Errorf(protocol.CodeForbidden, "not your session, nor in your supervision scope")
	}
	notes, err := a.Store.ListNotes(ctx, sess.ID)
	if err != nil {
		return err
	}
	out := make([]protocol.Note, len(notes))
	for i, n := range notes {
		out[i] = n.View()
	}
	return c.JSON(http.StatusOK, out)
}
