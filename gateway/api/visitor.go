package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

type visitorIdentity struct {
	UserID string `json:"userid"`
	Sign   string `json:"sign"`
}

// issueVisitor returns the visitor's identity: the one presented if its
// signature holds (returning visitors keep theirs), a fresh one otherwise.
func (a *API) issueVisitor(c echo.Context) error {
	ctx := c.Request().Context()
	appID := c.Param("appid")
	site, err := a.Store.GetSite(ctx, appID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && site.Disabled) {
		return protocol.Errorf(protocol.CodeNotFound, "unknown appid")
	}
	if err != nil {
		return err
	}
	var in visitorIdentity
	if c.Request().ContentLength != 0 {
		if err := request.Bind(c, &in); err != nil {
			return err
		}
	}
	if in.UserID != "" && a.Signer.Verify(appID, in.UserID, in.Sign) {
		switch b, blocked, err := a.Store.Blocked(ctx, appID, in.UserID); {
		case err != nil:
			return err
		case blocked:
			return protocol.Errorf(protocol.CodeForbidden, "blocked until %s", b.Until.UTC().Format(time.RFC3339))
		}
		return c.JSON(http.StatusOK, in)
	}
	now := time.Now()
	if !a.visitorLimit.Allow(c.RealIP(), now) {
		return protocol.Errorf(protocol.CodeRateLimited, "too many new visitor identities from this address; retry in a minute")
	}
	out := visitorIdentity{UserID: identity.NewVisitorID()}
	out.Sign = a.Signer.Sign(appID, out.UserID)
	if err := a.Store.UpsertVisitor(ctx, store.Visitor{
		AppID: appID, UserID: out.UserID, Orgi: site.Orgi, Nickname: "Guest_" + out.UserID[:6],
		CreatedAt: now.UTC(), LastSeen: now.UTC(),
	}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// visitorMessages is the visitor's history. With session (an agentserviceid
// of theirs) and after (a seq), it fills a gap in that session; otherwise it
// pages back through all their messages with before (a message id).
func (a *API) visitorMessages(c echo.Context) error {
	ctx := c.Request().Context()
	appID, userID := c.Param("appid"), c.QueryParam("userid")
	if !a.Signer.Verify(appID, userID, c.QueryParam("sign")) {
		return protocol.Errorf(protocol.CodeUnauthorized, "missing or invalid visitor signature")
	}
	limit, err := request.Int(c, "limit")
	if err != nil {
		return err
	}
	if id := c.QueryParam("session"); id != "" || c.QueryParam("after") != "" {
		after, err := request.Int(c, "after")
		if err != nil {
			return err
		}
		var sess store.Session
		if id == "" {
			sess, err = a.Store.OpenSession(ctx, appID, userID)
		} else {
			sess, err = a.Store.GetSession(ctx, id)
		}
		if err != nil {
			return request.NotFound(err, "session")
		}
		if sess.AppID != appID || sess.UserID != userID {
			return protocol.Errorf(protocol.CodeNotFound, "session not found")
		}
		ms, err := a.Store.ListMessages(ctx, sess.ID, after, 0, int(limit))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, chats(ms))
	}
	ms, err := a.Store.ListVisitorMessages(ctx, appID, userID, c.QueryParam("before"), int(limit))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, chats(ms))
}
