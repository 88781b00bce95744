package api

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// The blacklist: any staff member blocks a visitor of the tenant's sites
// for a while, lists, extends and lifts blocks. Nothing caches a block:
// every gateway asks the store at each identity, config and connect, so a
// change counts everywhere at once.

// maxBlockAhead bounds how far ahead a block may end.
const maxBlockAhead = 5 * 365 * 24 * time.Hour

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
	}
	return request.MaxText("reason", r.Reason, 255)
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
	p := request.Principal(c)
	now := time.Now().UTC()
	b := store.Blacklist{AppID: site.AppID, UserID: in.UserID, Orgi: site.Orgi, Until: now.Add(time.Duration(in.Hours) * time.Hour), Reason: strings.TrimSpace(in.Reason), By: p.Agent.ID, CreatedAt: now}
	if err := a.Store.Block(c.Request().Context(), b); err != nil {
		return err
	}
	if err := a.enforceBlock(c, b); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a.namedBlock(c, b))
}

// enforceBlock ends the blocked visitor's open chat, then refuses their
// sockets already open, on every node (a gateway disconnects a visitor
// room that is sent `refused`).
func (a *API) enforceBlock(c echo.Context, b store.Blacklist) error {
	ctx := c.Request().Context()
	if sess, err := a.Store.OpenSession(ctx, b.AppID, b.UserID); err == nil {
		if err := a.end(c, sess, protocol.EndByAgent); err != nil {
			return err
		}
	}
	refusal := protocol.Errorf(protocol.CodeForbidden, "blocked until %s", b.Until.UTC().Format(time.RFC3339))
	if err := a.Emit.ToVisitor(ctx, b.AppID, b.UserID, protocol.EventRefused, refusal); err != nil {
		a.Logger.WarnContext(ctx, "blocked visitor's sockets not told", "userid", b.UserID, "err", err)
	}
	return nil
}

// namedBlock is one entry with the visitor's and the blocker's names, as
// far as they are known.
func (a *API) namedBlock(c echo.Context, b store.Blacklist) protocol.BlacklistEntry {
	ctx := c.Request().Context()
	r := store.BlacklistRow{Blacklist: b}
	if v, err := a.Store.GetVisitor(ctx, b.AppID, b.UserID); err == nil {
		r.Nickname = v.Nickname
	}
	if ag, err := a.Store.GetAgent(ctx, b.By); err == nil {
		r.ByName = ag.Nickname
	}
	return blockView(r)
}

func blockView(r store.BlacklistRow) protocol.BlacklistEntry {
	return protocol.BlacklistEntry{
		AppID: r.AppID, UserID: r.UserID, Nickname: r.Nickname, Until: protocol.Time(r.Until), Reason: r.Reason,
		By: r.By, ByName: r.ByName, Active: r.Until.After(time.Now()), CreateTime: protocol.Time(r.CreatedAt),
	}
}

// listBlocks pages the tenant's blacklist, the latest blocked first:
// ?q= finds userid, reason or nickname; ?active=false lists blocks that
// have run out too.
func (a *API) listBlocks(c echo.Context) error {
	q := store.BlacklistQuery{Orgi: request.Principal(c).Agent.Orgi, Q: c.QueryParam("q")}
	if utf8.RuneCountInString(q.Q) > 100 {
		return protocol.Errorf(protocol.CodeBadRequest, "q is longer than 100 characters")
	}
	switch c.QueryParam("active") {
	case "", "true":
	case "false":
		q.Expired = true
	default:
		return protocol.Errorf(protocol.CodeBadRequest, "active must be true or false")
	}
	limit, err := request.Int(c, "limit")
	if err != nil {
		return err
	}
	if limit > 200 {
		return protocol.Errorf(protocol.CodeBadRequest, "limit must be at most 200")
	}
	q.Limit = int(limit)
	if q.Before, err = blockCursor(c.QueryParam("before")); err != nil {
		return err
	}
	rows, next, err := a.Store.SearchBlacklist(c.Request().Context(), q)
	if err != nil {
		return err
	}
	out := protocol.BlacklistPage{Items: make([]protocol.BlacklistEntry, len(rows))}
	for i, r := range rows {
		out.Items[i] = blockView(r)
	}
	if next != nil {
		raw := strconv.FormatInt(next.At.UnixMilli(), 10) + "\x00" + next.AppID + "\x00" + next.UserID
		out.Next = base64.RawURLEncoding.EncodeToString([]byte(raw))
	}
	return c.JSON(http.StatusOK, out)
}

