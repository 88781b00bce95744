// Package contacts is the REST API of a tenant's customers: the contacts
// with their custom attributes, search and filters, and allocation to
// owners. The rules are pkg/contacts'; this package only speaks HTTP.
//
// Every member of the tenant's staff may read and edit contacts (an agent
// meets them in chats); allocating them and deleting them is for
// supervisors and admins; defining attributes is for admins.
package contacts

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/gateway/auth"
	domain "github.com/kefu-im/kefu/pkg/contacts"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Store is what the contacts API reads and writes.
type Store interface {
	domain.Store
	domain.Agents
	ListContacts(ctx context.Context, q store.ContactQuery) (store.ContactPage, error)
	DeleteContact(ctx context.Context, orgi, id string) error
}

// Deps are the API's collaborators.
type Deps struct {
	Store  Store
	Logger *slog.Logger
}

// API holds the handlers.
type API struct {
	Deps
	rules domain.Service
}

// New returns the API.
func New(d Deps) *API {
	return &API{Deps: d, rules: domain.Service{Store: d.Store, Agents: d.Store}}
}

// Register mounts the routes on staff, the authenticated /api/v1 group.
func (a *API) Register(staff *echo.Group) {
	leads := request.RequireRole(protocol.RoleSupervisor, protocol.RoleAdmin)
	staff.GET("/contacts", a.list)
	staff.POST("/contacts", a.create)
	staff.POST("/contacts/allocate", a.allocate, leads)
	staff.GET("/contacts/attributes", a.attributes)
	staff.PUT("/admin/contacts/attributes", a.replaceAttributes, request.RequireRole(protocol.RoleAdmin))
	staff.GET("/contacts/:id", a.get)
	staff.PUT("/contacts/:id", a.update)
	staff.DELETE("/contacts/:id", a.remove, leads)
}

// Contact is a contact as the API shows it.
type Contact struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Phones     []string          `json:"phones"`
	Emails     []string          `json:"emails"`
	Company    string            `json:"company"`
	Address    string            `json:"address"`
	Owner      string            `json:"owner"` // agent id; "" nobody
	Tags       []string          `json:"tags"`
	Notes      string            `json:"notes"`
	Attributes map[string]string `json:"attributes"`
	CreateTime protocol.Time     `json:"createtime"`
	UpdateTime protocol.Time     `json:"updatetime"`
}

func viewOf(c store.Contact) Contact {
	nonNil := func(xs []string) []string {
		if xs == nil {
			return []string{}
		}
		return xs
	}
	values := c.Values
	if values == nil {
		values = map[string]string{}
	}
	return Contact{
		ID: c.ID, Name: c.Name, Phones: nonNil(store.SplitLines(c.Phones)), Emails: nonNil(store.SplitLines(c.Emails)),
		Company: c.Company, Address: c.Address, Owner: c.OwnerID, Tags: nonNil(store.SplitLines(c.Tags)), Notes: c.Notes,
		Attributes: values, CreateTime: protocol.Time(c.CreatedAt), UpdateTime: protocol.Time(c.UpdatedAt),
	}
}

// ContactInput is the body of POST /contacts and PUT /contacts/:id.
type ContactInput struct {
	Name       string            `json:"name"`
	Phones     []string          `json:"phones"`
	Emails     []string          `json:"emails"`
	Company    string            `json:"company"`
	Address    string            `json:"address"`
	Owner      string            `json:"owner"`
	Tags       []string          `json:"tags"`
	Notes      string            `json:"notes"`
	Attributes map[string]string `json:"attributes"`
}

func (in ContactInput) fields() domain.Fields {
	return domain.Fields{
		Name: in.Name, Phones: in.Phones, Emails: in.Emails, Company: in.Company, Address: in.Address,
		OwnerID: in.Owner, Tags: in.Tags, Notes: in.Notes, Values: in.Attributes,
	}
}

// Page answers GET /contacts.
type Page struct {
	Contacts []Contact `json:"contacts"`
	Total    int64     `json:"total"`
}

