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

// CreateSite inserts site, filling AppID and the timestamps when empty.
// Empty Origins and Config become "[]" and "{}" so readers can always
// unmarshal them.
func (s *Store) CreateSite(ctx context.Context, site *Site) error {
	if site.Orgi == "" {
		return errors.New("store: create site: orgi is required")
	}
	if site.AppID == "" {
		site.AppID = NewID()
	}
	if site.Origins == "" {
		site.Origins = "[]"
	}
	if site.Config == "" {
		site.Config = "{}"
	}
	now := s.now()
	if site.CreatedAt.IsZero() {
		site.CreatedAt = now
	}
	site.CreatedAt = utc(site.CreatedAt)
	site.UpdatedAt = now
	if err := s.db.WithContext(ctx).Create(site).Error; err != nil {
		if isDuplicate(err) {
			return fmt.Errorf("store: create site %s: %w", site.AppID, ErrConflict)
		}
		return fmt.Errorf("store: create site %s: %w", site.AppID, err)
	}
	return nil
}

// UpdateSite writes site's editable fields (name, origins, config, text
// limit, disabled). Orgi and CreatedAt never change: a site does not move
// between tenants.
func (s *Store) UpdateSite(ctx context.Context, site *Site) error {
	if site.Origins == "" {
		site.Origins = "[]"
	}
	if site.Config == "" {
		site.Config = "{}"
	}
	site.UpdatedAt = s.now()
	res := s.db.WithContext(ctx).Model(&Site{}).Where("appid = ?", site.AppID).Updates(map[string]any{
		"name":       site.Name,
		"origins":    site.Origins,
		"config":     site.Config,
		"text_limit": site.TextLimit,
		"disabled":   site.Disabled,
		"updated_at": site.UpdatedAt,
	})
	if res.Error != nil {
		return fmt.Errorf("store: update site %s: %w", site.AppID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: update site %s: %w", site.AppID, ErrNotFound)
	}
	return nil
}

// GetSite returns the site with the given appid.
func (s *Store) GetSite(ctx context.Context, appid string) (Site, error) {
	var site Site
	if err := s.db.WithContext(ctx).Where("appid = ?", appid).Take(&site).Error; err != nil {
		return Site{}, notFound(err, "get site %s", appid)
	}
	return site, nil
}

// ListSites returns the tenant's sites, oldest first.
func (s *Store) ListSites(ctx context.Context, orgi string) ([]Site, error) {
	var sites []Site
	if err := s.db.WithContext(ctx).Where("orgi = ?", orgi).Order("created_at, appid").Find(&sites).Error; err != nil {
		return nil, fmt.Errorf("store: list sites of %s: %w", orgi, err)
	}
	return sites, nil
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
