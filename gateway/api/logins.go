package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/gateway/auth"
	"github.com/kefu-im/kefu/pkg/protocol"
)

// registerLogins mounts the signed-in sessions of a user (its own, and any
// of the tenant's for admins) and the admin's unlock of an account.
func (a *API) registerLogins(authed, admin *echo.Group) {
	authed.GET("/auth/logins", a.myLogins)
	authed.DELETE("/auth/logins/:lid", a.revokeMyLogin)
	admin.GET("/agents/:id/logins", a.agentLogins)
	admin.DELETE("/agents/:id/logins/:lid", a.revokeAgentLogin)
	admin.DELETE("/agents/:id/logins", a.revokeAgentLogins)
	admin.DELETE("/agents/:id/lock", a.unlockAgent)
}

// loginView is one signed-in session. ID is the start of its token's hash
// (auth.LoginID): never the token, nor the stored hash.
type loginView struct {
	ID        string        `json:"id"`
	Created   protocol.Time `json:"created"`
	Expires   protocol.Time `json:"expires"`
	IP        string        `json:"ip"`
	UserAgent string        `json:"useragent"`
	Current   bool          `json:"current"` // the login of this request
}

// policyView is the sign-in throttling in force, for pages to explain.
type policyView struct {
	AccountFailures int `json:"accountfailures"`
	AddressFailures int `json:"addressfailures"`
	WindowMinutes   int `json:"windowminutes"`
	LockoutMinutes  int `json:"lockoutminutes"`
}

// lockView is how an account's sign-ins stand; Until is set while it is
// locked out.
type lockView struct {
	Failures int           `json:"failures"`
	Until    protocol.Time `json:"until"`
	Locked   bool          `json:"locked"`
}

type loginList struct {
	Logins []loginView `json:"logins"`
	Policy policyView  `json:"policy"`
	Lock   *lockView   `json:"lock,omitempty"` // admins' view of another user
}

func (a *API) loginList(ctx context.Context, agentID, currentHash string) (loginList, error) {
	ts, err := a.Auth.Logins(ctx, agentID)
	if err != nil {
		return loginList{}, err
	}
	out := loginList{Logins: make([]loginView, len(ts))}
	for i, t := range ts {
		out.Logins[i] = loginView{
			ID: auth.LoginID(t.Hash), Created: protocol.Time(t.CreatedAt), Expires: protocol.Time(t.ExpiresAt),
			IP: t.IP, UserAgent: t.UserAgent, Current: t.Hash == currentHash,
		}
	}
	p := a.Auth.Policy()
	out.Policy = policyView{
		AccountFailures: p.AccountFailures, AddressFailures: p.AddressFailures,
		WindowMinutes: int(p.Window.Minutes()), LockoutMinutes: int(p.Lockout.Minutes()),
	}
	return out, nil
}

func (a *API) myLogins(c echo.Context) error {
	p := request.Principal(c)
	out, err := a.loginList(c.Request().Context(), p.Agent.ID, p.TokenHash)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) revokeMyLogin(c echo.Context) error {
	return a.revokeLogin(c, request.Principal(c).Agent.ID)
}

func (a *API) agentLogins(c echo.Context) error {
	ag, err := a.tenantAgent(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	out, err := a.loginList(ctx, ag.ID, request.Principal(c).TokenHash)
	if err != nil {
		return err
	}
	st, err := a.Auth.AccountStatus(ctx, ag.Username)
	if err != nil {
		return err
	}
	out.Lock = &lockView{Failures: st.Failures, Until: protocol.Time(st.LockedUntil), Locked: !st.LockedUntil.IsZero()}
	return c.JSON(http.StatusOK, out)
}

func (a *API) revokeAgentLogin(c echo.Context) error {
	ag, err := a.tenantAgent(c)
	if err != nil {
		return err
	}
	return a.revokeLogin(c, ag.ID)
}

// revokeLogin ends agentID's login :lid: its token stops working and its
// sockets on every node get `leave`, as at logout.
func (a *API) revokeLogin(c echo.Context, agentID string) error {
	ctx := c.Request().Context()
	hash, err := a.Auth.Revoke(ctx, agentID, c.Param("lid"))
	if err != nil {
		return err
	}
	if err := a.Emit.ToRoom(ctx, protocol.NamespaceAgent, protocol.LoginRoom(hash), protocol.EventLeave, protocol.Leave{Reason: "revoked"}, ""); err != nil {
		a.Logger.WarnContext(ctx, "leave not delivered", "agent", agentID, "err", err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) revokeAgentLogins(c echo.Context) error {
	ag, err := a.tenantAgent(c)
	if err != nil {
		return err
	}
	if err := a.endLogins(c.Request().Context(), ag.ID, "revoked"); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// unlockAgent lifts an account's sign-in lockout.
func (a *API) unlockAgent(c echo.Context) error {
	ag, err := a.tenantAgent(c)
	if err != nil {
		return err
	}
	if err := a.Auth.Unlock(c.Request().Context(), ag.Username); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
