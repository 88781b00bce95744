// Package contacts holds the rules of a tenant's customers (UCKeFu's
// 客户管理): what a valid contact is, the admin-defined attributes and their
// types, required and unique flags, and allocation to owners. The REST API
// and the CSV import both go through Service, so that a contact is checked
// the same way whichever door it comes in by.
package contacts

import (
	"context"
	"errors"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Attribute types.
const (
	TypeText   = "text"
	TypeNumber = "number"
	TypeDate   = "date" // YYYY-MM-DD
	TypeChoice = "choice"
)

// Limits of a contact and of the attribute definitions.
const (
	MaxName       = 128
	MaxCompany    = 128
	MaxAddress    = 256
	MaxNotes      = 10000
	MaxPhones     = 5
	MaxPhone      = 32
	MaxEmails     = 5
	MaxEmail      = 190
	MaxTags       = 20
	MaxTag        = 24
	MaxValue      = 255
	MaxAttributes = 50
	MaxLabel      = 128
	MaxChoices    = 50
)

// Store is what the rules read and write.
type Store interface {
	CreateContact(ctx context.Context, c *store.Contact) error
	UpdateContact(ctx context.Context, c *store.Contact) error
	GetContact(ctx context.Context, orgi, id string) (store.Contact, error)
	ContactWithValue(ctx context.Context, orgi, key, value, except string) (string, error)
	AllocateContacts(ctx context.Context, orgi string, ids []string, ownerID string) (int64, error)
	ContactAttributes(ctx context.Context, orgi string) ([]store.ContactAttribute, error)
	ReplaceContactAttributes(ctx context.Context, orgi string, as []store.ContactAttribute) ([]store.ContactAttribute, error)
}

// Agents finds a possible owner.
type Agents interface {
	GetAgent(ctx context.Context, id string) (store.Agent, error)
}

// Service applies the rules.
type Service struct {
	Store  Store
	Agents Agents
}

// Fields are what a person edits of a contact.
type Fields struct {
	Name    string
	Phones  []string
	Emails  []string
	Company string
	Address string
	OwnerID string
	Tags    []string
	Notes   string
	Values  map[string]string
}

func bad(format string, args ...any) error {
	return protocol.Errorf(protocol.CodeBadRequest, format, args...)
}

var phoneRE = regexp.MustCompile(`^\+?[0-9][0-9 ()\-.]*$`)

// normalise trims f and checks what needs no database.
func (f *Fields) normalise() error {
	f.Name, f.Company, f.Address = strings.TrimSpace(f.Name), strings.TrimSpace(f.Company), strings.TrimSpace(f.Address)
	switch {
	case f.Name == "":
		return bad("name is required")
	case utf8.RuneCountInString(f.Name) > MaxName:
		return bad("name is longer than %d characters", MaxName)
	case utf8.RuneCountInString(f.Company) > MaxCompany:
		return bad("company is longer than %d characters", MaxCompany)
	case utf8.RuneCountInString(f.Address) > MaxAddress:
		return bad("address is longer than %d characters", MaxAddress)
	case utf8.RuneCountInString(f.Notes) > MaxNotes:
		return bad("notes are longer than %d characters", MaxNotes)
	}
	var err error
	if f.Phones, err = list("phone", f.Phones, MaxPhones, MaxPhone, func(p string) bool { return phoneRE.MatchString(p) }); err != nil {
		return err
	}
	if f.Emails, err = list("email", f.Emails, MaxEmails, MaxEmail, func(e string) bool {
		a, err := mail.ParseAddress(e)
		return err == nil && a.Address == e && a.Name == ""
	}); err != nil {
		return err
	}
	if f.Tags, err = list("tag", f.Tags, MaxTags, MaxTag, func(t string) bool { return !strings.ContainsAny(t, "\n\r") }); err != nil {
		return err
	}
	return nil
}

// list trims items, drops empty ones and repeats, and checks the rest.
func list(what string, items []string, maxItems, maxLen int, ok func(string) bool) ([]string, error) {
	var out []string
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" || slices.Contains(out, it) {
			continue
		}
		if utf8.RuneCountInString(it) > maxLen || !ok(it) {
			return nil, bad("%s %q is not valid", what, it)
		}
		out = append(out, it)
	}
	if len(out) > maxItems {
		return nil, bad("at most %d of %s", maxItems, what+"s")
	}
	return out, nil
}

// Create checks f and stores it as a new contact of tenant.
func (s Service) Create(ctx context.Context, tenant string, f Fields) (store.Contact, error) {
	c := store.Contact{Orgi: tenant}
	if err := s.apply(ctx, &c, f); err != nil {
		return store.Contact{}, err
	}
	if err := s.Store.CreateContact(ctx, &c); err != nil {
		return store.Contact{}, err
	}
	return c, nil
}

// Update checks f and writes it over tenant's contact id.
func (s Service) Update(ctx context.Context, tenant, id string, f Fields) (store.Contact, error) {
	c, err := s.Store.GetContact(ctx, tenant, id)
	if err != nil {
		return store.Contact{}, err
	}
	if err := s.apply(ctx, &c, f); err != nil {
		return store.Contact{}, err
	}
	if err := s.Store.UpdateContact(ctx, &c); err != nil {
		return store.Contact{}, err
	}
	return c, nil
}