// blockCursor reads a page's next (nil for none).
func blockCursor(v string) (*store.BlacklistCursor, error) {
	if v == "" {
		return nil, nil
	}
	bad := protocol.Errorf(protocol.CodeBadRequest, "before must be the next of an earlier page")
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, bad
	}
	parts := strings.SplitN(string(raw), "\x00", 3)
	if len(parts) != 3 {
		return nil, bad
	}
	ms, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return nil, bad
	}
	return &store.BlacklistCursor{At: time.UnixMilli(ms).UTC(), AppID: parts[1], UserID: parts[2]}, nil
}

// changeBlockRequest moves a block's end (to until, or extend_seconds past
// its end or now, whichever is later) and/or changes its reason.
type changeBlockRequest struct {
	Until         *protocol.Time `json:"until"`
	ExtendSeconds int64          `json:"extend_seconds"`
	Reason        *string        `json:"reason"`
}

func (r changeBlockRequest) Validate() error {
	switch {
	case r.Until != nil && r.ExtendSeconds != 0:
		return protocol.Errorf(protocol.CodeBadRequest, "give until or extend_seconds, not both")
	case r.Until == nil && r.ExtendSeconds == 0 && r.Reason == nil:
		return protocol.Errorf(protocol.CodeBadRequest, "nothing to change: give until, extend_seconds or reason")
	case r.ExtendSeconds < 0 || r.ExtendSeconds > int64(366*24*time.Hour/time.Second):
		return protocol.Errorf(protocol.CodeBadRequest, "extend_seconds must be 1 to %d (366 days)", int64(366*24*time.Hour/time.Second))
	case r.Reason != nil:
		return request.MaxText("reason", *r.Reason, 255)
	}
	return nil
}

// changeBlock extends, shortens or re-words a block; one that had run out
// and is in force again acts as a new block (the open chat ends, sockets
// are refused).
func (a *API) changeBlock(c echo.Context) error {
	site, err := a.staffSite(c, c.Param("appid"))
	if err != nil {
		return err
	}
	var in changeBlockRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	b, err := a.Store.GetBlock(ctx, site.Orgi, site.AppID, c.Param("userid"))
	if err != nil {
		return request.NotFound(err, "blacklist entry")
	}
	now := time.Now().UTC()
	wasActive := b.Until.After(now)
	switch {
	case in.Until != nil:
		b.Until = time.Time(*in.Until).UTC()
	case in.ExtendSeconds > 0:
		if !wasActive {
			b.Until = now
		}
		b.Until = b.Until.Add(time.Duration(in.ExtendSeconds) * time.Second)
	}
	if !b.Until.After(now) || b.Until.After(now.Add(maxBlockAhead)) {
		return protocol.Errorf(protocol.CodeBadRequest, "until must be in the future and at most 5 years ahead (lift the block to end it now)")
	}
	if in.Reason != nil {
		b.Reason = strings.TrimSpace(*in.Reason)
	}
	if err := a.Store.UpdateBlock(ctx, b); err != nil {
		return request.NotFound(err, "blacklist entry")
	}
	if !wasActive {
		if err := a.enforceBlock(c, b); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, a.namedBlock(c, b))
}

// unblock lifts a block.
func (a *API) unblock(c echo.Context) error {
	err := a.Store.Unblock(c.Request().Context(), request.Principal(c).Agent.Orgi, c.Param("appid"), c.Param("userid"))
	if err != nil {
		return request.NotFound(err, "blacklist entry")
	}
	return c.NoContent(http.StatusNoContent)
}
