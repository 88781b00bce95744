package api

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/canned"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Canned replies and their category trees: the tenant's (managed by
// supervisors and admins, used by everyone) and each agent's own. The
// rules are pkg/canned's; GET/POST /canned and PUT/DELETE /canned/:id are
// mounted by Register.

func (a *API) registerCanned(authed *echo.Group) {
	authed.GET("/canned/categories", a.listCannedCategories)
	authed.POST("/canned/categories", a.createCannedCategory)
	authed.PUT("/canned/categories/:id", a.updateCannedCategory)
	authed.DELETE("/canned/categories/:id", a.deleteCannedCategory)
	authed.GET("/canned/export.csv", a.exportCanned)
	authed.POST("/canned/import", a.importCanned)
}

// mayManageTenantWide: tenant-wide replies and categories are for
// supervisors and admins.
func mayManageTenantWide(c echo.Context) bool {
	p := request.Principal(c)
	return p.Has(protocol.RoleSupervisor) || p.Has(protocol.RoleAdmin)
}

var errTenantWide = protocol.Errorf(protocol.CodeForbidden, "only supervisors and admins manage tenant-wide replies and categories")

// cannedOwner is the store's owner of a scope's replies and categories.
func cannedOwner(c echo.Context, scope string) string {
	if scope == protocol.CannedPrivate {
		return request.Principal(c).Agent.ID
	}
	return ""
}

func cannedScope(owner string) string {
	if owner == "" {
		return protocol.CannedTenant
	}
	return protocol.CannedPrivate
}

func checkScope(scope string) error {
	if scope != protocol.CannedTenant && scope != protocol.CannedPrivate {
		return protocol.Errorf(protocol.CodeBadRequest, "scope must be %s or %s", protocol.CannedTenant, protocol.CannedPrivate)
	}
	return nil
}

// cannedTrees are the caller's two category trees, by owner.
type cannedTrees map[string]*canned.Tree

func (a *API) cannedTrees(c echo.Context) (cannedTrees, error) {
	p := request.Principal(c)
	cats, err := a.Store.CannedCategories(c.Request().Context(), p.Agent.Orgi, "", p.Agent.ID)
	if err != nil {
		return nil, err
	}
	byOwner := map[string][]store.CannedCategory{}
	for _, cat := range cats {
		byOwner[cat.Owner] = append(byOwner[cat.Owner], cat)
	}
	return cannedTrees{"": canned.NewTree(byOwner[""]), p.Agent.ID: canned.NewTree(byOwner[p.Agent.ID])}, nil
}

func (ts cannedTrees) reply(r store.CannedReply) protocol.CannedReply {
	return protocol.CannedReply{
		ID: r.ID, CategoryID: r.CategoryID, Category: ts[r.Owner].Path(r.CategoryID),
		Title: r.Title, Content: r.Content, Scope: cannedScope(r.Owner),
	}
}

// Replies.

type cannedRequest struct {
	CategoryID string `json:"category_id"`
	// Category is a path ("A/B") whose missing categories are made; for
	// when category_id is not given.
	Category string `json:"category"`
	Title    string `json:"title"`
	Content  string `json:"content"`
	Scope    string `json:"scope"`
}

func (r cannedRequest) Validate() error {
	if err := checkScope(r.Scope); err != nil {
		return err
	}
	if r.CategoryID != "" && strings.TrimSpace(r.Category) != "" {
		return protocol.Errorf(protocol.CodeBadRequest, "give category_id or category, not both")
	}
	if _, err := canned.SplitPath(r.Category); err != nil {
		return err
	}
	_, _, err := canned.CheckReply(r.Title, r.Content)
	return err
}

// listCanned lists the tenant's replies and the caller's own, ?q= finding
// title or content (the `#` shortcut).
func (a *API) listCanned(c echo.Context) error {
	p := request.Principal(c)
	rs, err := a.Store.ListCanned(c.Request().Context(), p.Agent.Orgi, p.Agent.ID, c.QueryParam("q"))
	if err != nil {
		return err
	}
	trees, err := a.cannedTrees(c)
	if err != nil {
		return err
	}
	out := make([]protocol.CannedReply, len(rs))
	for i, r := range rs {
		out[i] = trees.reply(r)
	}
	return c.JSON(http.StatusOK, out)
}

