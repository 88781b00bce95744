package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/gateway/auth"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/prompt"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/tenancy"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type agentView struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Nickname string   `json:"nickname"`
	Orgi     string   `json:"orgi"`
	Roles    []string `json:"roles"`
	// Rights are the supervision rights the roles grant; Tenant says the
	// scope is the whole tenant (admins).
	Rights []string `json:"rights"`
	Tenant bool     `json:"tenant"`
}

func viewOf(p auth.Principal, g access.Grant) agentView {
	return agentView{
		ID: p.Agent.ID, Username: p.Agent.Username, Nickname: p.Agent.Nickname, Orgi: p.Agent.Orgi, Roles: p.Roles(),
		Rights: g.Rights.Names(), Tenant: g.Tenant,
	}
}

func (a *API) login(c echo.Context) error {
	var in loginRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	if in.Username == "" || in.Password == "" {
		return protocol.Errorf(protocol.CodeBadRequest, "username and password are required")
	}
	from := auth.Client{IP: c.RealIP(), UserAgent: c.Request().UserAgent()}
	token, agent, err := a.Auth.Login(c.Request().Context(), in.Username, in.Password, from)
	if l, ok := auth.AsLocked(err); ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(l.RetryAfter(time.Now())))
	}
	if err != nil {
		return err
	}
	// Checked after the token exists, so disabling deletes it if this read
	// came first; refused, the token is never handed out.
	if _, err := tenancy.Admit(c.Request().Context(), a.Store, agent.Orgi); err != nil {
		return err
	}
	grant, err := a.Access.Grant(c.Request().Context(), agent)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, loginAnswer{Token: token, Agent: viewOf(auth.Principal{Agent: agent}, grant)})
}

type loginAnswer struct {
	Token string    `json:"token"`
	Agent agentView `json:"agent"`
}

func (a *API) logout(c echo.Context) error {
	p := request.Principal(c)
	ctx := c.Request().Context()
	if err := a.Auth.Logout(ctx, p); err != nil {
		return err
	}
	if err := a.Emit.ToRoom(ctx, protocol.NamespaceAgent, protocol.LoginRoom(p.TokenHash), protocol.EventLeave, protocol.Leave{Reason: "logout"}, ""); err != nil {
		a.Logger.WarnContext(ctx, "leave not delivered", "agent", p.Agent.ID, "err", err)
	}
	return c.NoContent(http.StatusNoContent)
}

type statusRequest struct {
	Status *string `json:"status"`
	Busy   *bool   `json:"busy"`
}

func (r statusRequest) Validate() error {
	if r.Status != nil && *r.Status != protocol.AgentReady && *r.Status != protocol.AgentNotReady {
		return protocol.Errorf(protocol.CodeBadRequest, "status must be %q or %q (offline is set by the server)", protocol.AgentReady, protocol.AgentNotReady)
	}
	return nil
}

// setStatus hands the change to the routing service, which owns agent
// status. Commands are ordered, so anything sent after this reply sees it.
// Omitted fields stay as they are; an empty body reads the status.
func (a *API) setStatus(c echo.Context) error {
	p := request.Principal(c)
	var in statusRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	current, err := a.Store.GetAgentState(ctx, p.Agent.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		current = store.AgentState{Status: protocol.AgentNotReady}
	case err != nil:
		return err
	}
	if in.Status == nil && in.Busy == nil {
		// Nothing to change: the answer is the current status.
		return c.JSON(http.StatusOK, map[string]any{"status": current.Status, "busy": current.Busy})
	}
	cmd := command.Command{ID: store.NewID(), Kind: command.AgentStatus, Orgi: p.Agent.Orgi, AgentID: p.Agent.ID, Busy: in.Busy, Node: a.NodeID, At: time.Now().UTC()}
	if in.Status != nil {
		cmd.Status, current.Status = *in.Status, *in.Status
	}
	if in.Busy != nil {
		current.Busy = *in.Busy
	}
	if err := a.Commands.Send(ctx, cmd); err != nil {
		return protocol.Errorf(protocol.CodeUnavailable, "routing service unreachable, retry")
	}
	return c.JSON(http.StatusOK, map[string]any{"status": current.Status, "busy": current.Busy})
}

