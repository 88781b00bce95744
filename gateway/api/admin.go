package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/tenancy"
)

type skillRequest struct {
	Name    string `json:"name"`
	MaxUser int    `json:"maxuser"`
	Parent  string `json:"parent"` // the group above it; "" a root
}

// skillView is a skill group as admins see it.
type skillView struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	MaxUser  int    `json:"maxuser"`
	Parent   string `json:"parent"`
	Disabled bool   `json:"disabled"`
}

func viewOfSkill(g store.SkillGroup) skillView {
	return skillView{ID: g.ID, Name: g.Name, MaxUser: g.MaxUser, Parent: g.ParentID, Disabled: g.Disabled}
}

// checkParent refuses a parent that is not a group of the tenant, or one
// below id itself (the tree would become a cycle).
func checkParent(groups []store.SkillGroup, id, parent string) error {
	if parent == "" {
		return nil
	}
	byID := make(map[string]store.SkillGroup, len(groups))
	for _, g := range groups {
		byID[g.ID] = g
	}
	for at, steps := parent, 0; at != ""; at, steps = byID[at].ParentID, steps+1 {
		if _, ok := byID[at]; !ok {
			return protocol.Errorf(protocol.CodeBadRequest, "unknown parent group %q", parent)
		}
		if at == id || steps > len(groups) {
			return protocol.Errorf(protocol.CodeBadRequest, "a group cannot be placed below itself")
		}
	}
	return nil
}

func (r skillRequest) Validate() error {
	if n := len([]rune(strings.TrimSpace(r.Name))); n == 0 || n > 64 {
		return protocol.Errorf(protocol.CodeBadRequest, "name must be 1 to 64 characters")
	}
	if r.MaxUser < 0 {
		return protocol.Errorf(protocol.CodeBadRequest, "maxuser must not be negative")
	}
	return nil
}

func (a *API) createSkill(c echo.Context) error {
	var in skillRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	sk := store.SkillGroup{ID: store.NewID(), Orgi: request.Principal(c).Agent.Orgi, Name: strings.TrimSpace(in.Name), MaxUser: in.MaxUser, ParentID: in.Parent}
	groups, err := a.Store.ListSkills(ctx, sk.Orgi)
	if err != nil {
		return err
	}
	if err := checkParent(groups, sk.ID, sk.ParentID); err != nil {
		return err
	}
	if err := a.Store.CreateSkill(ctx, &sk); err != nil {
		return err
	}
	a.routingSettingsChanged(c, sk.Orgi)
	return c.JSON(http.StatusCreated, viewOfSkill(sk))
}

func (a *API) listSkills(c echo.Context) error {
	sks, err := a.Store.ListSkills(c.Request().Context(), request.Principal(c).Agent.Orgi)
	if err != nil {
		return err
	}
	out := make([]skillView, len(sks))
	for i, sk := range sks {
		out[i] = viewOfSkill(sk)
	}
	return c.JSON(http.StatusOK, out)
}

type agentRequest struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	Nickname string   `json:"nickname"`
	MaxUser  int      `json:"maxuser"`
	Skills   []string `json:"skills"`
	Roles    []string `json:"roles"`
}

func (r agentRequest) Validate() error {
	// The same username and password rules as a tenant's first admin (gateway
	// admin and the platform API): one namespace for the whole installation.
	if err := tenancy.ValidateUsername(r.Username); err != nil {
		return err
	}
	if err := tenancy.ValidatePassword(r.Password, r.Username); err != nil {
		return err
	}
	return validAgentFields(r.Nickname, r.MaxUser, r.Roles)
}

// validAgentFields checks the fields an agent is created and edited with.
func validAgentFields(nickname string, maxUser int, roles []string) error {
	if n := len([]rune(nickname)); n > 64 {
		return protocol.Errorf(protocol.CodeBadRequest, "nickname must be at most 64 characters")
	}
	if maxUser < 0 {
		return protocol.Errorf(protocol.CodeBadRequest, "maxuser must not be negative")
	}
	for _, role := range roles {
		// superadmin is an installation role that no tenant admin may grant.
		if !access.ValidRoleName(role) {
			return protocol.Errorf(protocol.CodeBadRequest, "unknown role %q", role)
		}
	}
	return nil
}

// checkRoles refuses role names that are neither built in nor defined by
// the tenant.
func (a *API) checkRoles(ctx context.Context, orgi string, roles []string) error {
	defined, err := a.Store.Roles(ctx, orgi)
	if err != nil {
		return err
	}
	for _, role := range roles {
		if !slices.Contains(access.BuiltinRoles, role) && !slices.ContainsFunc(defined, func(r store.Role) bool { return r.Name == role }) {
			return protocol.Errorf(protocol.CodeBadRequest, "unknown role %q: define it first (PUT /api/v1/admin/roles/%s)", role, role)
		}
	}
	return nil
}

// agentRecord is a staff member as admins edit it.
type agentRecord struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Nickname string   `json:"nickname"`
	MaxUser  int      `json:"maxuser"` // 0: the group's or tenant's
	Skills   []string `json:"skills"`
	Roles    []string `json:"roles"`
	Disabled bool     `json:"disabled"`
}

