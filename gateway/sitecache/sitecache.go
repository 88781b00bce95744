// Package sitecache keeps recently used sites in memory: every polling
// request and every connect looks its site up, and sites rarely change.
package sitecache

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/kefu-im/kefu/pkg/store"
)

// Loader reads a site from the database.
type Loader interface {
	GetSite(ctx context.Context, appID string) (store.Site, error)
}

// Cache answers GetSite from memory for up to TTL. Unknown appids are
// remembered too, so a flood of bogus ids does not reach the database.
type Cache struct {
	load Loader
	ttl  time.Duration
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]entry
}

type entry struct {
	site    store.Site
	missing bool
	expires time.Time
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
	if ok && now.Before(e.expires) {
		if e.missing {
			return store.Site{}, store.ErrNotFound
		}
		return e.site, nil
	}
	site, err := c.load.GetSite(ctx, appID)
	missing := errors.Is(err, store.ErrNotFound)
	if err != nil && !missing {
		return store.Site{}, err
	}
	c.mu.Lock()
	if len(c.entries) >= maxEntries {
		clear(c.entries)
	}
	c.entries[appID] = entry{site: site, missing: missing, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	if missing {
		return store.Site{}, err
	}
	return site, nil
}

// Forget drops appid so the next lookup reads the database (after an edit
// on this node; other nodes catch up within the TTL).
func (c *Cache) Forget(appID string) {
	c.mu.Lock()
	delete(c.entries, appID)
	c.mu.Unlock()
}
