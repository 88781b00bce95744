package api

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// The tenant's dictionaries (issue 11): tags of each kind and the tags on
// visitors (canned.go has the canned replies, blacklist.go the blacklist).
// GET /tags, POST /tags and PUT /sessions/:id/tags are mounted by Register.

// registerDictionaries mounts the routes of this file (issue 11).
func (a *API) registerDictionaries(authed, admin *echo.Group) {
	admin.POST("/tags", a.createTag)
	admin.PUT("/tags/:id", a.updateTag)
	admin.DELETE("/tags/:id", a.deleteTag)
	authed.GET("/visitors/:appid/:userid/tags", a.visitorTags)
	authed.PUT("/visitors/:appid/:userid/tags", a.setVisitorTags)
	authed.PUT("/blacklist/:appid/:userid", a.changeBlock)
	a.registerCanned(authed)
}

// tagColor is a tag's colour: #rrggbb, which an <input type=color> gives
// and takes.
var tagColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

type tagRequest struct {
	Name  string `json:"name"`
	Color string `json:"color"`
	Kind  string `json:"kind"` // creating: session when empty; editing: unchanged
}

func (r tagRequest) Validate() error {
	if n := utf8.RuneCountInString(strings.TrimSpace(r.Name)); n == 0 || n > 64 {
		return protocol.Errorf(protocol.CodeBadRequest, "name must be 1 to 64 characters")
	}
	if r.Color != "" && !tagColor.MatchString(r.Color) {
		return protocol.Errorf(protocol.CodeBadRequest, "color must be #rrggbb, not %q", r.Color)
	}
	if r.Kind != "" && !protocol.ValidTagKind(r.Kind) {
		return protocol.Errorf(protocol.CodeBadRequest, "kind must be one of %s", strings.Join(protocol.TagKinds, ", "))
	}
	return nil
}

func tagView(t store.Tag) protocol.Tag {
	return protocol.Tag{ID: t.ID, Name: t.Name, Color: t.Color, Kind: t.Kind, CreateTime: protocol.Time(t.CreatedAt)}
}

// tagConflict names what a store.ErrConflict about tag t means.
func tagConflict(err error, t store.Tag) error {
	if errors.Is(err, store.ErrConflict) {
		return protocol.Errorf(protocol.CodeConflict, "a %s tag named %q exists already", t.Kind, t.Name)
	}
	return err
}

func (a *API) createTag(c echo.Context) error {
	var in tagRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	t := store.Tag{Orgi: request.Principal(c).Agent.Orgi, Name: strings.TrimSpace(in.Name), Color: strings.ToLower(in.Color), Kind: in.Kind}
	if t.Kind == "" {
		t.Kind = protocol.TagKindSession
	}
	if err := a.Store.CreateTag(c.Request().Context(), &t); err != nil {
		return tagConflict(err, t)
	}
	return c.JSON(http.StatusCreated, tagView(t))
}

// adminTag loads the :id tag of the caller's tenant.
func (a *API) adminTag(c echo.Context) (store.Tag, error) {
	t, err := a.Store.GetTag(c.Request().Context(), c.Param("id"))
	if err != nil {
		return store.Tag{}, request.NotFound(err, "tag")
	}
	if t.Orgi != request.Principal(c).Agent.Orgi {
		return store.Tag{}, protocol.Errorf(protocol.CodeNotFound, "tag not found")
	}
	return t, nil
}

// updateTag renames, recolours or changes the kind of a tag (a new kind
// drops what it labelled).
func (a *API) updateTag(c echo.Context) error {
	t, err := a.adminTag(c)
	if err != nil {
		return err
	}
	var in tagRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	t.Name, t.Color = strings.TrimSpace(in.Name), strings.ToLower(in.Color)
	if in.Kind != "" {
		t.Kind = in.Kind
	}
	if err := a.Store.UpdateTag(c.Request().Context(), t); err != nil {
		return tagConflict(err, t)
	}
	return c.JSON(http.StatusOK, tagView(t))
}

