package tenancy

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/store/storetest"
)

func eachStore(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); fn(t, storetest.SQLite(t)) })
	t.Run("mysql", func(t *testing.T) { t.Parallel(); fn(t, storetest.MySQL(t)) })
}

type emitted struct{ namespace, room, event string }

type recorder struct {
	mu  sync.Mutex
	got []emitted
}

func (r *recorder) ToRoom(_ context.Context, namespace, room, event string, _ any, _ string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, emitted{namespace, room, event})
	return nil
}

func TestCreateUpdateAdmit(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		rec := &recorder{}
		svc := Service{Store: st, Emit: rec}
		n := NewTenant{ID: "acme", Name: " Acme ", TimeZone: "Asia/Shanghai", Admin: NewAdmin{Username: "alice", Password: "long-enough-1", Platform: true}}
		ten, admin, err := svc.Create(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if ten.Name != "Acme" || admin.Nickname != "alice" || admin.Roles != "admin,superadmin" || admin.Orgi != "acme" {
			t.Fatalf("created %+v %+v", ten, admin)
		}
		for _, c := range []struct {
			edit func(*NewTenant)
			want string
		}{
			{func(n *NewTenant) { n.Admin.Username = "bob" }, `tenant id "acme" is taken`},
			{func(n *NewTenant) { n.ID = "other" }, `username "alice" is taken`},
		} {
			m := n
			c.edit(&m)
			_, _, err := svc.Create(ctx, m)
			if pe := protocol.AsError(err); pe.Code != protocol.CodeConflict || !strings.Contains(pe.Message, c.want) {
				t.Errorf("want conflict %q, got %v", c.want, err)
			}
		}
		if _, err := Admit(ctx, st, "acme"); err != nil {
			t.Fatal(err)
		}
		if _, err := Admit(ctx, st, "no-row"); err != nil {
			t.Fatalf("a tenant without a row: %v", err)
		}

		_, hash := identity.NewToken()
		if err := st.CreateToken(ctx, store.Token{Hash: hash, AgentID: admin.ID, ExpiresAt: time.Now().Add(time.Hour), CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		name, tz := "Acme Renamed", "Europe/Berlin"
		if ten, err = svc.Update(ctx, "acme", Change{Name: &name, TimeZone: &tz}); err != nil || ten.Name != name || ten.TimeZone != tz {
			t.Fatalf("rename: %+v %v", ten, err)
		}
		if len(rec.got) != 0 {
			t.Fatalf("a rename closed sockets: %+v", rec.got)
		}
		off := true
		if ten, err = svc.Update(ctx, "acme", Change{Disabled: &off}); err != nil || !ten.Disabled {
			t.Fatalf("disable: %+v %v", ten, err)
		}
		if _, err := Admit(ctx, st, "acme"); !errors.Is(err, protocol.ErrTenantDisabled) {
			t.Fatalf("admit a disabled tenant: %v", err)
		}
		if _, err := st.GetToken(ctx, hash); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("token survived: %v", err)
		}
		room := protocol.TenantRoom("acme")
		want := []emitted{{protocol.NamespaceAgent, room, protocol.EventLeave}, {protocol.NamespaceUser, room, protocol.EventRefused}}
		if len(rec.got) != 2 || rec.got[0] != want[0] || rec.got[1] != want[1] {
			t.Fatalf("emitted %+v, want %+v", rec.got, want)
		}
		got, _ := st.GetTenant(ctx, "acme")
		if got.Name != name || got.TimeZone != tz || !got.Disabled {
			t.Fatalf("stored %+v", got)
		}

		bad := "Nowhere/City"
		if _, err := svc.Update(ctx, "acme", Change{TimeZone: &bad}); protocol.AsError(err).Code != protocol.CodeBadRequest {
			t.Fatalf("bad time zone: %v", err)
		}
		if _, err := svc.Update(ctx, "nope", Change{Name: &name}); protocol.AsError(err).Code != protocol.CodeNotFound {
			t.Fatalf("unknown tenant: %v", err)
		}
		if _, err := (Service{Store: st}).Update(ctx, "acme", Change{Disabled: &off}); !errors.Is(err, ErrSocketsLeftOpen) {
			t.Fatalf("no emitter: %v", err)
		}
	})
}
