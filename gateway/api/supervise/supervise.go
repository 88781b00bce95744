// Package supervise is the REST API of supervision's actions: taking a chat
// over, acting on the queue and on agents, the counters' history, and the
// roles that grant the rights. Who may act on what is pkg/access's rule;
// what only the routing service knows (presence, capacity, where a chat is
// now) it checks when it carries the action out.
package supervise

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/gateway/ask"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Store is what the supervision API reads and writes.
type Store interface {
	GetSession(ctx context.Context, id string) (store.Session, error)
	GetAgent(ctx context.Context, id string) (store.Agent, error)
	MonitorSamples(ctx context.Context, orgi string, since time.Time) ([]store.MonitorSample, error)
	Roles(ctx context.Context, orgi string) ([]store.Role, error)
	SaveRole(ctx context.Context, r store.Role) error
	DeleteRole(ctx context.Context, orgi, name string) error
	ListAgents(ctx context.Context, orgi string) ([]store.Agent, error)
	ListNotes(ctx context.Context, sessionID string) ([]store.SessionNote, error)
	ServesVisitor(ctx context.Context, agentID, appid, userid string) (bool, error)
}

// Deps are the API's collaborators.
type Deps struct {
	Store  Store
	Access *access.Resolver
	Ask    ask.Asker
	NodeID string
	Logger *slog.Logger
}

// API holds the handlers.
type API struct{ Deps }

// New returns the API.
func New(d Deps) *API { return &API{Deps: d} }

// Register mounts the routes on staff, the authenticated /api/v1 group.
func (a *API) Register(staff *echo.Group) {
	staff.POST("/sessions/:id/takeover", a.takeOver)
	staff.POST("/queue/:id/assign", a.queueAssign)
	staff.POST("/queue/:id/move", a.queueMove)
	staff.POST("/queue/:id/reroute", a.queueReroute)
	staff.PUT("/agents/:id/status", a.agentStatus)
	staff.POST("/agents/:id/offline", a.agentOffline)
	staff.GET("/monitor/history", a.history)
	staff.GET("/sessions/:id/notes", a.notes)
	admin := staff.Group("/admin", request.RequireRole(protocol.RoleAdmin))
	admin.GET("/roles", a.listRoles)
	admin.PUT("/roles/:name", a.saveRole)
	admin.DELETE("/roles/:name", a.deleteRole)
}

// actionWait bounds waiting for the routing service's answer; past it the
// answer is 202: the command is queued and will be carried out.
const actionWait = 5 * time.Second

// pending is the 202 of an action routing has not answered in time.
type pending struct {
	OK      bool `json:"ok"`
	Pending bool `json:"pending"`
}

// okAnswer is the answer of an action with nothing else to say.
type okAnswer struct {
	OK bool `json:"ok"`
}

// session loads the :id session of the caller's tenant if the caller holds
// want over it, and if it is in the status given.
func (a *API) session(c echo.Context, want access.Rights, status string) (store.Session, error) {
	p := request.Principal(c)
	ctx := c.Request().Context()
	sess, err := a.Store.GetSession(ctx, c.Param("id"))
	if err != nil || sess.Orgi != p.Agent.Orgi {
		return store.Session{}, request.NotFound(errors.Join(err, store.ErrNotFound), "session")
	}
	ok, err := a.Access.Can(ctx, p.Agent, want, sess)
	if err != nil {
		return store.Session{}, err
	}
	if !ok {
		return store.Session{}, protocol.Errorf(protocol.CodeForbidden, "not in your supervision scope, or no %s right", want)
	}
	if sess.Status != status {
		return store.Session{}, protocol.Errorf(protocol.CodeConflict, "the chat is not %s", status)
	}
	return sess, nil
}

// agent loads the :id (or given) agent of the caller's tenant if the
// caller's grant covers it with want.
func (a *API) agent(c echo.Context, id string, want access.Rights) (store.Agent, error) {
	p := request.Principal(c)
	ctx := c.Request().Context()
	ag, err := a.Store.GetAgent(ctx, id)
	if err != nil || ag.Orgi != p.Agent.Orgi {
		return store.Agent{}, request.NotFound(errors.Join(err, store.ErrNotFound), "agent")
	}
	dir, err := a.Access.Directory(ctx, p.Agent.Orgi, p.Agent.ID, ag.ID)
	if err != nil {
		return store.Agent{}, err
	}
	g := dir.Grant(p.Agent)
	if !g.Rights.Has(want) || (ag.ID != p.Agent.ID && !g.CoversAgent(dir.AgentGroups(ag.ID))) {
		return store.Agent{}, protocol.Errorf(protocol.CodeForbidden, "not in your supervision scope, or no %s right", want)
	}
	return ag, nil
}

// run sends a supervision command and answers with routing's result.
func (a *API) run(c echo.Context, cmd command.Command) error {
	cmd.ID, cmd.Orgi, cmd.By, cmd.Node, cmd.At = store.NewID(), request.Principal(c).Agent.Orgi, request.Principal(c).Agent.ID, a.NodeID, time.Now().UTC()
	var res protocol.TransferResult
	err := a.Ask.Ask(c.Request().Context(), cmd, actionWait, &res)
	switch {
	case errors.Is(err, ask.ErrLate):
		return c.JSON(http.StatusAccepted, pending{OK: true, Pending: true})
	case err != nil:
		return protocol.Errorf(protocol.CodeUnavailable, "routing service unreachable, retry")
	case !res.OK:
		return res.Error
	}
	return c.JSON(http.StatusOK, res)
}