func (a *API) deleteTag(c echo.Context) error {
	t, err := a.adminTag(c)
	if err != nil {
		return err
	}
	if err := a.Store.DeleteTag(c.Request().Context(), t.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// listTags lists the tenant's tags, of one kind with ?kind=.
func (a *API) listTags(c echo.Context) error {
	kind := c.QueryParam("kind")
	if kind != "" && !protocol.ValidTagKind(kind) {
		return protocol.Errorf(protocol.CodeBadRequest, "kind must be one of %s", strings.Join(protocol.TagKinds, ", "))
	}
	tags, err := a.Store.ListTags(c.Request().Context(), request.Principal(c).Agent.Orgi)
	if err != nil {
		return err
	}
	out := make([]protocol.Tag, 0, len(tags))
	for _, t := range tags {
		if kind == "" || t.Kind == kind {
			out = append(out, tagView(t))
		}
	}
	return c.JSON(http.StatusOK, out)
}

// checkTags sorts and dedupes ids and checks that each is one of the
// tenant's tags of kind.
func (a *API) checkTags(c echo.Context, orgi, kind string, ids []string) ([]string, error) {
	known, err := a.Store.ListTags(c.Request().Context(), orgi)
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		i := slices.IndexFunc(known, func(t store.Tag) bool { return t.ID == id })
		if i < 0 {
			return nil, protocol.Errorf(protocol.CodeNotFound, "tag %q not found", id)
		}
		if known[i].Kind != kind {
			return nil, protocol.Errorf(protocol.CodeBadRequest, "tag %q is a %s tag, not a %s tag", known[i].Name, known[i].Kind, kind)
		}
	}
	return nonNil(ids), nil
}

// setSessionTags sets a conversation's tags (session tags only).
func (a *API) setSessionTags(c echo.Context) error {
	sess, err := a.sessionFor(c, access.Write)
	if err != nil {
		return err
	}
	var in protocol.TagSet
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ids, err := a.checkTags(c, sess.Orgi, protocol.TagKindSession, in.Tags)
	if err != nil {
		return err
	}
	if err := a.Store.SetSessionTags(c.Request().Context(), sess.ID, ids); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, protocol.TagSet{Tags: ids})
}

// visitorFor loads the :appid/:userid visitor of the caller's tenant if the
// caller may see (want access.Read) or label (access.Write) them: as the
// visitor panel does, an agent serving them now or whose chat one of
// theirs was, a supervisor whose right covers one of their chats, an
// admin.
func (a *API) visitorFor(c echo.Context, want access.Rights) (store.Visitor, error) {
	site, err := a.staffSite(c, c.Param("appid"))
	if err != nil {
		return store.Visitor{}, err
	}
	ctx := c.Request().Context()
	v, err := a.Store.GetVisitor(ctx, site.AppID, c.Param("userid"))
	if err != nil {
		return store.Visitor{}, request.NotFound(err, "visitor")
	}
	p := request.Principal(c)
	if p.Has(protocol.RoleAdmin) {
		return v, nil
	}
	if serving, err := a.Store.ServesVisitor(ctx, p.Agent.ID, v.AppID, v.UserID); err != nil || serving {
		return v, err
	}
	sessions, err := a.Store.ListVisitorSessions(ctx, v.AppID, v.UserID, 20)
	if err != nil {
		return store.Visitor{}, err
	}
	for _, s := range sessions {
		if s.AgentNo == p.Agent.ID {
			return v, nil
		}
		if ok, err := a.Access.Can(ctx, p.Agent, want, s); err != nil || ok {
			return v, err
		}
	}
	return store.Visitor{}, protocol.Errorf(protocol.CodeForbidden, "not your visitor, nor in your supervision scope")
}

func (a *API) visitorTags(c echo.Context) error {
	v, err := a.visitorFor(c, access.Read)
	if err != nil {
		return err
	}
	ids, err := a.Store.VisitorTags(c.Request().Context(), v.AppID, v.UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, protocol.TagSet{Tags: nonNil(ids)})
}

// setVisitorTags sets a visitor's tags (visitor tags only): they stay with
// the visitor across chats.
func (a *API) setVisitorTags(c echo.Context) error {
	v, err := a.visitorFor(c, access.Write)
	if err != nil {
		return err
	}
	var in protocol.TagSet
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ids, err := a.checkTags(c, v.Orgi, protocol.TagKindVisitor, in.Tags)
	if err != nil {
		return err
	}
	if err := a.Store.SetVisitorTags(c.Request().Context(), v.Orgi, v.AppID, v.UserID, ids); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, protocol.TagSet{Tags: ids})
}
