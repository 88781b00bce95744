package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/gateway/web"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/tenancy"
)

// openSite loads an enabled site, or answers not_found (forbidden, "tenant
// disabled", for a site of a disabled tenant).
func (a *API) openSite(c echo.Context, appID string) (store.Site, error) {
	site, _, err := a.openSiteOf(c, appID)
	return site, err
}

// openSiteOf is openSite with the site's tenant, read once for both the
// check and the caller.
func (a *API) openSiteOf(c echo.Context, appID string) (store.Site, store.Tenant, error) {
	site, err := a.Store.GetSite(c.Request().Context(), appID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && site.Disabled) {
		return store.Site{}, store.Tenant{}, protocol.Errorf(protocol.CodeNotFound, "unknown appid")
	}
	if err != nil {
		return store.Site{}, store.Tenant{}, err
	}
	tenant, err := tenancy.Admit(c.Request().Context(), a.Store, site.Orgi)
	return site, tenant, err
}

// siteScript serves GET /im/{appid}.js, the widget's loader; other
// /im/{appid} paths do not exist.
func (a *API) siteScript(c echo.Context) error {
	appID, ok := strings.CutSuffix(c.Param("appid"), ".js")
	if !ok {
		return protocol.Errorf(protocol.CodeNotFound, "not found")
	}
	if _, err := a.openSite(c, appID); err != nil {
		return err
	}
	web.ServeFile(c.Response(), c.Request(), "loader.js", "")
	return nil
}

// widgetPage serves the chat window, framed by the site's pages only.
func (a *API) widgetPage(c echo.Context) error {
	site, err := a.openSite(c, c.Param("appid"))
	if err != nil {
		return err
	}
	var origins []string
	_ = json.Unmarshal([]byte(site.Origins), &origins) // validated when saved
	ancestors := "'self'"
	for _, o := range origins {
		ancestors += " " + o
	}
	// Images (the logo, the agent's avatar) may come from anywhere https.
	csp := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; " +
		"connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors " + ancestors
	web.ServeFile(c.Response(), c.Request(), "widget.html", csp)
	return nil
}

// widgetConfig is what the widget needs before it shows anything.
func (a *API) widgetConfig(c echo.Context) error {
	ctx := c.Request().Context()
	site, tenant, err := a.openSiteOf(c, c.Param("appid"))
	if err != nil {
		return err
	}
	cfg := json.RawMessage(site.Config)
	if !json.Valid(cfg) {
		cfg = json.RawMessage("{}")
	}
	out := map[string]any{"appid": site.AppID, "name": site.Name, "config": cfg, "blocked": false}
	texts, err := a.Store.SessionConfigs(ctx, site.Orgi)
	if err != nil {
		return err
	}
	open, lang := openAt(tenant, resolveSettings(tenant, texts, nil), time.Now()), ""
	for _, sc := range texts {
		if sc.Skill == "" {
			lang = sc.Lang
		}
	}
	out["open"], out["lang"] = open, lang
	states, err := a.Store.ListAgentStates(ctx, site.Orgi)
	if err != nil {
		return err
	}
	agents := false
	for _, st := range states {
		agents = agents || (st.Status == protocol.AgentReady && !st.Busy)
	}
	consult, groupReady, err := a.consult(ctx, site, states)
	if err != nil {
		return err
	}
	if consult != nil { // the site's visitors wait for its groups only
		out["consult"], agents = consult, groupReady
	}
	out["agents"] = agents
	userID := c.QueryParam("userid")
	if userID != "" && a.Signer.Verify(site.AppID, userID, c.QueryParam("sign")) {
		b, blocked, err := a.Store.Blocked(ctx, site.AppID, userID)
		if err != nil {
			return err
		}
		if blocked {
			out["blocked"], out["blockeduntil"] = true, protocol.Time(b.Until)
		}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}

type leaveRequest struct {
	UserID  string `json:"userid"`
	Sign    string `json:"sign"`
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Email   string `json:"email"`
	Content string `json:"content"`
}

func (r leaveRequest) Validate() error {
	content := strings.TrimSpace(r.Content)
	switch {
	case content == "" || utf8.RuneCountInString(content) > 2000:
		return protocol.Errorf(protocol.CodeBadRequest, "content must be 1 to 2000 characters")
	case strings.TrimSpace(r.Phone) == "" && strings.TrimSpace(r.Email) == "":
		return protocol.Errorf(protocol.CodeBadRequest, "give a phone number or an email address so that we can answer")
	case utf8.RuneCountInString(r.Name) > 64 || utf8.RuneCountInString(r.Phone) > 32 || utf8.RuneCountInString(r.Email) > 128:
		return protocol.Errorf(protocol.CodeBadRequest, "name, phone or email too long (64, 32, 128 characters)")
	case r.Email != "" && !strings.Contains(r.Email, "@"):
		return protocol.Errorf(protocol.CodeBadRequest, "email is not an email address")
	}
	return nil
}

// leaveMessage stores a message left when nobody could serve.
func (a *API) leaveMessage(c echo.Context) error {
	site, err := a.openSite(c, c.Param("appid"))
	if err != nil {
		return err
	}
	var in leaveRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	if !a.Signer.Verify(site.AppID, in.UserID, in.Sign) {
		return protocol.Errorf(protocol.CodeUnauthorized, "missing or invalid visitor signature")
	}
	m := store.LeaveMessage{
		Orgi: site.Orgi, AppID: site.AppID, UserID: in.UserID, Name: strings.TrimSpace(in.Name),
		Phone: strings.TrimSpace(in.Phone), Email: strings.TrimSpace(in.Email), Content: strings.TrimSpace(in.Content),
	}
	if err := a.Store.CreateLeaveMessage(c.Request().Context(), &m); err != nil {
		return err
	}
	note := map[string]any{"id": m.ID, "name": m.Name, "createtime": protocol.Time(m.CreatedAt)}
	if err := a.Emit.ToRoom(c.Request().Context(), protocol.NamespaceAgent, protocol.TenantAgentsRoom(site.Orgi), EventLeaveMessage, note, ""); err != nil {
		a.Logger.WarnContext(c.Request().Context(), "agents not told of a left message", "err", err)
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": m.ID})
}
