package identity

import (
	"errors"
	"strings"
	"testing"
)

func TestValidatePasswordNamesTheRuleBroken(t *testing.T) {
	for _, tc := range []struct {
		password, username, want string
	}{
		{"abc123", "bob", "at least 8 characters"},
		{"密码密码密码1", "bob", "at least 8 characters"}, // counted in characters: 19 bytes
		{"密码密码密码12", "bob", ""},
		{strings.Repeat("a1", 37), "bob", "at most 72 bytes"},
		{"abcdefghij", "bob", "a letter and a digit"},
		{"1234567890", "bob", "a letter and a digit"},
		{"alice2024", "alice2024", "username"},
		{"ALICE-2024x", "alice", "username"},
		{"Password123", "bob", "too common"},
		{"WoAiNi1314", "bob", "too common"},
		{"e2e-demo-pass-0123", "admin", ""},
		{"tab1e-spoon", "ab", ""}, // a short name inside is no weakness
		{"correct-horse-7", "agent", ""},
	} {
		err := ValidatePassword(tc.password, tc.username)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q for %q: %v, want accepted", tc.password, tc.username, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrWeakPassword)):
			t.Errorf("%q for %q: %v, want a weak password error about %q", tc.password, tc.username, err, tc.want)
		}
	}
}

func TestGeneratedPasswordsPassAndDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p := GeneratePassword("a2")
		if err := ValidatePassword(p, "a2"); err != nil {
			t.Fatalf("generated %q: %v", p, err)
		}
		if len(p) != 16 || strings.ContainsAny(p, "0O1lI") {
			t.Fatalf("generated %q: want 16 characters without look-alikes", p)
		}
		if seen[p] {
			t.Fatalf("generated %q twice", p)
		}
		seen[p] = true
	}
}
