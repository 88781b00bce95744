// Package tenancy holds the rules of an installation's tenants, shared by
// the `gateway admin` command and the REST API: what a tenant id, name and
// time zone may be, what a first admin needs, creating a tenant with its
// admin, and disabling a tenant (its logins and sockets end everywhere).
package tenancy

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/protocol"
)

// Limits of the fields (the store's column sizes). Passwords follow
// identity.ValidatePassword, as everywhere a password is set.
const (
	MaxNameLen     = 128 // characters
	MaxNicknameLen = 64  // characters
)

// idPattern keeps tenant ids safe in room names, URLs and log lines, and
// within the 32-character orgi columns.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// usernamePattern is the rule for every staff username (one namespace for
// the whole installation: a login names no tenant).
var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)

// ValidateID checks a new tenant's id.
func ValidateID(id string) error {
	if !idPattern.MatchString(id) {
		return protocol.Errorf(protocol.CodeBadRequest, "tenant id must be 1 to 32 of a-z 0-9 _ -, starting with a letter or digit")
	}
	return nil
}

// ValidateName checks a tenant's display name (surrounding spaces are not
// part of it: callers store strings.TrimSpace(name)).
func ValidateName(name string) error {
	if n := utf8.RuneCountInString(strings.TrimSpace(name)); n == 0 || n > MaxNameLen {
		return protocol.Errorf(protocol.CodeBadRequest, "tenant name must be 1 to %d characters", MaxNameLen)
	}
	return nil
}

// ValidateTimeZone checks an IANA time zone name such as Asia/Shanghai.
// The binaries embed the zone database, so this does not depend on the
// host's.
func ValidateTimeZone(tz string) error {
	// LoadLocation takes "" and "Local" for the host's zone, which means
	// nothing to a tenant.
	if tz == "" || tz == "Local" {
		return protocol.Errorf(protocol.CodeBadRequest, "time zone is required (an IANA name such as Asia/Shanghai or UTC)")
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return protocol.Errorf(protocol.CodeBadRequest, "unknown time zone %q (use an IANA name such as Asia/Shanghai or UTC)", tz)
	}
	return nil
}

// ValidateUsername checks a new staff username. "deleted-…" names are
// what deleting a user renames it to, so that its name is free again.
func ValidateUsername(u string) error {
	if !usernamePattern.MatchString(u) {
		return protocol.Errorf(protocol.CodeBadRequest, "username must be 1 to 64 of A-Z a-z 0-9 _ . @ -")
	}
	if strings.HasPrefix(strings.ToLower(u), "deleted-") {
		return protocol.Errorf(protocol.CodeBadRequest, "usernames starting with deleted- are reserved for deleted users")
	}
	return nil
}

// ValidatePassword applies identity.ValidatePassword (the installation's
// password rules) as a `bad_request` naming the broken rule.
func ValidatePassword(password, username string) error {
	if err := identity.ValidatePassword(password, username); err != nil {
		return protocol.Errorf(protocol.CodeBadRequest, "%s", err.Error())
	}
	return nil
}
