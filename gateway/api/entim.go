package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// imContacts lists the caller's colleagues with presence and unread counts,
// and the caller's groups.
func (a *API) imContacts(c echo.Context) error {
	ctx := c.Request().Context()
	p := request.Principal(c)
	agents, err := a.Store.ListAgents(ctx, p.Agent.Orgi)
	if err != nil {
		return err
	}
	states, err := a.Store.ListAgentStates(ctx, p.Agent.Orgi)
	if err != nil {
		return err
	}
	byAgent, byGroup, err := a.Store.IMUnread(ctx, p.Agent.ID)
	if err != nil {
		return err
	}
	contacts := make([]map[string]any, 0, len(agents))
	for _, ag := range agents {
		if ag.ID == p.Agent.ID || ag.Disabled {
			continue
		}
		online := slices.ContainsFunc(states, func(s store.AgentState) bool { return s.AgentID == ag.ID && s.Status != protocol.AgentOffline })
		contacts = append(contacts, map[string]any{"id": ag.ID, "nickname": ag.Nickname, "online": online, "unread": byAgent[ag.ID]})
	}
	groups, err := a.Store.IMGroupsOf(ctx, p.Agent.ID)
	if err != nil {
		return err
	}
	gs := make([]map[string]any, len(groups))
	for i, g := range groups {
		gs[i] = map[string]any{"id": g.ID, "name": g.Name, "unread": byGroup[g.ID]}
	}
	return c.JSON(http.StatusOK, map[string]any{"contacts": contacts, "groups": gs})
}

// imTarget resolves ?with= (a colleague) or ?group= (a group of the
// caller's) into the conversation's key.
func (a *API) imTarget(c echo.Context, with, group string) (pair, groupID string, err error) {
	ctx := c.Request().Context()
	p := request.Principal(c)
	switch {
	case (with == "") == (group == ""):
		return "", "", protocol.Errorf(protocol.CodeBadRequest, "give exactly one of with and group")
	case with != "":
		peer, err := a.Store.GetAgent(ctx, with)
		if err != nil || peer.Orgi != p.Agent.Orgi {
			return "", "", protocol.Errorf(protocol.CodeNotFound, "no such colleague")
		}
		return store.Pair(p.Agent.ID, peer.ID), "", nil
	}
	g, members, err := a.Store.IMGroupMembers(ctx, group)
	if err != nil || g.Orgi != p.Agent.Orgi || !slices.Contains(members, p.Agent.ID) {
		return "", "", protocol.Errorf(protocol.CodeNotFound, "no such group")
	}
	return "", g.ID, nil
}

func (a *API) imMessages(c echo.Context) error {
	pair, groupID, err := a.imTarget(c, c.QueryParam("with"), c.QueryParam("group"))
	if err != nil {
		return err
	}
	before, err := request.Int(c, "before")
	if err != nil {
		return err
	}
	limit, err := request.Int(c, "limit")
	if err != nil {
		return err
	}
	ms, err := a.Store.ListIM(c.Request().Context(), pair, groupID, before, int(limit))
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(ms))
	for i, m := range ms {
		to := ""
		if m.Pair != "" {
			x, y, _ := strings.Cut(m.Pair, "|")
			to = x
			if x == m.From {
				to = y
			}
		}
		out[i] = map[string]any{
			"id": m.ID, "pk": strconv.FormatInt(m.PK, 10), "from": m.From, "touser": to, "group": m.GroupID,
			"message": m.Body, "clientid": m.ClientID, "createtime": protocol.Time(m.CreatedAt),
		}
	}
	return c.JSON(http.StatusOK, out)
}

type groupRequest struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

func (r groupRequest) Validate() error {
	if n := utf8.RuneCountInString(strings.TrimSpace(r.Name)); n == 0 || n > 64 {
		return protocol.Errorf(protocol.CodeBadRequest, "name must be 1 to 64 characters")
	}
	if len(r.Members) == 0 || len(r.Members) > 200 {
		return protocol.Errorf(protocol.CodeBadRequest, "give 1 to 200 members")
	}
	return nil
}

func (a *API) imCreateGroup(c echo.Context) error {
	ctx := c.Request().Context()
	p := request.Principal(c)
	var in groupRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	members := append([]string{p.Agent.ID}, in.Members...)
	slices.Sort(members)
	members = slices.Compact(members)
	for _, id := range members {
		ag, err := a.Store.GetAgent(ctx, id)
		if err != nil || ag.Orgi != p.Agent.Orgi {
			return protocol.Errorf(protocol.CodeNotFound, "no such colleague %q", id)
		}
	}
	g := store.IMGroup{Orgi: p.Agent.Orgi, Name: strings.TrimSpace(in.Name), CreatedBy: p.Agent.ID}
	if err := a.Store.CreateIMGroup(ctx, &g, members); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": g.ID, "name": g.Name, "members": members})
}

type imReadRequest struct {
	With  string `json:"with,omitempty"`
	Group string `json:"group,omitempty"`
}

func (a *API) imRead(c echo.Context) error {
	var in imReadRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	_, groupID, err := a.imTarget(c, in.With, in.Group)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	me := request.Principal(c).Agent.ID
	if err := a.Store.MarkIMRead(ctx, me, in.With, groupID); err != nil {
		return err
	}
	// The agent's other tabs clear the same badge.
	if err := a.Emit.ToRoom(ctx, protocol.NamespaceIM, protocol.AgentRoom(me), EventRead, imReadRequest{With: in.With, Group: groupID}, ""); err != nil {
		a.Logger.WarnContext(ctx, "IM read not sent to the other tabs", "err", err)
	}
	return c.NoContent(http.StatusNoContent)
}
