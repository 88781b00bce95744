package identity

import (
	"strings"
	"testing"
)

func TestSignerRoundTripAndIsolation(t *testing.T) {
	s, err := NewSigner(strings.Repeat("k", 32))
	if err != nil {
		t.Fatal(err)
	}
	id := NewVisitorID()
	sign := s.Sign("siteA", id)
	if !s.Verify("siteA", id, sign) {
		t.Fatal("valid signature rejected")
	}
	if s.Verify("siteB", id, sign) {
		t.Fatal("signature of site A accepted on site B")
	}
	if s.Verify("siteA", id+"x", sign) {
		t.Fatal("signature accepted for another userid")
	}
	if s.Verify("siteA", id, "") || s.Verify("siteA", "", sign) {
		t.Fatal("empty credentials accepted")
	}
	forged := []byte(sign)
	forged[0] ^= 1
	if s.Verify("siteA", id, string(forged)) {
		t.Fatal("forged signature accepted")
	}
	other, _ := NewSigner(strings.Repeat("j", 32))
	if other.Verify("siteA", id, sign) {
		t.Fatal("signature from another secret accepted")
	}
	// appid|userid framing: moving the separator must change the MAC.
	if s.Sign("ab", "c") == s.Sign("a", "bc") {
		t.Fatal("ambiguous framing")
	}
}

func TestShortSecretRejected(t *testing.T) {
	if _, err := NewSigner("short"); err == nil {
		t.Fatal("short secret accepted")
	}
}

func TestTokens(t *testing.T) {
	tok, hash := NewToken()
	if len(tok) != 43 {
		t.Fatalf("token length %d, want 43 (256 bits base64url)", len(tok))
	}
	if HashToken(tok) != hash || hash == tok {
		t.Fatal("hash mismatch")
	}
	tok2, _ := NewToken()
	if tok2 == tok {
		t.Fatal("tokens repeat")
	}
}

func TestPasswords(t *testing.T) {
	h, err := HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckPassword(h, "s3cret"); err != nil {
		t.Fatal(err)
	}
	if err := CheckPassword(h, "wrong"); err != ErrBadPassword {
		t.Fatalf("got %v, want ErrBadPassword", err)
	}
	if _, err := HashPassword(strings.Repeat("x", 73)); err == nil {
		t.Fatal("over-long password accepted")
	}
}