func recordOf(ag store.Agent, skills []string) agentRecord {
	return agentRecord{
		ID: ag.ID, Username: ag.Username, Nickname: ag.Nickname, MaxUser: ag.MaxUser,
		Skills: nonNil(skills), Roles: strings.Split(ag.Roles, ","), Disabled: ag.Disabled,
	}
}

// agentRow is a staff member in the admin list: the record with its live
// status and load.
type agentRow struct {
	agentRecord
	Status string `json:"status"`
	Busy   bool   `json:"busy"`
	Users  int    `json:"users"` // chats in service now
}

func (a *API) createAgent(c echo.Context) error {
	var in agentRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	orgi := request.Principal(c).Agent.Orgi
	if len(in.Skills) > 0 {
		skills, err := a.Store.ListSkills(ctx, orgi)
		if err != nil {
			return err
		}
		for _, id := range in.Skills {
			if !slices.ContainsFunc(skills, func(s store.SkillGroup) bool { return s.ID == id }) {
				return protocol.Errorf(protocol.CodeBadRequest, "unknown skill %q", id)
			}
		}
	}
	roles := in.Roles
	if len(roles) == 0 {
		roles = []string{protocol.RoleAgent}
	}
	if err := a.checkRoles(ctx, orgi, roles); err != nil {
		return err
	}
	hash, err := identity.HashPassword(in.Password)
	if err != nil {
		return err
	}
	nick := strings.TrimSpace(in.Nickname)
	if nick == "" {
		nick = in.Username
	}
	ag := store.Agent{Orgi: orgi, Username: in.Username, PasswordHash: hash, Nickname: nick, Roles: strings.Join(roles, ","), MaxUser: in.MaxUser}
	skills := slices.Clone(in.Skills)
	slices.Sort(skills)
	skills = slices.Compact(skills)
	if err := a.Store.CreateAgent(ctx, &ag, skills); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return protocol.Errorf(protocol.CodeConflict, "username %q is taken", in.Username)
		}
		return err
	}
	a.routingSettingsChanged(c, orgi)
	return c.JSON(http.StatusCreated, recordOf(ag, skills))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// agentFilter is what the admin list is narrowed to: each field given
// must match.
type agentFilter struct {
	q        string // part of the username or nickname, any case
	skill    string
	role     string
	disabled *bool
}

func filterOf(c echo.Context) (agentFilter, error) {
	f := agentFilter{q: strings.ToLower(strings.TrimSpace(c.QueryParam("q"))), skill: c.QueryParam("skill"), role: c.QueryParam("role")}
	switch v := c.QueryParam("disabled"); v {
	case "":
	case "true", "false":
		d := v == "true"
		f.disabled = &d
	default:
		return f, protocol.Errorf(protocol.CodeBadRequest, "disabled must be true or false")
	}
	return f, nil
}

func (f agentFilter) keeps(r agentRow) bool {
	return (f.q == "" || strings.Contains(strings.ToLower(r.Username), f.q) || strings.Contains(strings.ToLower(r.Nickname), f.q)) &&
		(f.skill == "" || slices.Contains(r.Skills, f.skill)) &&
		(f.role == "" || slices.Contains(r.Roles, f.role)) &&
		(f.disabled == nil || *f.disabled == r.Disabled)
}

// listAgents is the admin list: ?q= (username or nickname), ?skill=,
// ?role=, ?disabled=true|false.
func (a *API) listAgents(c echo.Context) error {
	f, err := filterOf(c)
	if err != nil {
		return err
	}
	rows, err := a.agentRows(c)
	if err != nil {
		return err
	}
	out := make([]agentRow, 0, len(rows))
	for _, r := range rows {
		if f.keeps(r) {
			out = append(out, r)
		}
	}
	return c.JSON(http.StatusOK, out)
}

// agentRows are the tenant's agents (deleted ones are in no list) with
// their status and load.
func (a *API) agentRows(c echo.Context) ([]agentRow, error) {
	ctx := c.Request().Context()
	orgi := request.Principal(c).Agent.Orgi
	agents, err := a.Store.ListAgents(ctx, orgi)
	if err != nil {
		return nil, err
	}
	states, err := a.Store.ListAgentStates(ctx, orgi)
	if err != nil {
		return nil, err
	}
	load, err := a.Store.CountInService(ctx, orgi)
	if err != nil {
		return nil, err
	}
	skills, err := a.Store.TenantAgentSkills(ctx, orgi)
	if err != nil {
		return nil, err
	}
	out := make([]agentRow, 0, len(agents))
	for _, ag := range agents {
		status, busy := protocol.AgentNotReady, false
		if i := slices.IndexFunc(states, func(s store.AgentState) bool { return s.AgentID == ag.ID }); i >= 0 {
			status, busy = states[i].Status, states[i].Busy
		}
		out = append(out, agentRow{agentRecord: recordOf(ag, skills[ag.ID]), Status: status, Busy: busy, Users: load[ag.ID]})
	}
	return out, nil
}
