package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
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

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)

func (r agentRequest) Validate() error {
	if !usernamePattern.MatchString(r.Username) {
		return protocol.Errorf(protocol.CodeBadRequest, "username must be 1 to 64 of A-Z a-z 0-9 _ . @ -")
	}
	if len(r.Password) < 6 || len(r.Password) > 72 {
		return protocol.Errorf(protocol.CodeBadRequest, "password must be 6 to 72 bytes")
	}
	if n := len([]rune(r.Nickname)); n > 64 {
		return protocol.Errorf(protocol.CodeBadRequest, "nickname must be at most 64 characters")
	}
	if r.MaxUser < 0 {
		return protocol.Errorf(protocol.CodeBadRequest, "maxuser must not be negative")
	}
	for _, role := range r.Roles {
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
	if err := a.Store.CreateAgent(ctx, &ag, in.Skills); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return protocol.Errorf(protocol.CodeConflict, "username %q is taken", in.Username)
		}
		return err
	}
	a.routingSettingsChanged(c, orgi)
	return c.JSON(http.StatusCreated, map[string]any{
		"id": ag.ID, "username": ag.Username, "nickname": ag.Nickname, "maxuser": ag.MaxUser,
		"skills": nonNil(in.Skills), "roles": roles,
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *API) listAgents(c echo.Context) error {
	rows, err := a.agentRows(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rows)
}

// agentRows are the tenant's agents with their status and load.
func (a *API) agentRows(c echo.Context) ([]map[string]any, error) {
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
	out := make([]map[string]any, 0, len(agents))
	for _, ag := range agents {
		status, busy := protocol.AgentNotReady, false
		if i := slices.IndexFunc(states, func(s store.AgentState) bool { return s.AgentID == ag.ID }); i >= 0 {
			status, busy = states[i].Status, states[i].Busy
		}
		skills, err := a.Store.AgentSkills(ctx, ag.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, map[string]any{
			"id": ag.ID, "username": ag.Username, "nickname": ag.Nickname, "status": status, "busy": busy,
			"users": load[ag.ID], "maxuser": ag.MaxUser, "skills": nonNil(skills), "roles": strings.Split(ag.Roles, ","),
			"disabled": ag.Disabled,
		})
	}
	return out, nil
}

type siteRequest struct {
	Name      string          `json:"name"`
	Origins   []string        `json:"origins"`
	Config    json.RawMessage `json:"config"`
	TextLimit int             `json:"textlimit"`
}

func (r siteRequest) Validate() error {
	if n := len([]rune(strings.TrimSpace(r.Name))); n == 0 || n > 128 {
		return protocol.Errorf(protocol.CodeBadRequest, "name must be 1 to 128 characters")
	}
	for _, o := range r.Origins {
		if err := validOrigin(o); err != nil {
			return err
		}
	}
	if len(r.Config) > 0 {
		var obj map[string]any
		if err := json.Unmarshal(r.Config, &obj); err != nil {
			return protocol.Errorf(protocol.CodeBadRequest, "config must be a JSON object")
		}
		if err := validateWidgetConfig(r.Config); err != nil {
			return err
		}
	}
	if r.TextLimit < 0 || r.TextLimit > 20000 {
		return protocol.Errorf(protocol.CodeBadRequest, "textlimit must be 0 (default) to 20000")
	}
	return nil
}

// validOrigin accepts "*" or scheme://host[:port] exactly as browsers send
// the Origin header, so that matching is a plain comparison.
func validOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return protocol.Errorf(protocol.CodeBadRequest, "origin %q must be * or scheme://host[:port]", o)
	}
	if strings.HasSuffix(o, "/") {
		return protocol.Errorf(protocol.CodeBadRequest, "origin %q must not end with /", o)
	}
	return nil
}

func (a *API) siteView(s store.Site) map[string]any {
	var origins []string
	_ = json.Unmarshal([]byte(s.Origins), &origins)
	return map[string]any{
		"appid": s.AppID, "name": s.Name, "origins": nonNil(origins), "config": json.RawMessage(s.Config),
		"textlimit": s.TextLimit, "disabled": s.Disabled,
		"embed": fmt.Sprintf(`<script src="%s/im/%s.js" defer></script>`, a.PublicURL, s.AppID),
	}
}

func (r siteRequest) apply(s *store.Site) {
	origins, _ := json.Marshal(nonNil(r.Origins))
	cfg := string(r.Config)
	if cfg == "" {
		cfg = "{}"
	}
	s.Name, s.Origins, s.Config, s.TextLimit = strings.TrimSpace(r.Name), string(origins), cfg, r.TextLimit
}

func (a *API) createSite(c echo.Context) error {
	var in siteRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	s := store.Site{AppID: store.NewID()[:16], Orgi: request.Principal(c).Agent.Orgi}
	in.apply(&s)
	if err := a.Store.CreateSite(c.Request().Context(), &s); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a.siteView(s))
}

func (a *API) updateSite(c echo.Context) error {
	var in siteRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	s, err := a.Store.GetSite(ctx, c.Param("appid"))
	if err != nil {
		return request.NotFound(err, "site")
	}
	if s.Orgi != request.Principal(c).Agent.Orgi {
		return protocol.Errorf(protocol.CodeNotFound, "site not found")
	}
	in.apply(&s)
	if err := a.Store.UpdateSite(ctx, &s); err != nil {
		return err
	}
	a.Sites.Forget(s.AppID)
	return c.JSON(http.StatusOK, a.siteView(s))
}

func (a *API) listSites(c echo.Context) error {
	sites, err := a.Store.ListSites(c.Request().Context(), request.Principal(c).Agent.Orgi)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(sites))
	for i, s := range sites {
		out[i] = a.siteView(s)
	}
	return c.JSON(http.StatusOK, out)
}