// saveCanned creates (POST) or replaces (PUT /:id) a reply.
func (a *API) saveCanned(c echo.Context) error {
	ctx := c.Request().Context()
	var in cannedRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	r := store.CannedReply{Orgi: request.Principal(c).Agent.Orgi}
	if id := c.Param("id"); id != "" {
		var err error
		if r, err = a.ownCanned(c, id); err != nil {
			return err
		}
	}
	if in.Scope == protocol.CannedTenant && !mayManageTenantWide(c) {
		return errTenantWide
	}
	r.Owner = cannedOwner(c, in.Scope)
	trees, err := a.cannedTrees(c)
	if err != nil {
		return err
	}
	tree := trees[r.Owner]
	switch names, _ := canned.SplitPath(in.Category); {
	case in.CategoryID != "":
		if _, ok := tree.Get(in.CategoryID); !ok {
			return protocol.Errorf(protocol.CodeBadRequest, "category_id is not one of the %s categories", in.Scope)
		}
		r.CategoryID = in.CategoryID
	case len(names) > 0:
		id, made := tree.Ensure(r.Orgi, r.Owner, names)
		if err := a.Store.WriteCanned(ctx, made, nil, nil); err != nil {
			return err
		}
		r.CategoryID = id
	default:
		r.CategoryID = ""
	}
	r.Title, r.Content, _ = canned.CheckReply(in.Title, in.Content)
	created := r.ID == ""
	if err := a.Store.SaveCanned(ctx, &r); err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, trees.reply(r))
}

func (a *API) deleteCanned(c echo.Context) error {
	r, err := a.ownCanned(c, c.Param("id"))
	if err != nil {
		return err
	}
	if err := a.Store.DeleteCanned(c.Request().Context(), r.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// ownCanned loads a reply the caller may change: its own private one, or a
// tenant-wide one for supervisors and admins.
func (a *API) ownCanned(c echo.Context, id string) (store.CannedReply, error) {
	p := request.Principal(c)
	r, err := a.Store.GetCanned(c.Request().Context(), id)
	if err != nil || r.Orgi != p.Agent.Orgi || (r.Owner != "" && r.Owner != p.Agent.ID) {
		return store.CannedReply{}, protocol.Errorf(protocol.CodeNotFound, "canned reply not found")
	}
	if r.Owner == "" && !mayManageTenantWide(c) {
		return store.CannedReply{}, errTenantWide
	}
	return r, nil
}

// Categories.

// listCannedCategories lists the tenant's categories then the caller's
// own, each tree in path order (?scope= for one of them).
func (a *API) listCannedCategories(c echo.Context) error {
	scope := c.QueryParam("scope")
	if scope != "" {
		if err := checkScope(scope); err != nil {
			return err
		}
	}
	trees, err := a.cannedTrees(c)
	if err != nil {
		return err
	}
	p := request.Principal(c)
	counts, err := a.Store.CannedCounts(c.Request().Context(), p.Agent.Orgi, "", p.Agent.ID)
	if err != nil {
		return err
	}
	out := []protocol.CannedCategory{}
	for _, owner := range []string{"", p.Agent.ID} {
		if scope != "" && cannedScope(owner) != scope {
			continue
		}
		for _, cat := range trees[owner].Sorted() {
			out = append(out, categoryView(trees[owner], cat, counts[cat.ID]))
		}
	}
	return c.JSON(http.StatusOK, out)
}

func categoryView(t *canned.Tree, cat store.CannedCategory, replies int) protocol.CannedCategory {
	return protocol.CannedCategory{
		ID: cat.ID, ParentID: cat.ParentID, Name: cat.Name, Path: t.Path(cat.ID), Scope: cannedScope(cat.Owner), Replies: replies,
	}
}

// categoryConflict names what a store.ErrConflict about a category means.
func categoryConflict(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return protocol.Errorf(protocol.CodeConflict, "a category of that name is there already")
	}
	return err
}

type categoryRequest struct {
	Name     *string `json:"name"`
	ParentID *string `json:"parent_id"`
	Scope    string  `json:"scope"` // creating only
}

func (a *API) createCannedCategory(c echo.Context) error {
	var in categoryRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	if err := checkScope(in.Scope); err != nil {
		return err
	}
	if in.Scope == protocol.CannedTenant && !mayManageTenantWide(c) {
		return errTenantWide
	}
	if in.Name == nil {
		return protocol.Errorf(protocol.CodeBadRequest, "name is required")
	}
	name, err := canned.CheckName(*in.Name)
	if err != nil {
		return err
	}
	cat := store.CannedCategory{Orgi: request.Principal(c).Agent.Orgi, Owner: cannedOwner(c, in.Scope), Name: name}
	if in.ParentID != nil {
		cat.ParentID = *in.ParentID
	}
	trees, err := a.cannedTrees(c)
	if err != nil {
		return err
	}
	tree := trees[cat.Owner]
	if err := tree.CheckPlace("", cat.ParentID); err != nil {
		return err
	}
	if err := a.Store.CreateCannedCategory(c.Request().Context(), &cat); err != nil {
		return categoryConflict(err)
	}
	tree.Add(cat)
	return c.JSON(http.StatusCreated, categoryView(tree, cat, 0))
}

// ownCategory loads the :id category the caller may change, with its tree.
func (a *API) ownCategory(c echo.Context) (store.CannedCategory, *canned.Tree, error) {
	p := request.Principal(c)
	cat, err := a.Store.GetCannedCategory(c.Request().Context(), c.Param("id"))
	if err != nil || cat.Orgi != p.Agent.Orgi || (cat.Owner != "" && cat.Owner != p.Agent.ID) {
		return store.CannedCategory{}, nil, protocol.Errorf(protocol.CodeNotFound, "canned category not found")
	}
	if cat.Owner == "" && !mayManageTenantWide(c) {
		return store.CannedCategory{}, nil, errTenantWide
	}
	trees, err := a.cannedTrees(c)
	if err != nil {
		return store.CannedCategory{}, nil, err
	}
	return cat, trees[cat.Owner], nil
}

// updateCannedCategory renames and/or moves a category (parent_id "": to
// the top).
func (a *API) updateCannedCategory(c echo.Context) error {
	cat, tree, err := a.ownCategory(c)
	if err != nil {
		return err
	}
	var in categoryRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	if in.Name != nil {
		if cat.Name, err = canned.CheckName(*in.Name); err != nil {
			return err
		}
	}
	if in.ParentID != nil {
		if err := tree.CheckPlace(cat.ID, *in.ParentID); err != nil {
			return err
		}
		cat.ParentID = *in.ParentID
	}
	if err := a.Store.UpdateCannedCategory(c.Request().Context(), cat); err != nil {
		return categoryConflict(err)
	}
	trees, err := a.cannedTrees(c)
	if err != nil {
		return err
	}
	p := request.Principal(c)
	counts, err := a.Store.CannedCounts(c.Request().Context(), p.Agent.Orgi, cat.Owner)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, categoryView(trees[cat.Owner], cat, counts[cat.ID]))
}

