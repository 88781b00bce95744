package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/store/storetest"
)

func newService(t *testing.T) (*Service, *store.Store, *time.Time) {
	t.Helper()
	ctx := context.Background()
	st := storetest.SQLite(t)
	hash, _ := identity.HashPassword("pw1234")
	if err := st.CreateAgent(ctx, &store.Agent{Orgi: "o", Username: "amy", PasswordHash: hash, Nickname: "Amy", Roles: "agent,supervisor"}, nil); err != nil {
		t.Fatal(err)
	}
	svc, err := New(st, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	svc.now = func() time.Time { return now }
	return svc, st, &now
}

func code(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestSlidingExpiry(t *testing.T) {
	svc, _, now := newService(t)
	ctx := context.Background()
	tok, agent, err := svc.Login(ctx, "amy", "pw1234")
	if err != nil || agent.Username != "amy" {
		t.Fatalf("login: %v", err)
	}
	// Used every 50 minutes, a one-hour token stays alive.
	for range 4 {
		*now = now.Add(50 * time.Minute)
		p, err := svc.Authenticate(ctx, tok)
		if err != nil {
			t.Fatalf("token expired while in use: %v", err)
		}
		if !p.Has(protocol.RoleSupervisor) || p.Has(protocol.RoleAdmin) {
			t.Fatalf("roles: %v", p.Roles())
		}
	}
	// Left alone for an hour, it expires.
	*now = now.Add(time.Hour)
	if _, err := svc.Authenticate(ctx, tok); code(err) != protocol.CodeUnauthorized {
		t.Fatalf("expired token: %v", err)
	}
}

func TestBadCredentialsAndLogout(t *testing.T) {
	svc, st, _ := newService(t)
	ctx := context.Background()
	if _, _, err := svc.Login(ctx, "amy", "nope"); code(err) != protocol.CodeUnauthorized {
		t.Fatalf("wrong password: %v", err)
	}
	if _, _, err := svc.Login(ctx, "bob", "pw1234"); code(err) != protocol.CodeUnauthorized {
		t.Fatalf("unknown user: %v", err)
	}
	for _, tok := range []string{"", "forged", identity.HashToken("x")} {
		if _, err := svc.Authenticate(ctx, tok); code(err) != protocol.CodeUnauthorized {
			t.Fatalf("token %q: %v", tok, err)
		}
	}
	tok, _, _ := svc.Login(ctx, "amy", "pw1234")
	p, err := svc.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Logout(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, tok); code(err) != protocol.CodeUnauthorized {
		t.Fatalf("token after logout: %v", err)
	}
	// Disabling an agent ends its logins.
	tok, _, _ = svc.Login(ctx, "amy", "pw1234")
	a, _ := st.GetAgentByUsername(ctx, "amy")
	a.Disabled = true
	if err := st.UpdateAgent(ctx, &a, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, tok); code(err) != protocol.CodeUnauthorized {
		t.Fatalf("disabled agent's token: %v", err)
	}
	if _, _, err := svc.Login(ctx, "amy", "pw1234"); code(err) != protocol.CodeForbidden {
		t.Fatalf("disabled agent's login: %v", err)
	}
}
