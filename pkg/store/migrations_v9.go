package store

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// migrateV9 adds customer management: contacts, their admin-defined
// attributes and the attributes' values.
func migrateV9(tx *gorm.DB, isMySQL bool) error {
	if isMySQL {
		tx = tx.Set("gorm:table_options", mysqlTableOptions)
	}
	m := tx.Migrator()
	for _, t := range []any{&v9Contact{}, &v9ContactValue{}, &v9ContactAttribute{}} {
		if !m.HasTable(t) {
			if err := m.CreateTable(t); err != nil {
				return fmt.Errorf("create %T: %w", t, err)
			}
		}
	}
	return nil
}

// Frozen copies of the version-9 models.

type v9Contact struct {
	ID        string `gorm:"primaryKey;size:32"`
	Orgi      string `gorm:"size:32;not null;index:idx_contacts_tenant_updated,priority:1;index:idx_contacts_tenant_owner,priority:1;index:idx_contacts_tenant_name,priority:1"`
	Name      string `gorm:"size:128;not null;index:idx_contacts_tenant_name,priority:2"`
	Phones    string `gorm:"size:512;not null;default:''"`
	Emails    string `gorm:"size:1024;not null;default:''"`
	Company   string `gorm:"size:128;not null;default:''"`
	Address   string `gorm:"size:256;not null;default:''"`
	OwnerID   string `gorm:"size:32;not null;default:'';index:idx_contacts_tenant_owner,priority:2"`
	Tags      string `gorm:"size:512;not null;default:''"`
	Notes     string `gorm:"type:text"`
	CreatedAt time.Time
	UpdatedAt time.Time `gorm:"index:idx_contacts_tenant_updated,priority:2;index:idx_contacts_tenant_owner,priority:3"`
}

func (v9Contact) TableName() string { return "contacts" }

type v9ContactValue struct {
	ContactID string `gorm:"primaryKey;size:32"`
	Key       string `gorm:"primaryKey;size:64;index:idx_contact_values_lookup,priority:2"`
	Orgi      string `gorm:"size:32;not null;index:idx_contact_values_lookup,priority:1"`
	Value     string `gorm:"size:255;not null;index:idx_contact_values_lookup,priority:3"`
}

func (v9ContactValue) TableName() string { return "contact_values" }

type v9ContactAttribute struct {
	ID       string `gorm:"primaryKey;size:32"`
	Orgi     string `gorm:"size:32;not null;uniqueIndex:idx_contact_attrs_key,priority:1"`
	Key      string `gorm:"size:64;not null;uniqueIndex:idx_contact_attrs_key,priority:2"`
	Label    string `gorm:"size:128;not null"`
	Type     string `gorm:"size:16;not null"`
	Choices  string `gorm:"size:2048;not null;default:''"`
	Required bool   `gorm:"not null;default:false"`
	Unique   bool   `gorm:"not null;default:false"`
	Position int    `gorm:"not null;default:0"`
}

func (v9ContactAttribute) TableName() string { return "contact_attributes" }
