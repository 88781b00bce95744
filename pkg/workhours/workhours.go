// Package workhours decides when a tenant or a skill group is open.
//
// A spec is a list of "HH:MM~HH:MM" ranges separated by commas (UCKeFu
// workinghours). A range whose end is before its start runs past midnight
// and belongs to the day it starts on: Friday's "22:00~02:00" is open until
// Saturday 02:00, whatever Saturday's own hours. "24:00" may end a range, so
// "00:00~24:00" is the whole day.
//
// The plain spec applies to every day; a Schedule refines it with hours per
// weekday and holidays. Everything is read on the tenant's wall clock, so a
// zone with daylight saving opens at 09:00 local time all year.
package workhours

import (
	"fmt"
	"strings"
	"time"

	// Time zones are a tenant's setting: they must load on hosts and
	// containers without a zone database.
	_ "time/tzdata"
)

// MaxSpec bounds one spec, in bytes (the working_hours column).
const MaxSpec = 255

const day = 24 * 60 // minutes

// span is one range in minutes since the start of its day; to passes day
// when the range runs past midnight.
type span struct{ from, to int }

// Validate reports a malformed plain spec; "" (always open) is valid.
func Validate(spec string) error {
	_, err := parseSpec(spec, true)
	return err
}

// parseSpec reads spec; "" is the whole day when empty means always (the
// plain spec), and no hours at all otherwise (a closed day in a Schedule).
func parseSpec(spec string, emptyIsAlways bool) ([]span, error) {
	if len(spec) > MaxSpec {
		return nil, fmt.Errorf("working hours are longer than %d characters", MaxSpec)
	}
	if strings.TrimSpace(spec) == "" {
		if emptyIsAlways {
			return []span{{0, day}}, nil
		}
		return []span{}, nil
	}
	var out []span
	for r := range strings.SplitSeq(spec, ",") {
		r = strings.TrimSpace(r)
		from, to, ok := strings.Cut(r, "~")
		if !ok {
			return nil, fmt.Errorf("%q: want HH:MM~HH:MM", r)
		}
		a, err := clockMinute(from, false)
		if err != nil {
			return nil, err
		}
		z, err := clockMinute(to, true)
		if err != nil {
			return nil, err
		}
		switch {
		case a == z:
			return nil, fmt.Errorf("%q: a range must not start and end at the same time", r)
		case z < a:
			z += day
		}
		out = append(out, span{a, z})
	}
	return out, nil
}

func clockMinute(s string, end bool) (int, error) {
	s = strings.TrimSpace(s)
	if end && s == "24:00" {
		return day, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day HH:MM (00:00 to 23:59; 24:00 may end a range)", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Zone loads an IANA time zone name; "" is UTC. "Local" is refused: it
// would mean whatever the server runs in.
func Zone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("%q is not an IANA time zone name (e.g. Asia/Shanghai)", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone name (e.g. Asia/Shanghai)", name)
	}
	return loc, nil
}

// ZoneOrUTC is Zone for a stored setting: a zone that no longer loads must
// not stop the service, so it falls back to UTC.
func ZoneOrUTC(name string) *time.Location {
	loc, err := Zone(name)
	if err != nil {
		return time.UTC
	}
	return loc
}
