package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CreateTenant inserts t, filling ID and CreatedAt when empty.
func (s *Store) CreateTenant(ctx context.Context, t *Tenant) error {
	if t.ID == "" {
		t.ID = NewID()
	}
	if t.TimeZone == "" {
		t.TimeZone = "UTC"
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	t.CreatedAt = utc(t.CreatedAt)
	if err := s.db.WithContext(ctx).Create(t).Error; err != nil {
		if isDuplicate(err) {
			return fmt.Errorf("store: create tenant %s: %w", t.ID, ErrConflict)
		}
		return fmt.Errorf("store: create tenant %s: %w", t.ID, err)
	}
	return nil
}

// GetTenant returns the tenant with the given id.
func (s *Store) GetTenant(ctx context.Context, id string) (Tenant, error) {
	var t Tenant
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&t).Error; err != nil {
		return Tenant{}, notFound(err, "get tenant %s", id)
	}
	return t, nil
}

// ListTenants returns every tenant of the installation, oldest first.
func (s *Store) ListTenants(ctx context.Context) ([]Tenant, error) {
	var ts []Tenant
	if err := s.db.WithContext(ctx).Order("created_at, id").Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("store: list tenants: %w", err)
	}
	return ts, nil
}

// CreateTenantWithAdmin inserts a tenant and its first admin in one
// transaction: a fresh install never keeps a tenant nobody can log in to.
// A taken id or username is ErrConflict (check first to say which).
func (s *Store) CreateTenantWithAdmin(ctx context.Context, t *Tenant, admin *Agent) error {
	if t.ID == "" || admin.Username == "" {
		return errors.New("store: create tenant with admin: tenant id and username are required")
	}
	now := s.now()
	if t.TimeZone == "" {
		t.TimeZone = "UTC"
	}
	t.CreatedAt = now
	if admin.ID == "" {
		admin.ID = NewID()
	}
	admin.Orgi, admin.CreatedAt, admin.UpdatedAt = t.ID, now, now
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(t).Error; err != nil {
			if isDuplicate(err) {
				return fmt.Errorf("tenant %s: %w", t.ID, ErrConflict)
			}
			return err
		}
		if err := tx.Create(admin).Error; err != nil {
			if isDuplicate(err) {
				return fmt.Errorf("username %q: %w", admin.Username, ErrConflict)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: create tenant %s with admin: %w", t.ID, err)
	}
	return nil
}

// UpdateTenant writes t's editable fields (name, time zone, max user,
// disabled): read the tenant, change it, write it back.
func (s *Store) UpdateTenant(ctx context.Context, t *Tenant) error {
	res := s.db.WithContext(ctx).Model(&Tenant{}).Where("id = ?", t.ID).Updates(map[string]any{
		"name":      t.Name,
		"time_zone": t.TimeZone,
		"max_user":  t.MaxUser,
		"disabled":  t.Disabled,
	})
	return touched(res, "update tenant %s", t.ID)
}

// DeleteTenantTokens ends every login of the tenant's staff.
func (s *Store) DeleteTenantTokens(ctx context.Context, orgi string) error {
	err := s.db.WithContext(ctx).Where("agent_id IN (?)", s.db.Model(&Agent{}).Select("id").Where("orgi = ?", orgi)).Delete(&Token{}).Error
	if err != nil {
		return fmt.Errorf("store: delete tokens of tenant %s: %w", orgi, err)
	}
	return nil
}

// Setting returns the value stored under key. When there is none it stores
// create's value, unless another process stored one first: every caller ends
// up with the same value. create may therefore run and be discarded.
func (s *Store) Setting(ctx context.Context, key string, create func() (string, error)) (string, error) {
	db := s.db.WithContext(ctx)
	var st Setting
	err := db.Where("k = ?", key).Take(&st).Error
	if err == nil {
		return st.Value, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return "", fmt.Errorf("store: read setting %s: %w", key, err)
	}
	v, err := create()
	if err != nil {
		return "", fmt.Errorf("store: create setting %s: %w", key, err)
	}
	// Insert-if-absent, then read whatever won.
	err = db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "k"}}, DoNothing: true}).
		Create(&Setting{Key: key, Value: v}).Error
	if err != nil {
		return "", fmt.Errorf("store: store setting %s: %w", key, err)
	}
	if err := db.Where("k = ?", key).Take(&st).Error; err != nil {
		return "", notFound(err, "re-read setting %s", key)
	}
	return st.Value, nil
}
