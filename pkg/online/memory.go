package online

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// Memory is the registry of the single binary: one process sees everyone.
type Memory struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]map[string]entry // orgi → key → entry
}

type entry struct {
	v       Visitor
	expires time.Time
}

// NewMemory returns an empty registry.
func NewMemory() *Memory {
	return &Memory{now: time.Now, m: make(map[string]map[string]entry)}
}

// Seen records (or refreshes) visitors of a tenant.
func (r *Memory) Seen(_ context.Context, orgi string, vs []Visitor) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m[orgi] == nil {
		r.m[orgi] = make(map[string]entry)
	}
	exp := r.now().Add(TTL)
	for _, v := range vs {
		r.m[orgi][v.Key()] = entry{v: v, expires: exp}
	}
	return nil
}

// Gone forgets a visitor.
func (r *Memory) Gone(_ context.Context, orgi, appid, userid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m[orgi], appid+"|"+userid)
	return nil
}

// List returns a tenant's visitors online, those who came first first.
func (r *Memory) List(_ context.Context, orgi string) ([]Visitor, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	var out []Visitor
	for k, e := range r.m[orgi] {
		if now.After(e.expires) {
			delete(r.m[orgi], k)
			continue
		}
		out = append(out, e.v)
	}
	sortVisitors(out)
	return out, nil
}

func sortVisitors(vs []Visitor) {
	slices.SortFunc(vs, func(a, b Visitor) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return strings.Compare(a.Key(), b.Key())
	})
}
