package api

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

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

type inviteRequest struct {
	Message string `json:"message"`
}

func (r inviteRequest) Validate() error {
	return request.MaxText("message", r.Message, 500)
}

// inviteVisitor asks a visitor on the site to chat with the caller.
func (a *API) inviteVisitor(c echo.Context) error {
	site, err := a.staffSite(c, c.Param("appid"))
	if err != nil {
		return err
	}
	var in inviteRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	p := request.Principal(c)
	inv := protocol.Invite{AgentNo: p.Agent.ID, NickName: p.Agent.Nickname, Message: strings.TrimSpace(in.Message)}
	if err := a.Emit.ToVisitor(c.Request().Context(), site.AppID, c.Param("userid"), protocol.EventInvite, inv); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"ok": true})
}

// requestRating asks the visitor of a session for a rating.
func (a *API) requestRating(c echo.Context) error {
	sess, err := a.sessionFor(c, access.Write)
	if err != nil {
		return err
	}
	st := protocol.VisitorStatus{State: protocol.StateRating, MessageType: "invit", AgentServiceID: sess.ID, AgentNo: sess.AgentNo, CreateTime: protocol.Time(time.Now().UTC())}
	if err := a.Emit.ToVisitor(c.Request().Context(), sess.AppID, sess.UserID, protocol.EventStatus, st); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"ok": true})
}

type blockRequest struct {
	AppID  string `json:"appid"`
	UserID string `json:"userid"`
	Hours  int    `json:"hours"`
	Reason string `json:"reason"`
}

func (r blockRequest) Validate() error {
	switch {
	case r.AppID == "" || r.UserID == "":
		return protocol.Errorf(protocol.CodeBadRequest, "appid and userid are required")
	case r.Hours < 1 || r.Hours > 24*365:
		return protocol.Errorf(protocol.CodeBadRequest, "hours must be 1 to %d", 24*365)
	case utf8.RuneCountInString(r.Reason) > 255:
		return protocol.Errorf(protocol.CodeBadRequest, "reason is longer than 255 characters")
	}
	return nil
}

// block blacklists a visitor and ends their open chat.
func (a *API) block(c echo.Context) error {
	var in blockRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	site, err := a.staffSite(c, in.AppID)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := request.Principal(c)
	now := time.Now().UTC()
	b := store.Blacklist{AppID: site.AppID, UserID: in.UserID, Orgi: site.Orgi, Until: now.Add(time.Duration(in.Hours) * time.Hour), Reason: strings.TrimSpace(in.Reason), By: p.Agent.ID}
	if err := a.Store.Block(ctx, b); err != nil {
		return err
	}
	if sess, err := a.Store.OpenSession(ctx, site.AppID, in.UserID); err == nil {
		if err := a.end(c, sess, protocol.EndByAgent); err != nil {
			return err
		}
	}
	// Then the sockets already open are refused, on every node (a gateway
	// disconnects a visitor room that is sent `refused`).
	refusal := protocol.Errorf(protocol.CodeForbidden, "blocked until %s", b.Until.Format(time.RFC3339))
	if err := a.Emit.ToVisitor(ctx, site.AppID, in.UserID, protocol.EventRefused, refusal); err != nil {
		a.Logger.WarnContext(ctx, "blocked visitor's sockets not told", "userid", in.UserID, "err", err)
	}
	return c.JSON(http.StatusCreated, blockView(b))
}

func blockView(b store.Blacklist) map[string]any {
	return map[string]any{"appid": b.AppID, "userid": b.UserID, "until": protocol.Time(b.Until), "reason": b.Reason, "by": b.By}
}

func (a *API) listBlocks(c echo.Context) error {
	bs, err := a.Store.ListBlacklist(c.Request().Context(), request.Principal(c).Agent.Orgi)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(bs))
	for i, b := range bs {
		out[i] = blockView(b)
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) unblock(c echo.Context) error {
	err := a.Store.Unblock(c.Request().Context(), request.Principal(c).Agent.Orgi, c.Param("appid"), c.Param("userid"))
	if err != nil {
		return request.NotFound(err, "blacklist entry")
	}
	return c.NoContent(http.StatusNoContent)
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
