package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// SiteLoader reads sites (cached).
type SiteLoader interface {
	GetSite(ctx context.Context, appID string) (store.Site, error)
}

// Origins decides which browser origins may call the gateway. Visitor
// traffic (anything naming an appid: /im/{appid}/..., or a Socket.IO
// request with ?appid=) is allowed from the site's configured origins;
// everything else (agent workbench, admin, /im/agent) only from the
// gateway's own origin and the configured extra ones. The check covers
// Socket.IO polling and the websocket handshake alike, since both pass
// through here before the Socket.IO server sees them.
type Origins struct {
	Sites SiteLoader
	Staff []string // exact origins allowed besides the gateway's own
}

// Middleware enforces the policy and answers CORS preflights.
func (o *Origins) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		origin := r.Header.Get(echo.HeaderOrigin)
		if origin == "" {
			// Not a cross-origin browser request: nothing to grant or refuse.
			return next(c)
		}
		ok, err := o.allowed(r, origin)
		if err != nil {
			return err
		}
		if !ok {
			return protocol.Errorf(protocol.CodeForbidden, "origin %s is not allowed here", origin)
		}
		h := c.Response().Header()
		h.Add(echo.HeaderVary, echo.HeaderOrigin)
		h.Set(echo.HeaderAccessControlAllowOrigin, origin)
		h.Set(echo.HeaderAccessControlAllowCredentials, "true")
		if r.Method == http.MethodOptions {
			h.Set(echo.HeaderAccessControlAllowMethods, "GET, POST, PUT, DELETE, OPTIONS")
			h.Set(echo.HeaderAccessControlAllowHeaders, "Content-Type, Authorization")
			h.Set(echo.HeaderAccessControlMaxAge, "600")
			return c.NoContent(http.StatusNoContent)
		}
		return next(c)
	}
}

func (o *Origins) allowed(r *http.Request, origin string) (bool, error) {
	if sameHost(r, origin) || slices.Contains(o.Staff, origin) {
		return true, nil
	}
	appID := siteOf(r)
	if appID == "" {
		return false, nil
	}
	site, err := o.Sites.GetSite(r.Context(), appID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var origins []string
	if err := json.Unmarshal([]byte(site.Origins), &origins); err != nil {
		return false, nil
	}
	return slices.Contains(origins, "*") || slices.Contains(origins, origin), nil
}

// sameHost treats the gateway's own pages as same-origin whatever scheme a
// TLS-terminating proxy in front of it hides.
func sameHost(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// siteOf finds the appid a request is made for.
func siteOf(r *http.Request) string {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/im/"); ok {
		appID, _, _ := strings.Cut(rest, "/")
		return appID
	}
	if strings.HasPrefix(r.URL.Path, "/socket.io/") {
		return r.URL.Query().Get("appid")
	}
	return ""
}
