// Package geoip answers where an IP address is, from a local MaxMind-format
// database (GeoLite2-City, GeoIP2-City or GeoIP2-Country, or another
// database with their record layout).
package geoip

//go:generate go run -C internal/mkfixture . ../../testdata

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Location is where an address is, in English; a Country database gives only
// the country.
type Location struct {
	Country     string `json:"country,omitempty"`
	CountryCode string `json:"countrycode,omitempty"` // ISO 3166-1 alpha-2
	Region      string `json:"region,omitempty"`      // the largest subdivision: state, province
	City        string `json:"city,omitempty"`
}

// DB is an open database. Its methods may be called concurrently, except
// Close.
type DB struct {
	r *maxminddb.Reader
}

// Open opens the database at path. A file that is missing or not a MaxMind
// database is an error.
func Open(path string) (*DB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip: open %s: %w", path, err)
	}
	return &DB{r: r}, nil
}

// Type is the database's type as its metadata names it, e.g. GeoLite2-City.
func (db *DB) Type() string { return db.r.Metadata.DatabaseType }

// Built is when the database was built: how stale its answers may be.
func (db *DB) Built() time.Time { return db.r.Metadata.BuildTime() }

// Close releases the database.
func (db *DB) Close() error { return db.r.Close() }

type names struct {
	English string `maxminddb:"en"`
}

// record is the part of a GeoIP2 City or Country record we show.
type record struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
		Names   names  `maxminddb:"names"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		Names names `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
	City struct {
		Names names `maxminddb:"names"`
	} `maxminddb:"city"`
}

// Lookup returns where ip is, and false when the database does not know (or
// there is no database: db is nil). A damaged record reads as unknown: the
// location is a nicety, never worth failing a request over.
func (db *DB) Lookup(ip netip.Addr) (Location, bool) {
	if db == nil {
		return Location{}, false
	}
	// An IPv4 client of a dual-stack listener shows as ::ffff:a.b.c.d, which
	// an IPv4-only database refuses.
	var rec record
	if err := db.r.Lookup(ip.Unmap()).Decode(&rec); err != nil {
		return Location{}, false
	}
	loc := Location{
		Country:     rec.Country.Names.English,
		CountryCode: rec.Country.ISOCode,
		City:        rec.City.Names.English,
	}
	if len(rec.Subdivisions) > 0 {
		loc.Region = rec.Subdivisions[0].Names.English
	}
	return loc, loc != Location{}
}
