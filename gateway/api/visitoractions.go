package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// staffSite loads a site of the caller's tenant.
func (a *API) staffSite(c echo.Context, appID string) (store.Site, error) {
	site, err := a.openSite(c, appID)
	if err == nil && site.Orgi != request.Principal(c).Agent.Orgi {
		return store.Site{}, protocol.Errorf(protocol.CodeNotFound, "unknown appid")
	}
	return site, err
}

// requestRating asks the visitor of a session for a rating.
func (a *API) requestRating(c echo.Context) error {
	sess, err := a.sessionFor(c, access.Write)
	if err != nil {
		return err
	}
	site, err := a.Store.GetSite(c.Request().Context(), sess.AppID)
	if err != nil {
		return err
	}
	if !protocol.SiteSatisfaction(site.Config).On() {
		return protocol.Errorf(protocol.CodeConflict, "ratings are switched off for this site")
	}
	st := protocol.VisitorStatus{State: protocol.StateRating, MessageType: "invit", AgentServiceID: sess.ID, AgentNo: sess.AgentNo, CreateTime: protocol.Time(time.Now().UTC())}
	if err := a.Emit.ToVisitor(c.Request().Context(), sess.AppID, sess.UserID, protocol.EventStatus, st); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"ok": true})
}

// onlineVisitors lists the tenant's visitors with the widget open now.
func (a *API) onlineVisitors(c echo.Context) error {
	vs, err := a.Online.List(c.Request().Context(), request.Principal(c).Agent.Orgi)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(vs))
	for i, v := range vs {
		out[i] = map[string]any{
			"appid": v.AppID, "userid": v.UserID, "nickname": v.Nickname, "url": v.URL, "title": v.Title,
			"since": protocol.Time(v.Since), "chatting": v.Chatting,
		}
	}
	return c.JSON(http.StatusOK, out)
}
