package tenancy

import (
	"strings"
	"testing"

	"github.com/kefu-im/kefu/pkg/protocol"
)

func TestRules(t *testing.T) {
	for _, c := range []struct {
		name  string
		check func(string) error
		good  []string
		bad   []string
	}{
		{"id", ValidateID, []string{"a", "acme", "0day", "acme_cn-2", strings.Repeat("a", 32)},
			[]string{"", "Acme", "-acme", "_acme", "ac me", "acme!", "租户", strings.Repeat("a", 33)}},
		{"name", ValidateName, []string{"A", "Acme Ltd", "优客服", strings.Repeat("名", 128)},
			[]string{"", "   ", strings.Repeat("名", 129)}},
		{"time zone", ValidateTimeZone, []string{"UTC", "Asia/Shanghai", "America/New_York", "Europe/Berlin"},
			[]string{"", "Local", "Mars/Olympus", "asia/shanghai ", "../etc/passwd"}},
		{"username", ValidateUsername, []string{"alice", "a.b@c-d_e", strings.Repeat("u", 64)},
			[]string{"", "a b", "ali:ce", strings.Repeat("u", 65), "deleted-bob", "Deleted-x"}},
		{"password", func(p string) error { return ValidatePassword(p, "alice") }, []string{"long-enough-1", strings.Repeat("p", 71) + "1"},
			[]string{"", "short-1", "no digits here", "alice-2024", "password1", strings.Repeat("p", 72) + "1"}},
	} {
		for _, v := range c.good {
			if err := c.check(v); err != nil {
				t.Errorf("%s %q refused: %v", c.name, v, err)
			}
		}
		for _, v := range c.bad {
			err := c.check(v)
			if err == nil {
				t.Errorf("%s %q accepted", c.name, v)
			} else if pe := protocol.AsError(err); pe.Code != protocol.CodeBadRequest {
				t.Errorf("%s %q: code %s, want bad_request", c.name, v, pe.Code)
			}
		}
	}
}

func TestNewTenantValidate(t *testing.T) {
	ok := NewTenant{ID: "acme", Name: "Acme", TimeZone: "UTC", Admin: NewAdmin{Username: "alice", Password: "long-enough-1"}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for want, edit := range map[string]func(*NewTenant){
		"tenant id":      func(n *NewTenant) { n.ID = "A" },
		"tenant name":    func(n *NewTenant) { n.Name = "" },
		"time zone":      func(n *NewTenant) { n.TimeZone = "Nowhere/City" },
		"username":       func(n *NewTenant) { n.Admin.Username = "" },
		"password":       func(n *NewTenant) { n.Admin.Password = "short" },
		"admin nickname": func(n *NewTenant) { n.Admin.Nickname = strings.Repeat("n", 65) },
	} {
		n := ok
		edit(&n)
		if err := n.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
}
