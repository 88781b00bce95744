// Package platform is the REST API of the installation's platform admins
// (role superadmin): the tenants, each created with its first admin,
// renamed, moved to another time zone, disabled and enabled again. The
// rules are pkg/tenancy's, shared with the `gateway admin` command.
package platform

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/tenancy"
)

// Store is what the platform API reads and writes.
type Store interface {
	tenancy.Store
	ListTenants(ctx context.Context) ([]store.Tenant, error)
	ListSites(ctx context.Context, orgi string) ([]store.Site, error)
}

// SiteForgetter drops a cached site, so that this node refuses a disabled
// tenant's visitors at once (other nodes within their cache's lifetime).
type SiteForgetter interface{ Forget(appID string) }

// Deps are the API's collaborators.
type Deps struct {
	Store  Store
	Emit   tenancy.Emitter
	Sites  SiteForgetter
	Logger *slog.Logger
}

// API holds the handlers.
type API struct {
	Deps
	tenants tenancy.Service
}

// New returns the API.
func New(d Deps) *API {
	return &API{Deps: d, tenants: tenancy.Service{Store: d.Store, Emit: d.Emit}}
}

// Register mounts the routes on staff, the authenticated /api/v1 group.
func (a *API) Register(staff *echo.Group) {
	g := staff.Group("/platform", request.RequireRole(protocol.RoleSuperAdmin))
	g.GET("/tenants", a.list)
	g.POST("/tenants", a.create)
	g.PUT("/tenants/:id", a.update)
}

// Tenant is a tenant as platform admins see it.
type Tenant struct {
	ID         string        `json:"id"`
	Name       string        `json:"name"`
	TimeZone   string        `json:"timezone"`
	Disabled   bool          `json:"disabled"`
	CreateTime protocol.Time `json:"createtime"`
}

func viewOf(t store.Tenant) Tenant {
	return Tenant{ID: t.ID, Name: t.Name, TimeZone: t.TimeZone, Disabled: t.Disabled, CreateTime: protocol.Time(t.CreatedAt)}
}

func (a *API) list(c echo.Context) error {
	ts, err := a.Store.ListTenants(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]Tenant, len(ts))
	for i, t := range ts {
		out[i] = viewOf(t)
	}
	return c.JSON(http.StatusOK, out)
}

// NewTenant is the body of POST /platform/tenants.
type NewTenant struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	TimeZone string   `json:"timezone"` // empty: UTC
	Admin    NewAdmin `json:"admin"`
}

// NewAdmin is the new tenant's first admin (role admin).
type NewAdmin struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Nickname string `json:"nickname"` // empty: the username
}

func (n NewTenant) rules() tenancy.NewTenant {
	tz := n.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	return tenancy.NewTenant{ID: n.ID, Name: n.Name, TimeZone: tz, Admin: tenancy.NewAdmin{
		Username: n.Admin.Username, Password: n.Admin.Password, Nickname: n.Admin.Nickname,
	}}
}

// Validate implements request.Bind's check.
func (n NewTenant) Validate() error { return n.rules().Validate() }

// Created answers POST /platform/tenants.
type Created struct {
	Tenant Tenant `json:"tenant"`
	Admin  Admin  `json:"admin"`
}

// Admin is the admin created with a tenant.
type Admin struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Nickname string   `json:"nickname"`
	Roles    []string `json:"roles"`
}

func (a *API) create(c echo.Context) error {
	var in NewTenant
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	t, admin, err := a.tenants.Create(c.Request().Context(), in.rules())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, Created{
		Tenant: viewOf(t),
		Admin:  Admin{ID: admin.ID, Username: admin.Username, Nickname: admin.Nickname, Roles: strings.Split(admin.Roles, ",")},
	})
}

// Change is the body of PUT /platform/tenants/{id}; absent fields stay.
type Change struct {
	Name     *string `json:"name"`
	TimeZone *string `json:"timezone"`
	Disabled *bool   `json:"disabled"`
}

func (ch Change) rules() tenancy.Change {
	return tenancy.Change{Name: ch.Name, TimeZone: ch.TimeZone, Disabled: ch.Disabled}
}

// Validate implements request.Bind's check.
func (ch Change) Validate() error {
	if ch.Name == nil && ch.TimeZone == nil && ch.Disabled == nil {
		return protocol.Errorf(protocol.CodeBadRequest, "nothing to change: give name, timezone or disabled")
	}
	return ch.rules().Validate()
}

func (a *API) update(c echo.Context) error {
	var in Change
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	id := c.Param("id")
	if in.Disabled != nil && *in.Disabled && id == request.Principal(c).Agent.Orgi {
		return protocol.Errorf(protocol.CodeForbidden, "a platform admin cannot disable its own tenant: it would lock itself out")
	}
	t, err := a.tenants.Update(ctx, id, in.rules())
	if errors.Is(err, tenancy.ErrSocketsLeftOpen) {
		// Disabled all the same, and no login of it works: the sockets
		// left open close when their clients next reconnect.
		a.Logger.WarnContext(ctx, "disabled tenant's sockets not told", "orgi", id, "err", err)
		err = nil
	}
	if err != nil {
		return err
	}
	if in.Disabled != nil {
		a.forgetSites(ctx, id)
	}
	return c.JSON(http.StatusOK, viewOf(t))
}

// forgetSites makes this node read the tenant's sites, with their tenant's
// state, again on the next visitor request: disabling or enabling takes
// effect here at once.
func (a *API) forgetSites(ctx context.Context, orgi string) {
	sites, err := a.Store.ListSites(ctx, orgi)
	if err != nil {
		a.Logger.WarnContext(ctx, "disabled tenant's sites not listed", "orgi", orgi, "err", err)
		return
	}
	for _, s := range sites {
		a.Sites.Forget(s.AppID)
	}
}
