package geoip

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureEntry is one network of testdata/fixture.json, the source that
// internal/mkfixture builds the test databases from.
type fixtureEntry struct {
	Network string `json:"network"`
	Location
}

func open(t *testing.T, name string) *DB {
	t.Helper()
	db, err := Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The committed databases must say what fixture.json says, so that editing
// one without regenerating (go generate ./pkg/geoip) fails here.
func TestFixtureMatchesItsSource(t *testing.T) {
	raw, err := os.ReadFile("testdata/fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	var entries []fixtureEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		t.Fatal(err)
	}
	city, country := open(t, "test-city.mmdb"), open(t, "test-country.mmdb")
	if city.Type() != "GeoLite2-City" || country.Type() != "GeoIP2-Country" {
		t.Fatalf("types: %q, %q", city.Type(), country.Type())
	}
	for _, e := range entries {
		p := netip.MustParsePrefix(e.Network)
		for _, ip := range []netip.Addr{p.Addr(), lastAddr(p)} {
			if got, ok := city.Lookup(ip); !ok || got != e.Location {
				t.Errorf("city %s: %+v, %v; want %+v", ip, got, ok, e.Location)
			}
			want := Location{Country: e.Country, CountryCode: e.CountryCode}
			if got, ok := country.Lookup(ip); !ok || got != want {
				t.Errorf("country %s: %+v, %v; want %+v", ip, got, ok, want)
			}
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestLookup(t *testing.T) {
	db := open(t, "test-city.mmdb")
	london := Location{Country: "United Kingdom", CountryCode: "GB", Region: "England", City: "London"}
	localhost := Location{Country: "Testland", CountryCode: "XT", Region: "Loopback", City: "Localhost"}
	for _, c := range []struct {
		ip   string
		want Location
		ok   bool
	}{
		{"81.2.69.160", london, true},
		{"::ffff:81.2.69.160", london, true}, // IPv4 through a dual-stack listener
		{"127.0.0.1", localhost, true},
		{"::1", localhost, true},
		{"2001:218:1::1", Location{Country: "Japan", CountryCode: "JP"}, true},
		{"81.2.70.1", Location{}, false},
		{"10.1.2.3", Location{}, false},
		{"2001:db8::1", Location{}, false},
	} {
		if got, ok := db.Lookup(netip.MustParseAddr(c.ip)); got != c.want || ok != c.ok {
			t.Errorf("%s: %+v, %v; want %+v, %v", c.ip, got, ok, c.want, c.ok)
		}
	}
	if _, ok := db.Lookup(netip.Addr{}); ok {
		t.Error("the zero address has a location")
	}
	var none *DB
	if _, ok := none.Lookup(netip.MustParseAddr("81.2.69.160")); ok {
		t.Error("no database, yet a location")
	}
}

func TestOpenErrors(t *testing.T) {
	whole, err := os.ReadFile("testdata/test-city.mmdb")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad := map[string][]byte{
		"empty.mmdb":     {},
		"junk.mmdb":      []byte(strings.Repeat("not a database\n", 100)),
		"truncated.mmdb": whole[:len(whole)/2],
	}
	for name, data := range bad {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"missing.mmdb", "empty.mmdb", "junk.mmdb", "truncated.mmdb"} {
		path := filepath.Join(dir, name)
		db, err := Open(path)
		if err == nil {
			db.Close()
			t.Errorf("%s opened", name)
		} else if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: the error does not name the file: %v", name, err)
		}
	}
}
