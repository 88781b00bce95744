package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

type siteRequest struct {
	Name      string          `json:"name"`
	Origins   []string        `json:"origins"`
	Config    json.RawMessage `json:"config"`
	TextLimit int             `json:"textlimit"`
	// Skills binds the site to skill groups, in the picker's order; absent
	// on an update: unchanged.
	Skills *[]string `json:"skills"`
}

// maxSiteSkills fits the ids in the column (1024 characters, 32 each).
const maxSiteSkills = 30

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
	if r.Skills != nil {
		if len(*r.Skills) > maxSiteSkills {
			return protocol.Errorf(protocol.CodeBadRequest, "a site can be bound to at most %d skill groups", maxSiteSkills)
		}
		for i, id := range *r.Skills {
			if id == "" || slices.Contains((*r.Skills)[:i], id) {
				return protocol.Errorf(protocol.CodeBadRequest, "skills must be distinct skill group ids")
			}
		}
	}
	return nil
}

// checkSkills refuses skill groups that are not enabled groups of the
// tenant: a site routes only to its own tenant's live groups.
func (a *API) checkSkills(ctx context.Context, orgi string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	groups, err := a.Store.ListSkills(ctx, orgi)
	if err != nil {
		return err
	}
	for _, id := range ids {
		i := slices.IndexFunc(groups, func(g store.SkillGroup) bool { return g.ID == id })
		switch {
		case i < 0:
			return protocol.Errorf(protocol.CodeBadRequest, "skills: no skill group %q", id)
		case groups[i].Disabled:
			return protocol.Errorf(protocol.CodeBadRequest, "skills: the skill group %q is disabled", groups[i].Name)
		}
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

// siteView is a site as the admin pages read it.
type siteView struct {
	AppID     string          `json:"appid"`
	Name      string          `json:"name"`
	Origins   []string        `json:"origins"`
	Config    json.RawMessage `json:"config"`
	TextLimit int             `json:"textlimit"`
	Disabled  bool            `json:"disabled"`
	Skills    []string        `json:"skills"`
	// Embed is the tag to paste into the site's pages.
	Embed string `json:"embed"`
}

func (a *API) siteView(s store.Site) siteView {
	origins := []string{}
	_ = json.Unmarshal([]byte(s.Origins), &origins)
	return siteView{
		AppID: s.AppID, Name: s.Name, Origins: origins, Config: json.RawMessage(s.Config),
		TextLimit: s.TextLimit, Disabled: s.Disabled, Skills: append([]string{}, s.SkillIDs()...),
		Embed: fmt.Sprintf(`<script src="%s/im/%s.js" defer></script>`, a.PublicURL, s.AppID),
	}
}

func (r siteRequest) apply(s *store.Site) {
	origins, _ := json.Marshal(append([]string{}, r.Origins...))
	cfg := string(r.Config)
	if cfg == "" {
		cfg = "{}"
	}
	s.Name, s.Origins, s.Config, s.TextLimit = strings.TrimSpace(r.Name), string(origins), cfg, r.TextLimit
	if r.Skills != nil {
		s.SetSkillIDs(*r.Skills)
	}
}

func (a *API) createSite(c echo.Context) error {
	var in siteRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	s := store.Site{AppID: store.NewID()[:16], Orgi: request.Principal(c).Agent.Orgi}
	in.apply(&s)
	if err := a.checkSkills(ctx, s.Orgi, s.SkillIDs()); err != nil {
		return err
	}
	if err := a.Store.CreateSite(ctx, &s); err != nil {
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
	if in.Skills != nil {
		if err := a.checkSkills(ctx, s.Orgi, *in.Skills); err != nil {
			return err
		}
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
	out := make([]siteView, len(sites))
	for i, s := range sites {
		out[i] = a.siteView(s)
	}
	return c.JSON(http.StatusOK, out)
}
