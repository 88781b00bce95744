// Command mkfixture writes the geoip package's test databases from
// testdata/fixture.json: test-city.mmdb in the GeoLite2-City layout and
// test-country.mmdb in the GeoIP2-Country one (the country part only).
//
// It is a module of its own so that mmdbwriter, which only tests need, stays
// out of Kefu's go.mod. Run it with `go generate ./pkg/geoip`.
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// entry is one network of fixture.json; the geoip package's tests read the
// same file to check the committed databases against it.
type entry struct {
	Network     string `json:"network"`
	CountryCode string `json:"countrycode"`
	Country     string `json:"country"`
	Region      string `json:"region"`
	City        string `json:"city"`
}

// buildEpoch is fixed so that regenerating unchanged data changes no byte.
const buildEpoch = 1767225600 // 2026-01-01

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkfixture TESTDATA_DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "mkfixture:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "fixture.json"))
	if err != nil {
		return err
	}
	var entries []entry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return fmt.Errorf("fixture.json: %w", err)
	}
	if err := write(filepath.Join(dir, "test-city.mmdb"), "GeoLite2-City", entries, cityRecord); err != nil {
		return err
	}
	return write(filepath.Join(dir, "test-country.mmdb"), "GeoIP2-Country", entries, countryRecord)
}

func write(path, dbType string, entries []entry, record func(entry) mmdbtype.Map) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: dbType,
		Description:  map[string]string{"en": "Kefu test data: not real locations"},
		Languages:    []string{"en"},
		BuildEpoch:   buildEpoch,
		// Loopback must resolve so that tests whose visitors connect from
		// 127.0.0.1 see a location.
		IncludeReservedNetworks: true,
	})
	if err != nil {
		return err
	}
	for _, e := range entries {
		_, network, err := net.ParseCIDR(e.Network)
		if err != nil {
			return fmt.Errorf("fixture.json: %w", err)
		}
		if err := tree.Insert(network, record(e)); err != nil {
			return fmt.Errorf("%s: %w", e.Network, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func names(en string) mmdbtype.Map {
	return mmdbtype.Map{"en": mmdbtype.String(en)}
}

func countryRecord(e entry) mmdbtype.Map {
	return mmdbtype.Map{
		"country": mmdbtype.Map{"iso_code": mmdbtype.String(e.CountryCode), "names": names(e.Country)},
	}
}

func cityRecord(e entry) mmdbtype.Map {
	r := countryRecord(e)
	if e.Region != "" {
		r["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{"names": names(e.Region)}}
	}
	if e.City != "" {
		r["city"] = mmdbtype.Map{"names": names(e.City)}
	}
	return r
}
