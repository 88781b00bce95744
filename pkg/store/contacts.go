package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Contact is a customer of a tenant (UCKeFu's 联系人): who they are, who
// looks after them (the owner, an agent) and what the tenant's own
// attributes say of them. Phones, emails and tags are kept as Lines;
// attributes are rows of ContactValue.
type Contact struct {
	ID        string `gorm:"primaryKey;size:32"`
	Orgi      string `gorm:"size:32;not null;index:idx_contacts_tenant_updated,priority:1;index:idx_contacts_tenant_owner,priority:1;index:idx_contacts_tenant_name,priority:1"`
	Name      string `gorm:"size:128;not null;index:idx_contacts_tenant_name,priority:2"`
	Phones    string `gorm:"size:512;not null;default:''"` // Lines
	Emails    string `gorm:"size:1024;not null;default:''"`
	Company   string `gorm:"size:128;not null;default:''"`
	Address   string `gorm:"size:256;not null;default:''"`
	OwnerID   string `gorm:"size:32;not null;default:'';index:idx_contacts_tenant_owner,priority:2"`
	Tags      string `gorm:"size:512;not null;default:''"`
	Notes     string `gorm:"type:text"`
	CreatedAt time.Time
	UpdatedAt time.Time `gorm:"index:idx_contacts_tenant_updated,priority:2;index:idx_contacts_tenant_owner,priority:3"`

	Values map[string]string `gorm:"-"` // attribute key → value
}

// ContactValue is one custom attribute's value for one contact; the index
// serves the unique attributes' check and filters by attribute.
type ContactValue struct {
	ContactID string `gorm:"primaryKey;size:32"`
	Key       string `gorm:"primaryKey;size:64;index:idx_contact_values_lookup,priority:2"`
	Orgi      string `gorm:"size:32;not null;index:idx_contact_values_lookup,priority:1"`
	Value     string `gorm:"size:255;not null;index:idx_contact_values_lookup,priority:3"`
}

// ContactAttribute is an admin-defined field of a tenant's contacts.
type ContactAttribute struct {
	ID       string `gorm:"primaryKey;size:32"`
	Orgi     string `gorm:"size:32;not null;uniqueIndex:idx_contact_attrs_key,priority:1"`
	Key      string `gorm:"size:64;not null;uniqueIndex:idx_contact_attrs_key,priority:2"`
	Label    string `gorm:"size:128;not null"`
	Type     string `gorm:"size:16;not null"`              // text, number, date, choice
	Choices  string `gorm:"size:2048;not null;default:''"` // one per line (choice)
	Required bool   `gorm:"not null;default:false"`
	Unique   bool   `gorm:"not null;default:false"`
	Position int    `gorm:"not null;default:0"`
}

// ContactQuery selects a page of a tenant's contacts, last changed first.
type ContactQuery struct {
	Orgi string
	// Text is found in the name, phones, emails or company.
	Text    string
	OwnerID string // "-": contacts nobody owns
	Tag     string
	Offset  int
	Limit   int // 0: 50; at most 500
}

// ContactPage is a page of contacts and how many match in all.
type ContactPage struct {
	Contacts []Contact
	Total    int64
}

// CreateContact stores c (ID and times are set) with its values.
func (s *Store) CreateContact(ctx context.Context, c *Contact) error {
	now := s.now()
	c.ID, c.CreatedAt, c.UpdatedAt = NewID(), now, now
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		return saveValues(tx, *c)
	})
	if err != nil {
		return fmt.Errorf("store: create contact: %w", err)
	}
	return nil
}

// UpdateContact writes every field of c and replaces its values.
func (s *Store) UpdateContact(ctx context.Context, c *Contact) error {
	c.UpdatedAt = s.now()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Contact{}).Where("id = ? AND orgi = ?", c.ID, c.Orgi).Updates(map[string]any{
			"name": c.Name, "phones": c.Phones, "emails": c.Emails, "company": c.Company, "address": c.Address,
			"owner_id": c.OwnerID, "tags": c.Tags, "notes": c.Notes, "updated_at": c.UpdatedAt,
		})
		if err := touched(res, "update contact %s", c.ID); err != nil {
			return err
		}
		if err := tx.Where("contact_id = ?", c.ID).Delete(&ContactValue{}).Error; err != nil {
			return fmt.Errorf("store: update contact %s: %w", c.ID, err)
		}
		if err := saveValues(tx, *c); err != nil {
			return fmt.Errorf("store: update contact %s: %w", c.ID, err)
		}
		return nil
	})
}

func saveValues(tx *gorm.DB, c Contact) error {
	vs := make([]ContactValue, 0, len(c.Values))
	for k, v := range c.Values {
		vs = append(vs, ContactValue{ContactID: c.ID, Key: k, Orgi: c.Orgi, Value: v})
	}
	if len(vs) == 0 {
		return nil
	}
	return tx.Create(&vs).Error
}

// GetContact returns orgi's contact id with its values.
func (s *Store) GetContact(ctx context.Context, orgi, id string) (Contact, error) {
	var c Contact
	if err := s.db.WithContext(ctx).Where("id = ? AND orgi = ?", id, orgi).Take(&c).Error; err != nil {
		return Contact{}, notFound(err, "contact %s", id)
	}
	cs := []Contact{c}
	if err := s.loadValues(ctx, cs); err != nil {
		return Contact{}, err
	}
	return cs[0], nil
}

