package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/auth/throttle"
	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/store/storetest"
)

func newService(t *testing.T) (*Service, *store.Store, *time.Time) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	st := storetest.SQLiteAt(t, func() time.Time { return now })
	hash, _ := identity.HashPassword("pw1234")
	if err := st.CreateAgent(ctx, &store.Agent{Orgi: "o", Username: "amy", PasswordHash: hash, Nickname: "Amy", Roles: "agent,supervisor"}, nil); err != nil {
		t.Fatal(err)
	}
	svc, err := New(st, time.Hour, throttle.Policy{})
	if err != nil {
		t.Fatal(err)
	}
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
	tok, agent, err := svc.Login(ctx, "amy", "pw1234", Client{})
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
	if _, _, err := svc.Login(ctx, "amy", "nope", Client{}); code(err) != protocol.CodeUnauthorized {
		t.Fatalf("wrong password: %v", err)
	}
	if _, _, err := svc.Login(ctx, "bob", "pw1234", Client{}); code(err) != protocol.CodeUnauthorized {
		t.Fatalf("unknown user: %v", err)
	}
	for _, tok := range []string{"", "forged", identity.HashToken("x")} {
		if _, err := svc.Authenticate(ctx, tok); code(err) != protocol.CodeUnauthorized {
			t.Fatalf("token %q: %v", tok, err)
		}
	}
	tok, _, _ := svc.Login(ctx, "amy", "pw1234", Client{})
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
	tok, _, _ = svc.Login(ctx, "amy", "pw1234", Client{})
	a, _ := st.GetAgentByUsername(ctx, "amy")
	a.Disabled = true
	if err := st.UpdateAgent(ctx, &a, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, tok); code(err) != protocol.CodeUnauthorized {
		t.Fatalf("disabled agent's token: %v", err)
	}
	if _, _, err := svc.Login(ctx, "amy", "pw1234", Client{}); code(err) != protocol.CodeForbidden {
		t.Fatalf("disabled agent's login: %v", err)
	}
}

func TestLockout(t *testing.T) {
	svc, st, now := newService(t)
	ctx := context.Background()
	from := Client{IP: "192.0.2.7", UserAgent: "test-browser/1.0"}
	for i := range 4 {
		if _, _, err := svc.Login(ctx, "amy", "nope", from); code(err) != protocol.CodeUnauthorized {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	// The fifth failure locks the account: the answer says so, and the
	// tenant's audit log has it.
	_, _, err := svc.Login(ctx, "amy", "nope", from)
	l, ok := AsLocked(err)
	if !ok || code(err) != protocol.CodeLocked || !l.Until.Equal(now.Add(15*time.Minute)) || l.RetryAfter(*now) != 900 {
		t.Fatalf("fifth failure: %v", err)
	}
	page, err := st.ListAudit(ctx, store.AuditQuery{Orgi: "o"})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Action != "auth.lockout" || page.Entries[0].ActorName != "amy" || page.Entries[0].IP != from.IP {
		t.Fatalf("audit after lockout: %+v (%v)", page.Entries, err)
	}
	// The right password is refused while locked, from anywhere.
	*now = now.Add(10 * time.Minute)
	if _, _, err := svc.Login(ctx, "AMY", "pw1234", Client{IP: "198.51.100.1"}); code(err) != protocol.CodeLocked {
		t.Fatalf("right password while locked: %v", err)
	}
	// An unknown username answers exactly as a known one, locked included.
	var last error
	for range 5 {
		_, _, last = svc.Login(ctx, "nobody", "nope", Client{IP: "198.51.100.2"})
	}
	if code(last) != protocol.CodeLocked || !strings.Contains(last.Error(), "for this account") {
		t.Fatalf("unknown user after five failures: %v", last)
	}
	// An admin unlocks: the right password works, and the login keeps
	// where it came from.
	if err := svc.Unlock(ctx, "amy"); err != nil {
		t.Fatal(err)
	}
	tok, agent, err := svc.Login(ctx, "amy", "pw1234", from)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	logins, err := svc.Logins(ctx, agent.ID)
	if err != nil || len(logins) != 1 || logins[0].IP != from.IP || logins[0].UserAgent != from.UserAgent || logins[0].Hash != identity.HashToken(tok) {
		t.Fatalf("logins: %+v (%v)", logins, err)
	}
	if _, err := svc.Revoke(ctx, agent.ID, "0000000000000000"); code(err) != protocol.CodeNotFound {
		t.Fatalf("revoke of an unknown login: %v", err)
	}
	if h, err := svc.Revoke(ctx, agent.ID, LoginID(logins[0].Hash)); err != nil || h != logins[0].Hash {
		t.Fatalf("revoke: %q %v", h, err)
	}
	if _, err := svc.Authenticate(ctx, tok); code(err) != protocol.CodeUnauthorized {
		t.Fatalf("revoked token: %v", err)
	}
}
