package access

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kefu-im/kefu/pkg/store"
)

// Store is what a Resolver reads.
type Store interface {
	Roles(ctx context.Context, orgi string) ([]store.Role, error)
	ListSkills(ctx context.Context, orgi string) ([]store.SkillGroup, error)
	TenantAgentSkills(ctx context.Context, orgi string) (map[string][]string, error)
	AgentIDs(ctx context.Context, orgi string) ([]string, error)
}

// DefaultTTL is how long a Resolver keeps a tenant's directory: an admin's
// change to roles, groups or memberships takes at most this long to reach
// other gateways (the one that made it forgets at once).
const DefaultTTL = 5 * time.Second

// Resolver keeps tenants' directories for a short while: every request and
// every mirrored event needs one, and they change rarely.
type Resolver struct {
	st  Store
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	dir *Directory
	at  time.Time
}

// NewResolver returns a Resolver keeping directories for ttl (0: DefaultTTL).
func NewResolver(st Store, ttl time.Duration) *Resolver {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Resolver{st: st, ttl: ttl, now: time.Now, cache: make(map[string]cached)}
}

// Directory returns orgi's directory, read again once it is ttl old, or
// when it does not know one of the agents named (created since: an agent
// made on another gateway must not be out of every scope for a while).
func (r *Resolver) Directory(ctx context.Context, orgi string, agents ...string) (*Directory, error) {
	now := r.now()
	r.mu.Lock()
	c, ok := r.cache[orgi]
	r.mu.Unlock()
	if ok && now.Sub(c.at) < r.ttl && knowsAll(c.dir, agents) {
		return c.dir, nil
	}
	roles, err := r.st.Roles(ctx, orgi)
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	groups, err := r.st.ListSkills(ctx, orgi)
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	members, err := r.st.TenantAgentSkills(ctx, orgi)
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	ids, err := r.st.AgentIDs(ctx, orgi)
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	dir := NewDirectory(orgi, roles, groups, ids, members)
	r.mu.Lock()
	r.cache[orgi] = cached{dir: dir, at: now}
	r.mu.Unlock()
	return dir, nil
}

func knowsAll(d *Directory, agents []string) bool {
	for _, id := range agents {
		if id != "" && !d.Knows(id) {
			return false
		}
	}
	return true
}

// Forget makes orgi's directory stale (after an edit on this node): the
// next Directory reads it again; Cached still has the old one meanwhile.
func (r *Resolver) Forget(orgi string) {
	r.mu.Lock()
	if c, ok := r.cache[orgi]; ok {
		c.at = time.Time{}
		r.cache[orgi] = c
	}
	r.mu.Unlock()
}

// Grant is the staff member's grant, from a fresh enough directory.
func (r *Resolver) Grant(ctx context.Context, a store.Agent) (Grant, error) {
	d, err := r.Directory(ctx, a.Orgi, a.ID)
	if err != nil {
		return Grant{}, err
	}
	return d.Grant(a), nil
}

// Can reports whether staff member a holds want on session s.
func (r *Resolver) Can(ctx context.Context, a store.Agent, want Rights, s store.Session) (bool, error) {
	if a.Orgi != s.Orgi {
		return false, nil
	}
	d, err := r.Directory(ctx, a.Orgi, a.ID, s.AgentNo)
	if err != nil {
		return false, err
	}
	return d.Grant(a).Can(want, d.Chat(s.Orgi, s.Skill, s.AgentNo)), nil
}

// Serving says whether an agent serves a visitor now.
type Serving interface {
	ServesVisitor(ctx context.Context, agentID, appid, userid string) (bool, error)
}

// MayRead reports whether staff member a may read session s (its messages,
// its transcript): the agent it belongs to; a supervisor whose read right
// covers it; or an agent serving the same visitor now, who needs the
// visitor's earlier chats.
func (r *Resolver) MayRead(ctx context.Context, a store.Agent, s store.Session, sv Serving) (bool, error) {
	if a.Orgi != s.Orgi {
		return false, nil
	}
	if s.AgentNo == a.ID {
		return true, nil
	}
	ok, err := r.Can(ctx, a, Read, s)
	if err != nil || ok {
		return ok, err
	}
	return sv.ServesVisitor(ctx, a.ID, s.AppID, s.UserID)
}

// Cached returns orgi's directory as last read, however old, without
// reading the store: for paths that must not block (the broker's delivery).
// ok is false when it was never read.
func (r *Resolver) Cached(orgi string) (d *Directory, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.cache[orgi]
	return c.dir, ok
}