// apply checks f against the tenant's attributes and owners, then copies it
// into c.
func (s Service) apply(ctx context.Context, c *store.Contact, f Fields) error {
	if err := f.normalise(); err != nil {
		return err
	}
	if err := s.checkOwner(ctx, c.Orgi, f.OwnerID); err != nil {
		return err
	}
	defs, err := s.Store.ContactAttributes(ctx, c.Orgi)
	if err != nil {
		return err
	}
	values, err := checkValues(defs, f.Values)
	if err != nil {
		return err
	}
	for _, d := range defs {
		if v, ok := values[d.Key]; ok && d.Unique {
			other, err := s.Store.ContactWithValue(ctx, c.Orgi, d.Key, v, c.ID)
			if err != nil {
				return err
			}
			if other != "" {
				return protocol.Errorf(protocol.CodeConflict, "another contact already has %s %q", d.Label, v)
			}
		}
	}
	c.Name, c.Company, c.Address, c.OwnerID, c.Notes = f.Name, f.Company, f.Address, f.OwnerID, f.Notes
	c.Phones, c.Emails, c.Tags = store.Lines(f.Phones), store.Lines(f.Emails), store.Lines(f.Tags)
	c.Values = values
	return nil
}

// checkOwner: an owner is an agent of the tenant, enabled and not deleted.
func (s Service) checkOwner(ctx context.Context, tenant, ownerID string) error {
	if ownerID == "" {
		return nil
	}
	a, err := s.Agents.GetAgent(ctx, ownerID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return bad("owner %s is not a user of this tenant", ownerID)
	case err != nil:
		return err
	case a.Orgi != tenant || a.DeletedAt != nil:
		return bad("owner %s is not a user of this tenant", ownerID)
	case a.Disabled:
		return bad("owner %s is disabled", ownerID)
	}
	return nil
}

// checkValues checks values against the definitions: no unknown key, every
// required one, each of its type. Empty values are dropped.
func checkValues(defs []store.ContactAttribute, values map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(values))
	for k, v := range values {
		i := slices.IndexFunc(defs, func(d store.ContactAttribute) bool { return d.Key == k })
		if i < 0 {
			return nil, bad("unknown attribute %q", k)
		}
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		norm, err := checkValue(defs[i], v)
		if err != nil {
			return nil, err
		}
		out[k] = norm
	}
	for _, d := range defs {
		if _, ok := out[d.Key]; d.Required && !ok {
			return nil, bad("%s is required", d.Label)
		}
	}
	return out, nil
}

func checkValue(d store.ContactAttribute, v string) (string, error) {
	if utf8.RuneCountInString(v) > MaxValue {
		return "", bad("%s is longer than %d characters", d.Label, MaxValue)
	}
	switch d.Type {
	case TypeNumber:
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return "", bad("%s must be a number, not %q", d.Label, v)
		}
		return strconv.FormatFloat(n, 'f', -1, 64), nil
	case TypeDate:
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return "", bad("%s must be a date as YYYY-MM-DD, not %q", d.Label, v)
		}
	case TypeChoice:
		if !slices.Contains(store.SplitLines(d.Choices), v) {
			return "", bad("%s must be one of %s, not %q", d.Label, strings.Join(store.SplitLines(d.Choices), ", "), v)
		}
	}
	return v, nil
}

// Allocate makes ownerID ("" nobody) the owner of tenant's contacts ids
// (UCKeFu's 分配客户) and says how many it changed.
func (s Service) Allocate(ctx context.Context, tenant string, ids []string, ownerID string) (int64, error) {
	if len(ids) == 0 || len(ids) > 1000 {
		return 0, bad("allocate 1 to 1000 contacts at a time")
	}
	if err := s.checkOwner(ctx, tenant, ownerID); err != nil {
		return 0, err
	}
	return s.Store.AllocateContacts(ctx, tenant, ids, ownerID)
}

// Attribute is an attribute definition as an admin writes it.
type Attribute struct {
	Key      string
	Label    string
	Type     string
	Choices  []string
	Required bool
	Unique   bool
}

var keyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ReplaceAttributes checks as and makes them tenant's attributes, in order.
// Dropping one drops its values; a new required attribute does not make
// existing contacts invalid until they are next edited.
func (s Service) ReplaceAttributes(ctx context.Context, tenant string, as []Attribute) ([]store.ContactAttribute, error) {
	if len(as) > MaxAttributes {
		return nil, bad("at most %d attributes", MaxAttributes)
	}
	old, err := s.Store.ContactAttributes(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]store.ContactAttribute, 0, len(as))
	seen := map[string]bool{}
	for _, a := range as {
		a.Label = strings.TrimSpace(a.Label)
		switch {
		case !keyRE.MatchString(a.Key):
			return nil, bad("attribute key %q: a lower-case letter, then letters, digits or _ (at most 64)", a.Key)
		case seen[a.Key]:
			return nil, bad("attribute key %q is used twice", a.Key)
		case a.Label == "" || utf8.RuneCountInString(a.Label) > MaxLabel:
			return nil, bad("attribute %s: the label is required (at most %d characters)", a.Key, MaxLabel)
		case !slices.Contains([]string{TypeText, TypeNumber, TypeDate, TypeChoice}, a.Type):
			return nil, bad("attribute %s: type must be text, number, date or choice", a.Key)
		}
		seen[a.Key] = true
		var choices []string
		if a.Type == TypeChoice {
			if choices, err = list("choice", a.Choices, MaxChoices, MaxValue, func(string) bool { return true }); err != nil {
				return nil, err
			}
			if len(choices) == 0 {
				return nil, bad("attribute %s: a choice needs its choices", a.Key)
			}
		}
		def := store.ContactAttribute{Key: a.Key, Label: a.Label, Type: a.Type, Choices: store.Lines(choices), Required: a.Required, Unique: a.Unique}
		if i := slices.IndexFunc(old, func(o store.ContactAttribute) bool { return o.Key == a.Key }); i >= 0 {
			def.ID = old[i].ID
		}
		out = append(out, def)
	}
	return s.Store.ReplaceContactAttributes(ctx, tenant, out)
}