// sessionFor loads the :id session of the caller's tenant if the caller may
// do want on it: its own agent may do anything; anyone else needs want (a
// supervision right) over it, and for reading, an agent serving the same
// visitor now may read the visitor's earlier chats. Another tenant's session
// does not exist as far as the caller can tell.
func (a *API) sessionFor(c echo.Context, want access.Rights) (store.Session, error) {
	p := request.Principal(c)
	ctx := c.Request().Context()
	sess, err := a.Store.GetSession(ctx, c.Param("id"))
	if err != nil {
		return store.Session{}, request.NotFound(err, "session")
	}
	if sess.Orgi != p.Agent.Orgi {
		return store.Session{}, protocol.Errorf(protocol.CodeNotFound, "session not found")
	}
	if sess.AgentNo == p.Agent.ID {
		return sess, nil
	}
	var ok bool
	if want == access.Read {
		ok, err = a.Access.MayRead(ctx, p.Agent, sess, a.Store)
	} else {
		ok, err = a.Access.Can(ctx, p.Agent, want, sess)
	}
	if err != nil {
		return store.Session{}, err
	}
	if !ok {
		return store.Session{}, protocol.Errorf(protocol.CodeForbidden, "not your session, nor in your supervision scope")
	}
	return sess, nil
}

func (a *API) sessionMessages(c echo.Context) error {
	sess, err := a.sessionFor(c, access.Read)
	if err != nil {
		return err
	}
	after := store.Latest
	if c.QueryParam("after") != "" {
		if after, err = request.Int(c, "after"); err != nil {
			return err
		}
	}
	before, err := request.Int(c, "before")
	if err != nil {
		return err
	}
	limit, err := request.Int(c, "limit")
	if err != nil {
		return err
	}
	ms, err := a.Store.ListMessages(c.Request().Context(), sess.ID, after, before, int(limit))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, chats(ms))
}

// endSession ends a chat at once and tells both sides; the routing service
// is told afterwards so that it hands the freed capacity to the queue.
func (a *API) endSession(c echo.Context) error {
	sess, err := a.sessionFor(c, access.Transfer)
	if err != nil {
		return err
	}
	endBy := protocol.EndByAgent
	if sess.AgentNo != request.Principal(c).Agent.ID {
		endBy = protocol.EndBySupervisor
	}
	if err := a.end(c, sess, endBy); err != nil {
		return err
	}
	ended, err := a.Store.GetSession(c.Request().Context(), sess.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ended.Summary())
}

// end ends sess (if open), tells the visitor and the agent, then routing.
func (a *API) end(c echo.Context, sess store.Session, endBy string) error {
	ctx := c.Request().Context()
	now := time.Now().UTC()
	ended, changed, err := a.Store.EndSession(ctx, sess.ID, endBy, now)
	if err != nil || !changed {
		return err
	}
	texts, err := a.Store.Prompts(ctx, ended.Orgi)
	if err != nil {
		a.Logger.WarnContext(ctx, "prompts not loaded; using the defaults", "orgi", ended.Orgi, "err", err)
	}
	if err := a.Emit.ToVisitor(ctx, ended.AppID, ended.UserID, protocol.EventStatus, protocol.VisitorStatus{
		State: protocol.StateEnded, MessageType: "end", Message: texts.Text(prompt.Ended, "", 0),
		AgentServiceID: ended.ID, AgentNo: ended.AgentNo, CreateTime: protocol.Time(now),
	}); err != nil {
		a.Logger.WarnContext(ctx, "end not delivered to visitor", "agentserviceid", ended.ID, "err", err)
	}
	if ended.AgentNo != "" {
		if err := a.Emit.ToAgent(ctx, ended.AgentNo, protocol.EventEnd, ended.Summary()); err != nil {
			a.Logger.WarnContext(ctx, "end not delivered to agent", "agentserviceid", ended.ID, "err", err)
		}
	}
	scope := protocol.Mirror{Skill: ended.Skill, AgentNo: ended.AgentNo, Session: ended.ID}
	if err := a.Emit.ToMonitors(ctx, ended.Orgi, protocol.EventAuditEnd, scope, protocol.EndedChat{
		SessionSummary: ended.Summary(), EndBy: endBy, EndTime: protocol.Time(now),
	}); err != nil {
		a.Logger.WarnContext(ctx, "end not mirrored", "agentserviceid", ended.ID, "err", err)
	}
	if err := a.Store.AppendSessionEvents(ctx, store.SessionEvent{
		SessionID: ended.ID, Orgi: ended.Orgi, Kind: protocol.SessionEnded, Actor: request.Principal(c).Agent.ID, Detail: endBy,
	}); err != nil {
		a.Logger.WarnContext(ctx, "end not in the transcript", "agentserviceid", ended.ID, "err", err)
	}
	err = a.Commands.Send(ctx, command.Command{
		ID: store.NewID(), Kind: command.SessionEnd, Orgi: ended.Orgi, SessionID: ended.ID, AgentID: ended.AgentNo, EndBy: endBy, Node: a.NodeID, At: now,
	})
	if err != nil {
		// The session is ended; the queue is served at the next change.
		a.Logger.WarnContext(ctx, "routing not told of end", "agentserviceid", ended.ID, "err", err)
	}
	return nil
}