// DeleteContact removes orgi's contact id and its values.
func (s *Store) DeleteContact(ctx context.Context, orgi, id string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := touched(tx.Where("id = ? AND orgi = ?", id, orgi).Delete(&Contact{}), "delete contact %s", id); err != nil {
			return err
		}
		if err := tx.Where("contact_id = ?", id).Delete(&ContactValue{}).Error; err != nil {
			return fmt.Errorf("store: delete contact %s: %w", id, err)
		}
		return nil
	})
}

// ListContacts returns a page of q's contacts.
func (s *Store) ListContacts(ctx context.Context, q ContactQuery) (ContactPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	db := s.db.WithContext(ctx).Model(&Contact{}).Where("orgi = ?", q.Orgi)
	switch q.OwnerID {
	case "":
	case "-":
		db = db.Where("owner_id = ''")
	default:
		db = db.Where("owner_id = ?", q.OwnerID)
	}
	if q.Text != "" {
		like := containsPattern(q.Text)
		db = db.Where("(name LIKE ? ESCAPE '!' OR phones LIKE ? ESCAPE '!' OR emails LIKE ? ESCAPE '!' OR company LIKE ? ESCAPE '!')", like, like, like, like)
	}
	if q.Tag != "" {
		db = db.Where("tags LIKE ? ESCAPE '!'", containsPattern(Lines([]string{q.Tag})))
	}
	var page ContactPage
	if err := db.Count(&page.Total).Error; err != nil {
		return ContactPage{}, fmt.Errorf("store: count contacts: %w", err)
	}
	if err := db.Order("updated_at DESC, id DESC").Offset(q.Offset).Limit(limit).Find(&page.Contacts).Error; err != nil {
		return ContactPage{}, fmt.Errorf("store: list contacts: %w", err)
	}
	if err := s.loadValues(ctx, page.Contacts); err != nil {
		return ContactPage{}, err
	}
	return page, nil
}

func (s *Store) loadValues(ctx context.Context, cs []Contact) error {
	if len(cs) == 0 {
		return nil
	}
	ids := make([]string, len(cs))
	at := make(map[string]int, len(cs))
	for i, c := range cs {
		ids[i], at[c.ID] = c.ID, i
		cs[i].Values = map[string]string{}
	}
	var vs []ContactValue
	if err := s.db.WithContext(ctx).Where("contact_id IN ?", ids).Find(&vs).Error; err != nil {
		return fmt.Errorf("store: contact values: %w", err)
	}
	for _, v := range vs {
		cs[at[v.ContactID]].Values[v.Key] = v.Value
	}
	return nil
}

// ContactWithValue returns the id of orgi's contact other than except
// whose attribute key holds value; "" if none.
func (s *Store) ContactWithValue(ctx context.Context, orgi, key, value, except string) (string, error) {
	var v ContactValue
	err := s.db.WithContext(ctx).Where("orgi = ? AND `key` = ? AND value = ? AND contact_id <> ?", orgi, key, value, except).Take(&v).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("store: contact with %s: %w", key, err)
	}
	return v.ContactID, nil
}

// AllocateContacts makes ownerID ("" none) the owner of orgi's contacts
// ids; it returns how many there were.
func (s *Store) AllocateContacts(ctx context.Context, orgi string, ids []string, ownerID string) (int64, error) {
	res := s.db.WithContext(ctx).Model(&Contact{}).Where("orgi = ? AND id IN ?", orgi, ids).
		Updates(map[string]any{"owner_id": ownerID, "updated_at": s.now()})
	if res.Error != nil {
		return 0, fmt.Errorf("store: allocate contacts: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// ContactAttributes returns orgi's attribute definitions in order.
func (s *Store) ContactAttributes(ctx context.Context, orgi string) ([]ContactAttribute, error) {
	var as []ContactAttribute
	if err := s.db.WithContext(ctx).Where("orgi = ?", orgi).Order("position, id").Find(&as).Error; err != nil {
		return nil, fmt.Errorf("store: contact attributes: %w", err)
	}
	return as, nil
}

// ReplaceContactAttributes makes as orgi's definitions, in that order.
// Values of keys no longer defined are dropped with their definition.
func (s *Store) ReplaceContactAttributes(ctx context.Context, orgi string, as []ContactAttribute) ([]ContactAttribute, error) {
	keep := make([]string, 0, len(as))
	for i := range as {
		as[i].Orgi, as[i].Position = orgi, i
		if as[i].ID == "" {
			as[i].ID = NewID()
		}
		keep = append(keep, as[i].Key)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("orgi = ?", orgi).Delete(&ContactAttribute{}).Error; err != nil {
			return err
		}
		drop := tx.Where("orgi = ?", orgi)
		if len(keep) > 0 {
			drop = drop.Where("`key` NOT IN ?", keep)
		}
		if err := drop.Delete(&ContactValue{}).Error; err != nil {
			return err
		}
		if len(as) == 0 {
			return nil
		}
		return tx.Create(&as).Error
	})
	if err != nil {
		return nil, fmt.Errorf("store: replace contact attributes: %w", err)
	}
	return as, nil
}

// Lines keeps a list in one column, one item per line and a newline at
// each end, so that a LIKE on "\nitem\n" matches a whole item.
func Lines(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return "\n" + strings.Join(items, "\n") + "\n"
}

// SplitLines is the list Lines kept.
func SplitLines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
