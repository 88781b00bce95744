package supervise

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// roleView is a role and the supervision rights it grants in the tenant.
type roleView struct {
	Name    string   `json:"name"`
	Rights  []string `json:"rights"`
	Builtin bool     `json:"builtin"`
	// Fixed: an admin's rights cannot be changed (nobody could get them back).
	Fixed bool `json:"fixed"`
}

// listRoles lists the built-in roles and the tenant's own, with rights.
func (a *API) listRoles(c echo.Context) error {
	orgi := request.Principal(c).Agent.Orgi
	dir, err := a.Access.Directory(c.Request().Context(), orgi)
	if err != nil {
		return err
	}
	defined, err := a.Store.Roles(c.Request().Context(), orgi)
	if err != nil {
		return err
	}
	out := make([]roleView, 0, len(access.BuiltinRoles)+len(defined))
	for _, name := range access.BuiltinRoles {
		out = append(out, roleView{Name: name, Rights: dir.RoleRights(name).Names(), Builtin: true, Fixed: name == protocol.RoleAdmin})
	}
	for _, r := range defined {
		if !slices.Contains(access.BuiltinRoles, r.Name) {
			out = append(out, roleView{Name: r.Name, Rights: dir.RoleRights(r.Name).Names()})
		}
	}
	return c.JSON(http.StatusOK, out)
}

type roleRequest struct {
	Rights []string `json:"rights"`
}

// saveRole defines a role's rights: a built-in one's (admin excepted) or a
// tenant's own.
func (a *API) saveRole(c echo.Context) error {
	name := c.Param("name")
	if !access.ValidRoleName(name) {
		return protocol.Errorf(protocol.CodeBadRequest, "a role name is 1 to 32 of a-z 0-9 _ -, starting with a letter")
	}
	if name == protocol.RoleAdmin {
		return protocol.Errorf(protocol.CodeConflict, "an admin's rights are fixed")
	}
	var in roleRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	rights, err := access.ParseRights(in.Rights)
	if err != nil {
		return protocol.Errorf(protocol.CodeBadRequest, "%v", err)
	}
	orgi := request.Principal(c).Agent.Orgi
	if err := a.Store.SaveRole(c.Request().Context(), store.Role{Orgi: orgi, Name: name, Rights: rights.String()}); err != nil {
		return err
	}
	a.Access.Forget(orgi)
	return c.JSON(http.StatusOK, roleView{Name: name, Rights: rights.Names(), Builtin: slices.Contains(access.BuiltinRoles, name)})
}

// deleteRole removes a tenant's own role (if nobody holds it) or returns a
// built-in one to its default rights.
func (a *API) deleteRole(c echo.Context) error {
	name := c.Param("name")
	ctx := c.Request().Context()
	orgi := request.Principal(c).Agent.Orgi
	if !slices.Contains(access.BuiltinRoles, name) {
		agents, err := a.Store.ListAgents(ctx, orgi)
		if err != nil {
			return err
		}
		for _, ag := range agents {
			if slices.Contains(strings.Split(ag.Roles, ","), name) {
				return protocol.Errorf(protocol.CodeConflict, "%s still holds the role %q", ag.Username, name)
			}
		}
	}
	err := a.Store.DeleteRole(ctx, orgi, name)
	if errors.Is(err, store.ErrNotFound) && slices.Contains(access.BuiltinRoles, name) {
		err = nil // already at its defaults
	}
	if err != nil {
		return request.NotFound(err, "role")
	}
	a.Access.Forget(orgi)
	return c.NoContent(http.StatusNoContent)
}
