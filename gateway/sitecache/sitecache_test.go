package sitecache

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

type countingLoader struct {
	calls   int
	sites   map[string]store.Site
	tenants map[string]store.Tenant
	err     error
}

func (l *countingLoader) GetTenant(_ context.Context, id string) (store.Tenant, error) {
	t, ok := l.tenants[id]
	if !ok {
		return store.Tenant{}, store.ErrNotFound
	}
	return t, nil
}

func (l *countingLoader) GetSite(_ context.Context, appID string) (store.Site, error) {
	l.calls++
	if l.err != nil {
		return store.Site{}, l.err
	}
	s, ok := l.sites[appID]
	if !ok {
		return store.Site{}, store.ErrNotFound
	}
	return s, nil
}

func TestCacheHitsMissesAndExpiry(t *testing.T) {
	l := &countingLoader{sites: map[string]store.Site{"a": {AppID: "a", Name: "A"}}}
	c := New(l, time.Minute)
	now := time.Unix(0, 0)
	c.now = func() time.Time { return now }
	ctx := context.Background()
	for range 3 {
		if s, err := c.GetSite(ctx, "a"); err != nil || s.Name != "A" {
			t.Fatalf("GetSite: %+v %v", s, err)
		}
		if _, err := c.GetSite(ctx, "zz"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown site: %v", err)
		}
	}
	if l.calls != 2 {
		t.Fatalf("%d loads for 2 distinct appids", l.calls)
	}
	l.sites["a"] = store.Site{AppID: "a", Name: "A2"}
	c.Forget("a")
	if s, _ := c.GetSite(ctx, "a"); s.Name != "A2" {
		t.Fatalf("Forget did not reload: %+v", s)
	}
	now = now.Add(2 * time.Minute)
	l.sites["zz"] = store.Site{AppID: "zz"}
	if _, err := c.GetSite(ctx, "zz"); err != nil {
		t.Fatalf("expired miss not reloaded: %v", err)
	}
	// A database error is not cached.
	l.err = errors.New("down")
	now = now.Add(2 * time.Minute)
	if _, err := c.GetSite(ctx, "a"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("error: %v", err)
	}
	l.err = nil
	if _, err := c.GetSite(ctx, "a"); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestCacheRefusesDisabledTenantsSites(t *testing.T) {
	l := &countingLoader{
		sites:   map[string]store.Site{"a": {AppID: "a", Orgi: "acme"}},
		tenants: map[string]store.Tenant{"acme": {ID: "acme", Disabled: true}},
	}
	c := New(l, time.Minute)
	ctx := context.Background()
	for range 2 { // loaded, then cached
		if _, err := c.GetSite(ctx, "a"); !errors.Is(err, protocol.ErrTenantDisabled) {
			t.Fatalf("disabled tenant's site: %v", err)
		}
	}
	l.tenants["acme"] = store.Tenant{ID: "acme"}
	c.Forget("a")
	if s, err := c.GetSite(ctx, "a"); err != nil || s.AppID != "a" {
		t.Fatalf("enabled again: %+v %v", s, err)
	}
}
