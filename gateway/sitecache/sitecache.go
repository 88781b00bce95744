// Package sitecache keeps recently used sites in memory: every polling
// request and every connect looks its site up, and sites rarely change.
package sitecache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Loader reads a site and its tenant from the database.
type Loader interface {
	GetSite(ctx context.Context, appID string) (store.Site, error)
	GetTenant(ctx context.Context, id string) (store.Tenant, error)
}

// Cache answers GetSite from memory for up to TTL. Unknown appids are
// remembered too, so a flood of bogus ids does not reach the database.
// A site of a disabled tenant is refused with protocol.ErrTenantDisabled:
// its visitors can neither connect nor call the widget's API.
type Cache struct {
	load Loader
	ttl  time.Duration
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]entry
}

type entry struct {
	site     store.Site
	missing  bool
	disabled bool // the site's tenant is disabled
	expires  time.Time
}

// maxEntries bounds memory; past it the cache is simply emptied, which
// costs one reload per live site.
const maxEntries = 10000

// New returns a Cache over load.
func New(load Loader, ttl time.Duration) *Cache {
	return &Cache{load: load, ttl: ttl, now: time.Now, entries: make(map[string]entry)}
}

// GetSite returns the site, or an error wrapping store.ErrNotFound.
func (c *Cache) GetSite(ctx context.Context, appID string) (store.Site, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[appID]
	c.mu.Unlock()
	if !ok || !now.Before(e.expires) {
		var err error
		if e, err = c.read(ctx, appID); err != nil {
			return store.Site{}, err
		}
		e.expires = now.Add(c.ttl)
		c.mu.Lock()
		if len(c.entries) >= maxEntries {
			clear(c.entries)
		}
		c.entries[appID] = e
		c.mu.Unlock()
	}
	switch {
	case e.missing:
		return store.Site{}, store.ErrNotFound
	case e.disabled:
		return store.Site{}, fmt.Errorf("site %s: %w", appID, protocol.ErrTenantDisabled)
	}
	return e.site, nil
}

// read loads appid's entry from the database.
func (c *Cache) read(ctx context.Context, appID string) (entry, error) {
	site, err := c.load.GetSite(ctx, appID)
	if errors.Is(err, store.ErrNotFound) {
		return entry{missing: true}, nil
	}
	if err != nil {
		return entry{}, err
	}
	t, err := c.load.GetTenant(ctx, site.Orgi)
	if err != nil && !errors.Is(err, store.ErrNotFound) { // no row: nothing disabled it
		return entry{}, err
	}
	return entry{site: site, disabled: t.Disabled}, nil
}

// Forget drops appid so the next lookup reads the database (after an edit
// on this node; other nodes catch up within the TTL).
func (c *Cache) Forget(appID string) {
	c.mu.Lock()
	delete(c.entries, appID)
	c.mu.Unlock()
}
