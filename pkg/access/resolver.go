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

// Directory returns orgi's directory, read again once it is ttl old.
func (r *Resolver) Directory(ctx context.Context, orgi string) (*Directory, error) {
	now := r.now()
	r.mu.Lock()
	c, ok := r.cache[orgi]
	r.mu.Unlock()
	if ok && now.Sub(c.at) < r.ttl {
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
	dir := NewDirectory(orgi, roles, groups, members)
	r.mu.Lock()
	r.cache[orgi] = cached{dir: dir, at: now}
	r.mu.Unlock()
	return dir, nil
}

// Forget drops orgi's directory (after an edit on this node).
func (r *Resolver) Forget(orgi string) {
	r.mu.Lock()
	delete(r.cache, orgi)
	r.mu.Unlock()
}

// Grant is the staff member's grant, from a fresh enough directory.
func (r *Resolver) Grant(ctx context.Context, a store.Agent) (Grant, error) {
	d, err := r.Directory(ctx, a.Orgi)
	if err != nil {
		return Grant{}, err
	}
	return d.Grant(a), nil
}

// Chat is a session's scope facts, from a fresh enough directory.
func (r *Resolver) Chat(ctx context.Context, s store.Session) (Chat, error) {
	d, err := r.Directory(ctx, s.Orgi)
	if err != nil {
		return Chat{}, err
	}
	return d.Chat(s.Orgi, s.Skill, s.AgentNo), nil
}

// Can reports whether staff member a holds want on session s.
func (r *Resolver) Can(ctx context.Context, a store.Agent, want Rights, s store.Session) (bool, error) {
	if a.Orgi != s.Orgi {
		return false, nil
	}
	d, err := r.Directory(ctx, a.Orgi)
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
