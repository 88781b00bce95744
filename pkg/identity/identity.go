// Package identity issues and checks the credentials clients present:
// signed visitor identities, opaque agent tokens and password hashes.
package identity

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// MinSecretLen is the shortest visitor signing secret accepted.
const MinSecretLen = 32

// Signer signs visitor identities: sign = hex(HMAC-SHA256(secret, appid|userid)).
// The appid is inside the MAC, so an identity of one site is worthless on another.
type Signer struct {
	secret []byte
}

// NewSigner returns a Signer for secret.
func NewSigner(secret string) (*Signer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("visitor signing secret must be at least %d characters", MinSecretLen)
	}
	return &Signer{secret: []byte(secret)}, nil
}

// Sign returns the signature of userid on appid.
func (s *Signer) Sign(appID, userID string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(appID))
	m.Write([]byte{'|'})
	m.Write([]byte(userID))
	return hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether sign is userid's signature on appid, in constant time.
func (s *Signer) Verify(appID, userID, sign string) bool {
	if userID == "" || sign == "" {
		return false
	}
	want := s.Sign(appID, userID)
	return hmac.Equal([]byte(want), []byte(sign))
}

// NewVisitorID returns a fresh, unguessable visitor id.
func NewVisitorID() string { return randomHex(16) }

// NewSecret returns a random signing secret for single-binary mode.
func NewSecret() string { return randomHex(32) }

// NewToken returns an opaque 256-bit bearer token and the hash to store.
func NewToken() (token, hash string) {
	b := make([]byte, 32)
	mustRead(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is the stored form of a bearer token: a leaked table of hashes
// cannot be replayed as tokens.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ErrBadPassword is returned by CheckPassword on a mismatch.
var ErrBadPassword = errors.New("password mismatch")

// HashPassword hashes a password with bcrypt.
func HashPassword(password string) (string, error) {
	if len(password) > 72 {
		return "", errors.New("password longer than 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// CheckPassword compares a password with its hash.
func CheckPassword(hash, password string) error {
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)); err != nil {
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return ErrBadPassword
		}
		return fmt.Errorf("check password: %w", err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	mustRead(b)
	return hex.EncodeToString(b)
}

// mustRead panics only if the kernel's random source fails, after which
// nothing this package issues could be trusted anyway.
func mustRead(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
}
