package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// SkillIDs is the site's bound skill groups in the site's order (the
// widget's picker order); none: the tenant's routing decides.
func (s Site) SkillIDs() []string {
	if s.Skills == "" {
		return nil
	}
	return strings.Split(s.Skills, ",")
}

// SetSkillIDs binds the site to the groups ids, in that order.
func (s *Site) SetSkillIDs(ids []string) { s.Skills = strings.Join(ids, ",") }

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
// limit, disabled, skill groups). Orgi and CreatedAt never change: a site does not move
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
		"skills":     site.Skills,
		"updated_at": site.UpdatedAt,
	})
	return touched(res, "update site %s", site.AppID)
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