func (a *API) list(c echo.Context) error {
	me := request.Principal(c).Agent
	q := store.ContactQuery{Orgi: me.Orgi, Text: c.QueryParam("q"), OwnerID: c.QueryParam("owner"), Tag: c.QueryParam("tag")}
	if q.OwnerID == "me" {
		q.OwnerID = me.ID
	}
	offset, err := request.Int(c, "offset")
	if err != nil {
		return err
	}
	limit, err := request.Int(c, "limit")
	if err != nil {
		return err
	}
	if limit > 500 {
		return protocol.Errorf(protocol.CodeBadRequest, "limit is at most 500")
	}
	q.Offset, q.Limit = int(offset), int(limit)
	page, err := a.Store.ListContacts(c.Request().Context(), q)
	if err != nil {
		return err
	}
	out := Page{Contacts: make([]Contact, len(page.Contacts)), Total: page.Total}
	for i, ct := range page.Contacts {
		out.Contacts[i] = viewOf(ct)
	}
	return c.JSON(http.StatusOK, out)
}

// mayOwn: agents may take a contact themselves or leave its owner as it
// is; giving it to someone else is allocation, for supervisors and admins.
func mayOwn(p auth.Principal, current, next string) error {
	if next == current || next == p.Agent.ID || p.Has(protocol.RoleSupervisor) || p.Has(protocol.RoleAdmin) {
		return nil
	}
	return protocol.Errorf(protocol.CodeForbidden, "only supervisors and admins give a contact to someone else")
}

func (a *API) create(c echo.Context) error {
	var in ContactInput
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	if err := mayOwn(request.Principal(c), "", in.Owner); err != nil {
		return err
	}
	ct, err := a.rules.Create(c.Request().Context(), request.Principal(c).Agent.Orgi, in.fields())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewOf(ct))
}

func (a *API) get(c echo.Context) error {
	ct, err := a.Store.GetContact(c.Request().Context(), request.Principal(c).Agent.Orgi, c.Param("id"))
	if err != nil {
		return request.NotFound(err, "contact")
	}
	return c.JSON(http.StatusOK, viewOf(ct))
}

func (a *API) update(c echo.Context) error {
	var in ContactInput
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	p := request.Principal(c)
	old, err := a.Store.GetContact(c.Request().Context(), p.Agent.Orgi, c.Param("id"))
	if err != nil {
		return request.NotFound(err, "contact")
	}
	if err := mayOwn(p, old.OwnerID, in.Owner); err != nil {
		return err
	}
	ct, err := a.rules.Update(c.Request().Context(), p.Agent.Orgi, old.ID, in.fields())
	if err != nil {
		return request.NotFound(err, "contact")
	}
	return c.JSON(http.StatusOK, viewOf(ct))
}

func (a *API) remove(c echo.Context) error {
	if err := a.Store.DeleteContact(c.Request().Context(), request.Principal(c).Agent.Orgi, c.Param("id")); err != nil {
		return request.NotFound(err, "contact")
	}
	return c.NoContent(http.StatusNoContent)
}

// AllocateRequest is the body of POST /contacts/allocate.
type AllocateRequest struct {
	IDs   []string `json:"ids"`
	Owner string   `json:"owner"` // "" nobody
}

// Allocated answers it.
type Allocated struct {
	Changed int64 `json:"changed"`
}

func (a *API) allocate(c echo.Context) error {
	var in AllocateRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	n, err := a.rules.Allocate(c.Request().Context(), request.Principal(c).Agent.Orgi, in.IDs, in.Owner)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, Allocated{Changed: n})
}

// Attribute is an admin-defined field of contacts.
type Attribute struct {
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Type     string   `json:"type"` // text, number, date, choice
	Choices  []string `json:"choices"`
	Required bool     `json:"required"`
	Unique   bool     `json:"unique"`
}

func attributesOf(defs []store.ContactAttribute) []Attribute {
	out := make([]Attribute, len(defs))
	for i, d := range defs {
		choices := store.SplitLines(d.Choices)
		if choices == nil {
			choices = []string{}
		}
		out[i] = Attribute{Key: d.Key, Label: d.Label, Type: d.Type, Choices: choices, Required: d.Required, Unique: d.Unique}
	}
	return out
}

func (a *API) attributes(c echo.Context) error {
	defs, err := a.Store.ContactAttributes(c.Request().Context(), request.Principal(c).Agent.Orgi)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, attributesOf(defs))
}

func (a *API) replaceAttributes(c echo.Context) error {
	var in []Attribute
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	as := make([]domain.Attribute, len(in))
	for i, x := range in {
		as[i] = domain.Attribute{Key: x.Key, Label: x.Label, Type: x.Type, Choices: x.Choices, Required: x.Required, Unique: x.Unique}
	}
	defs, err := a.rules.ReplaceAttributes(c.Request().Context(), request.Principal(c).Agent.Orgi, as)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, attributesOf(defs))
}
