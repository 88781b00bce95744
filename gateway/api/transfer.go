package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/gateway/ask"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// transferWait bounds how long a transfer request waits for the routing
// service; past it the answer is 202: the command is queued durably and
// will be carried out, and the agents see the outcome as events.
const transferWait = 5 * time.Second

type transferRequest struct {
	AgentNo  string `json:"agentno"`
	Skill    string `json:"skill"`
	Memo     string `json:"memo"`
	Override bool   `json:"override"`
}

func (r transferRequest) Validate() error {
	if (r.AgentNo == "") == (r.Skill == "") {
		return protocol.Errorf(protocol.CodeBadRequest, "give exactly one of agentno and skill")
	}
	return request.MaxText("memo", r.Memo, 512)
}

// transferSession asks the routing service, which owns assignment, to move
// a chat, and waits for its answer.
func (a *API) transferSession(c echo.Context) error {
	sess, err := a.sessionFor(c, access.Transfer)
	if err != nil {
		return err
	}
	var in transferRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	p := request.Principal(c)
	ctx := c.Request().Context()
	if in.Override {
		supervisor, err := a.Access.Can(ctx, p.Agent, access.Transfer, sess)
		if err != nil {
			return err
		}
		if !supervisor {
			return protocol.Errorf(protocol.CodeForbidden, "only a supervisor may override capacity")
		}
	}
	if sess.Status != protocol.SessionInService {
		return protocol.Errorf(protocol.CodeConflict, "the chat is not in service")
	}
	var res protocol.TransferResult
	err = a.Ask.Ask(ctx, command.Command{
		ID: store.NewID(), Kind: command.Transfer, Orgi: sess.Orgi, SessionID: sess.ID, AgentID: in.AgentNo, Skill: in.Skill,
		Memo: strings.TrimSpace(in.Memo), By: p.Agent.ID, Override: in.Override, Node: a.NodeID, At: time.Now().UTC(),
	}, transferWait, &res)
	switch {
	case errors.Is(err, ask.ErrLate):
		return c.JSON(http.StatusAccepted, pendingAnswer{OK: true, Pending: true})
	case err != nil:
		return err
	case !res.OK:
		return res.Error
	}
	return c.JSON(http.StatusOK, res)
}

// pendingAnswer is the 202 of an action routing has not answered in time:
// it is queued and will be carried out; the events tell the outcome.
type pendingAnswer struct {
	OK      bool `json:"ok"`
	Pending bool `json:"pending"`
}

// colleague is an agent as the transfer dialog shows it.
type colleague struct {
	ID       string   `json:"id"`
	Nickname string   `json:"nickname"`
	Status   string   `json:"status"`
	Busy     bool     `json:"busy"`
	Users    int      `json:"users"`
	MaxUser  int      `json:"maxuser"`
	Skills   []string `json:"skills"`
}

// colleagues lists the tenant's agents who can take chats, with status and
// load: the transfer dialog's choices.
func (a *API) colleagues(c echo.Context) error {
	all, err := a.agentRows(c)
	if err != nil {
		return err
	}
	out := make([]colleague, 0, len(all))
	for _, row := range all {
		if row.Disabled || !slices.Contains(row.Roles, protocol.RoleAgent) {
			continue
		}
		out = append(out, colleague{
			ID: row.ID, Nickname: row.Nickname, Status: row.Status, Busy: row.Busy, Users: row.Users, MaxUser: row.MaxUser, Skills: row.Skills,
		})
	}
	return c.JSON(http.StatusOK, out)
}

// skillGroups lists the tenant's enabled skill groups (id and name).
func (a *API) skillGroups(c echo.Context) error {
	groups, err := a.Store.ListSkills(c.Request().Context(), request.Principal(c).Agent.Orgi)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(groups))
	for _, g := range groups {
		if !g.Disabled {
			out = append(out, map[string]any{"id": g.ID, "name": g.Name})
		}
	}
	return c.JSON(http.StatusOK, out)
}