// deleteCannedCategory removes an empty category, or with ?move_to= one
// whose replies and child categories move there first.
func (a *API) deleteCannedCategory(c echo.Context) error {
	cat, tree, err := a.ownCategory(c)
	if err != nil {
		return err
	}
	moveTo := c.QueryParam("move_to")
	if moveTo != "" {
		if _, ok := tree.Get(moveTo); !ok {
			return protocol.Errorf(protocol.CodeBadRequest, "move_to is not a category of the same scope")
		}
		if tree.Within(moveTo, cat.ID) {
			return protocol.Errorf(protocol.CodeBadRequest, "move_to is the category itself or below it")
		}
	}
	err = a.Store.DeleteCannedCategory(c.Request().Context(), cat.ID, moveTo)
	if errors.Is(err, store.ErrConflict) {
		if moveTo == "" {
			return protocol.Errorf(protocol.CodeConflict, "the category is not empty: move or delete its replies and categories, or give move_to")
		}
		return protocol.Errorf(protocol.CodeConflict, "move_to has a category named like one of those moving")
	}
	if err != nil {
		return request.NotFound(err, "canned category")
	}
	return c.NoContent(http.StatusNoContent)
}

// CSV.

// exportCanned writes one scope's replies as CSV (UTF-8 with a byte order
// mark): category path, title, content.
func (a *API) exportCanned(c echo.Context) error {
	scope := c.QueryParam("scope")
	if err := checkScope(scope); err != nil {
		return err
	}
	owner := cannedOwner(c, scope)
	trees, err := a.cannedTrees(c)
	if err != nil {
		return err
	}
	replies, err := a.Store.CannedOf(c.Request().Context(), request.Principal(c).Agent.Orgi, owner)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := canned.Export(&buf, trees[owner], replies); err != nil {
		return err
	}
	return request.CSVFile(c, "kefu-canned-"+scope, buf.Bytes())
}

// importCanned reads a CSV file (text/csv) into one scope: missing
// categories are made, replies matched by category and title are updated.
func (a *API) importCanned(c echo.Context) error {
	scope := c.QueryParam("scope")
	if err := checkScope(scope); err != nil {
		return err
	}
	if scope == protocol.CannedTenant && !mayManageTenantWide(c) {
		return errTenantWide
	}
	if mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); mt != "text/csv" {
		return protocol.Errorf(protocol.CodeBadRequest, "send the file as text/csv")
	}
	data, err := io.ReadAll(io.LimitReader(c.Request().Body, canned.MaxImportBytes+1))
	if err != nil {
		return protocol.Errorf(protocol.CodeBadRequest, "reading the file: %v", err)
	}
	if len(data) > canned.MaxImportBytes {
		return protocol.Errorf(protocol.CodeTooLarge, "the file is larger than %d bytes", canned.MaxImportBytes)
	}
	rows, bad, err := canned.Parse(data)
	if err != nil {
		return err
	}
	p := request.Principal(c)
	owner := cannedOwner(c, scope)
	trees, err := a.cannedTrees(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	existing, err := a.Store.CannedOf(ctx, p.Agent.Orgi, owner)
	if err != nil {
		return err
	}
	plan := canned.PlanImport(p.Agent.Orgi, owner, trees[owner], existing, rows, bad)
	if err := a.Store.WriteCanned(ctx, plan.Categories, plan.Create, plan.Update); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, plan.Result)
}
