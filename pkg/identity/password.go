package identity

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Password rules, checked when a password is set (never against stored
// hashes: people keep their passwords until they change them).
const (
	MinPasswordLen   = 8  // characters
	MaxPasswordBytes = 72 // bcrypt ignores what comes after
	// minNameInPassword is the shortest username a password may not contain.
	minNameInPassword = 4
)

// ErrWeakPassword is what every rule's error wraps.
var ErrWeakPassword = errors.New("weak password")

// weakPassword is a broken rule, worded for the person choosing the
// password.
type weakPassword struct{ rule string }

func (e weakPassword) Error() string        { return e.rule }
func (e weakPassword) Is(target error) bool { return target == ErrWeakPassword }

// commonPasswords are passwords that satisfy the other rules yet are among
// the first any attacker tries (English and Chinese lists alike).
var commonPasswords = map[string]bool{
	"password1": true, "password123": true, "passw0rd": true, "p@ssw0rd": true, "qwerty123": true,
	"qwerty12": true, "abc12345": true, "abcd1234": true, "a1b2c3d4": true, "1q2w3e4r": true,
	"1qaz2wsx": true, "zaq12wsx": true, "qwe12345": true, "qwe123456": true, "asd12345": true,
	"aa123456": true, "a12345678": true, "a123456789": true, "abc123456": true, "admin123": true,
	"admin888": true, "admin1234": true, "root1234": true, "test1234": true, "welcome1": true,
	"letmein1": true, "iloveyou1": true, "woaini1314": true, "woaini520": true, "changeme1": true,
	"trustno1": true, "sunshine1": true, "monkey123": true, "dragon123": true, "football1": true,
	"baseball1": true, "superman1": true, "123456abc": true, "12345abc": true, "123qweasd": true,
	"1234qwer": true, "qwer1234": true, "zxcv1234": true, "kefu1234": true, "kefu123456": true,
}

// ValidatePassword reports the first rule password breaks for the account
// username, or nil: at least MinPasswordLen characters and at most
// MaxPasswordBytes bytes, a letter and a digit, not the username nor
// containing it (if it has 4 characters or more), and not one of the most common passwords.
func ValidatePassword(password, username string) error {
	if utf8.RuneCountInString(password) < MinPasswordLen {
		return weakPassword{"the password must be at least 8 characters"}
	}
	if len(password) > MaxPasswordBytes {
		return weakPassword{"the password must be at most 72 bytes"}
	}
	if !strings.ContainsFunc(password, unicode.IsLetter) || !strings.ContainsFunc(password, unicode.IsDigit) {
		return weakPassword{"the password must contain a letter and a digit"}
	}
	lower := strings.ToLower(password)
	// A name of a few letters turns up inside many good passwords.
	if name := strings.ToLower(username); name != "" && (lower == name || (utf8.RuneCountInString(name) >= minNameInPassword && strings.Contains(lower, name))) {
		return weakPassword{"the password must not be or contain the username"}
	}
	if commonPasswords[lower] {
		return weakPassword{"the password is too common"}
	}
	return nil
}

// passwordAlphabet leaves out look-alikes (0 O o, 1 l I): a generated
// password is read off a screen and typed.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword returns a random 16-character password (about 93 bits)
// that passes ValidatePassword for username.
func GeneratePassword(username string) string {
	// Bytes at or above the largest multiple of the alphabet's size are
	// dropped so that every character is equally likely.
	limit := 256 - 256%len(passwordAlphabet)
	for {
		p := make([]byte, 0, 16)
		b := make([]byte, 32)
		for len(p) < cap(p) {
			mustRead(b)
			for _, c := range b {
				if int(c) < limit && len(p) < cap(p) {
					p = append(p, passwordAlphabet[int(c)%len(passwordAlphabet)])
				}
			}
		}
		if ValidatePassword(string(p), username) == nil {
			return string(p)
		}
	}
}
