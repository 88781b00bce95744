package workhours

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// Weekdays are the keys of Schedule.Days, indexed by time.Weekday.
var Weekdays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Limits of a schedule.
const (
	MaxHolidays    = 366
	MaxHolidayName = 64
)

// Schedule refines the plain spec. In a Schedule "" always means closed:
// a weekday absent from Days keeps the plain spec, a weekday present with
// "" is closed, and a holiday with "" is closed all day.
type Schedule struct {
	Days     map[string]string `json:"days,omitempty"` // Weekdays key → spec
	Holidays []Holiday         `json:"holidays,omitempty"`
}

// Holiday is a date with other hours than its weekday's.
type Holiday struct {
	Date  string `json:"date"`  // YYYY-MM-DD on the tenant's calendar
	Hours string `json:"hours"` // spec; "" closed all day
	Name  string `json:"name,omitempty"`
}

// IsZero reports a schedule that refines nothing.
func (s Schedule) IsZero() bool { return len(s.Days) == 0 && len(s.Holidays) == 0 }

// Encode is the stored form of s: JSON, or "" when it refines nothing.
func (s Schedule) Encode() string {
	if s.IsZero() {
		return ""
	}
	b, _ := json.Marshal(s) // strings and slices of them always marshal
	return string(b)
}

// DecodeSchedule reads a stored schedule; "" is none.
func DecodeSchedule(stored string) (Schedule, error) {
	var s Schedule
	if stored == "" {
		return s, nil
	}
	if err := json.Unmarshal([]byte(stored), &s); err != nil {
		return Schedule{}, fmt.Errorf("schedule: %w", err)
	}
	return s, nil
}

// Hours are the compiled plain spec and schedule: when something is open.
type Hours struct {
	every    []span
	days     [7][]span // nil: every
	holidays map[string][]span
}

// Compile validates spec and schedule together and compiles them. Its
// errors name the field: "workinghours", "days.sat", "holidays[2].date".
func Compile(spec string, s Schedule) (Hours, error) {
	every, err := parseSpec(spec, true)
	if err != nil {
		return Hours{}, fmt.Errorf("workinghours: %w", err)
	}
	h := Hours{every: every, holidays: make(map[string][]span, len(s.Holidays))}
	for key, v := range s.Days {
		i := slices.Index(Weekdays[:], key)
		if i < 0 {
			return Hours{}, fmt.Errorf("days: %q is not a weekday (%v)", key, Weekdays)
		}
		if h.days[i], err = parseSpec(v, false); err != nil {
			return Hours{}, fmt.Errorf("days.%s: %w", key, err)
		}
	}
	if len(s.Holidays) > MaxHolidays {
		return Hours{}, fmt.Errorf("holidays: at most %d", MaxHolidays)
	}
	for i, hd := range s.Holidays {
		d, err := time.Parse(time.DateOnly, hd.Date)
		if err != nil || d.Format(time.DateOnly) != hd.Date {
			return Hours{}, fmt.Errorf("holidays[%d].date: %q is not a date YYYY-MM-DD", i, hd.Date)
		}
		if _, dup := h.holidays[hd.Date]; dup {
			return Hours{}, fmt.Errorf("holidays[%d].date: %s is listed twice", i, hd.Date)
		}
		if h.holidays[hd.Date], err = parseSpec(hd.Hours, false); err != nil {
			return Hours{}, fmt.Errorf("holidays[%d].hours: %w", i, err)
		}
		if utf8.RuneCountInString(hd.Name) > MaxHolidayName {
			return Hours{}, fmt.Errorf("holidays[%d].name: at most %d characters", i, MaxHolidayName)
		}
	}
	return h, nil
}

// Always is open at every moment (no working hours set).
var Always = Hours{every: []span{{0, day}}}

// spans are the ranges starting on the calendar day of midnight: the
// holiday's, else the weekday's, else the plain spec's.
func (h Hours) spans(midnight time.Time) []span {
	if s, ok := h.holidays[midnight.Format(time.DateOnly)]; ok {
		return s
	}
	if s := h.days[midnight.Weekday()]; s != nil {
		return s
	}
	return h.every
}

// Open reports whether at falls in the hours on loc's wall clock.
func (h Hours) Open(at time.Time, loc *time.Location) bool {
	local := at.In(loc)
	y, m, d := local.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, loc)
	minute := local.Hour()*60 + local.Minute()
	for _, s := range h.spans(today) {
		if s.from <= minute && minute < s.to {
			return true
		}
	}
	for _, s := range h.spans(today.AddDate(0, 0, -1)) {
		if minute+day < s.to { // yesterday's range running past midnight
			return true
		}
	}
	return false
}

// horizon bounds the search for the next change.
const horizon = 21 // days

// Next is the first moment after at when Open changes, if any within three
// weeks. Changes happen only at range ends, so only those are tried.
func (h Hours) Next(at time.Time, loc *time.Location) (time.Time, bool) {
	now := h.Open(at, loc)
	local := at.In(loc)
	y, m, d := local.Date()
	var edges []time.Time
	for i := -1; i <= horizon; i++ {
		for _, s := range h.spans(time.Date(y, m, d+i, 0, 0, 0, 0, loc)) {
			for _, minute := range []int{s.from, s.to} {
				if t := time.Date(y, m, d+i, 0, minute, 0, 0, loc); t.After(at) {
					edges = append(edges, t)
				}
			}
		}
	}
	slices.SortFunc(edges, time.Time.Compare)
	for _, t := range edges {
		if h.Open(t, loc) != now {
			return t, true
		}
	}
	return time.Time{}, false
}
