package access

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/store"
)

type fakeStore struct {
	reads  int
	agents []string
}

func (f *fakeStore) Roles(context.Context, string) ([]store.Role, error) { f.reads++; return nil, nil }
func (f *fakeStore) ListSkills(context.Context, string) ([]store.SkillGroup, error) {
	return []store.SkillGroup{{ID: "A"}}, nil
}
func (f *fakeStore) TenantAgentSkills(context.Context, string) (map[string][]string, error) {
	m := map[string][]string{}
	for _, id := range f.agents {
		m[id] = []string{"A"}
	}
	return m, nil
}
func (f *fakeStore) AgentIDs(context.Context, string) ([]string, error) { return f.agents, nil }

func TestResolverKeepsRefreshesAndLearnsNewAgents(t *testing.T) {
	st := &fakeStore{agents: []string{"a1"}}
	r := NewResolver(st, time.Minute)
	now := time.Unix(1000, 0)
	r.now = func() time.Time { return now }
	ctx := context.Background()
	if _, ok := r.Cached("o"); ok {
		t.Fatal("cached before any read")
	}
	d1, _ := r.Directory(ctx, "o")
	d2, _ := r.Directory(ctx, "o", "a1")
	if d1 != d2 || st.reads != 1 {
		t.Fatalf("not kept: %d reads", st.reads)
	}
	// An agent created since: read again at once, not after the TTL.
	st.agents = append(st.agents, "a2")
	d3, _ := r.Directory(ctx, "o", "a2")
	if st.reads != 2 || !d3.Knows("a2") || len(d3.AgentGroups("a2")) != 1 {
		t.Fatalf("new agent not learnt: %d reads", st.reads)
	}
	// Forget: read again next time, the old one still cached meanwhile.
	r.Forget("o")
	if d, ok := r.Cached("o"); !ok || d != d3 {
		t.Fatal("Forget dropped the cached directory")
	}
	r.Directory(ctx, "o")
	if st.reads != 3 {
		t.Fatalf("Forget did not refresh: %d", st.reads)
	}
	now = now.Add(2 * time.Minute)
	r.Directory(ctx, "o")
	if st.reads != 4 {
		t.Fatalf("TTL did not refresh: %d", st.reads)
	}
}
