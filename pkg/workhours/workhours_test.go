package workhours

import (
	"strings"
	"testing"
	"time"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := Zone(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func compile(t *testing.T, spec string, s Schedule) Hours {
	t.Helper()
	h, err := Compile(spec, s)
	if err != nil {
		t.Fatalf("Compile(%q, %+v): %v", spec, s, err)
	}
	return h
}

func TestPlainSpecEveryDay(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 11, 24, h, m, 0, 0, time.UTC) }
	cases := []struct {
		spec string
		t    time.Time
		want bool
	}{
		{"", at(3, 0), true},
		{"09:00~18:00", at(9, 0), true},
		{"09:00~18:00", at(17, 59), true},
		{"09:00~18:00", at(18, 0), false},
		{"09:00~12:00, 13:30~18:00", at(12, 30), false},
		{"09:00~12:00, 13:30~18:00", at(13, 30), true},
		{"22:00~06:00", at(23, 0), true},
		{"22:00~06:00", at(5, 59), true},
		{"22:00~06:00", at(6, 0), false},
		{"00:00~24:00", at(23, 59), true},
		{"18:00~24:00", at(0, 0), false},
	}
	for _, c := range cases {
		if got := compile(t, c.spec, Schedule{}).Open(c.t, time.UTC); got != c.want {
			t.Errorf("%q at %s = %v; want %v", c.spec, c.t.Format("15:04"), got, c.want)
		}
	}
	for _, bad := range []string{"9-18", "09:00~25:00", "09:00~", "x~y", "24:00~06:00", "10:00~10:00", strings.Repeat("09:00~10:00,", 30)} {
		if Validate(bad) == nil {
			t.Errorf("Validate(%q) accepted", bad)
		}
	}
}

func TestShanghaiWallClock(t *testing.T) {
	sh := zone(t, "Asia/Shanghai") // UTC+8 all year
	h := compile(t, "09:00~18:00", Schedule{})
	// 02:30 UTC is 10:30 in Shanghai; 11:00 UTC is 19:00 there.
	if !h.Open(time.Date(2026, 3, 2, 2, 30, 0, 0, time.UTC), sh) {
		t.Error("closed at 10:30 Shanghai")
	}
	if h.Open(time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC), sh) {
		t.Error("open at 19:00 Shanghai")
	}
	// Shanghai's date decides the weekday: Sunday 20:00 UTC is Monday 04:00.
	week := compile(t, "", Schedule{Days: map[string]string{"sun": "", "mon": "03:00~05:00"}})
	if !week.Open(time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC), sh) {
		t.Error("Monday's hours not applied by Shanghai's date")
	}
}

func TestDaylightSavingKeepsLocalHours(t *testing.T) {
	ny := zone(t, "America/New_York")
	h := compile(t, "09:00~17:00", Schedule{})
	winter := time.Date(2026, 1, 12, 14, 30, 0, 0, time.UTC) // 09:30 EST
	summer := time.Date(2026, 7, 13, 13, 30, 0, 0, time.UTC) // 09:30 EDT
	if !h.Open(winter, ny) || !h.Open(summer, ny) {
		t.Error("not open at 09:30 local in winter and summer")
	}
	if h.Open(time.Date(2026, 1, 12, 13, 30, 0, 0, time.UTC), ny) { // 08:30 EST
		t.Error("open at 08:30 EST")
	}
	// The spring change: 2026-03-08 02:00 EST jumps to 03:00 EDT.
	next, ok := compile(t, "03:00~04:00", Schedule{}).Next(time.Date(2026, 3, 8, 6, 0, 0, 0, time.UTC), ny)
	if !ok || !next.Equal(time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("next change across the jump: %v %v", next, ok)
	}
}

func TestRangesPastMidnightBelongToTheirDay(t *testing.T) {
	// Friday night runs into Saturday, which is otherwise closed; Sunday's
	// night hours do not start on Saturday.
	h := compile(t, "", Schedule{Days: map[string]string{"fri": "22:00~02:00", "sat": "", "sun": "23:00~01:00"}})
	cases := []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 3, 6, 23, 0, 0, 0, time.UTC), true},   // Fri 23:00
		{time.Date(2026, 3, 7, 1, 59, 0, 0, time.UTC), true},   // Sat 01:59, Friday's
		{time.Date(2026, 3, 7, 2, 0, 0, 0, time.UTC), false},   // Sat 02:00
		{time.Date(2026, 3, 7, 23, 30, 0, 0, time.UTC), false}, // Sat 23:30
		{time.Date(2026, 3, 8, 0, 30, 0, 0, time.UTC), false},  // Sun 00:30: Saturday was closed
		{time.Date(2026, 3, 8, 23, 30, 0, 0, time.UTC), true},  // Sun 23:30
		{time.Date(2026, 3, 9, 0, 30, 0, 0, time.UTC), true},   // Mon 00:30, Sunday's
		{time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC), true},   // Mon: the plain "" is always
	}
	for _, c := range cases {
		if got := h.Open(c.at, time.UTC); got != c.want {
			t.Errorf("%s = %v; want %v", c.at.Format("Mon 15:04"), got, c.want)
		}
	}
}

func TestHolidaysOverrideWeekdays(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	h := compile(t, "09:00~18:00", Schedule{
		Days: map[string]string{"sat": "10:00~16:00"},
		Holidays: []Holiday{
			{Date: "2026-10-01", Name: "国庆节"},                     // Thursday: closed
			{Date: "2026-10-10", Hours: "13:00~15:00", Name: "x"}, // Saturday: other hours
		},
	})
	local := func(mo time.Month, d, hh, mm int) time.Time { return time.Date(2026, mo, d, hh, mm, 0, 0, sh) }
	cases := []struct {
		at   time.Time
		want bool
	}{
		{local(9, 30, 10, 0), true},  // Wednesday
		{local(10, 1, 10, 0), false}, // the holiday
		{local(10, 2, 10, 0), true},
		{local(10, 3, 11, 0), true},   // Saturday's own hours
		{local(10, 3, 17, 0), false},  // ... end at 16:00
		{local(10, 10, 11, 0), false}, // Saturday holiday: only 13–15
		{local(10, 10, 14, 0), true},
	}
	for _, c := range cases {
		if got := h.Open(c.at, sh); got != c.want {
			t.Errorf("%s = %v; want %v", c.at.Format("Mon 2006-01-02 15:04"), got, c.want)
		}
	}
	next, ok := h.Next(local(9, 30, 18, 30), sh)
	if want := local(10, 2, 9, 0); !ok || !next.Equal(want) {
		t.Errorf("next opening after the eve of the holiday: %v, want %v", next, want)
	}
	if _, ok := Always.Next(local(9, 30, 18, 30), sh); ok {
		t.Error("always open has a next change")
	}
}

func TestCompileNamesTheField(t *testing.T) {
	cases := []struct {
		spec   string
		s      Schedule
		prefix string
	}{
		{"9-18", Schedule{}, "workinghours:"},
		{"", Schedule{Days: map[string]string{"monday": ""}}, "days:"},
		{"", Schedule{Days: map[string]string{"tue": "09:00~"}}, "days.tue:"},
		{"", Schedule{Holidays: []Holiday{{Date: "2026-02-30"}}}, "holidays[0].date:"},
		{"", Schedule{Holidays: []Holiday{{Date: "2026-5-1"}}}, "holidays[0].date:"},
		{"", Schedule{Holidays: []Holiday{{Date: "2026-05-01"}, {Date: "2026-05-01"}}}, "holidays[1].date:"},
		{"", Schedule{Holidays: []Holiday{{Date: "2026-05-01", Hours: "25:00~26:00"}}}, "holidays[0].hours:"},
		{"", Schedule{Holidays: []Holiday{{Date: "2026-05-01", Name: strings.Repeat("节", 65)}}}, "holidays[0].name:"},
	}
	for _, c := range cases {
		_, err := Compile(c.spec, c.s)
		if err == nil || !strings.HasPrefix(err.Error(), c.prefix) {
			t.Errorf("Compile(%q, %+v) = %v; want an error starting %q", c.spec, c.s, err, c.prefix)
		}
	}
}

func TestScheduleStoredForm(t *testing.T) {
	if (Schedule{Days: map[string]string{}}).Encode() != "" {
		t.Error("an empty schedule is stored")
	}
	s := Schedule{Days: map[string]string{"sat": ""}, Holidays: []Holiday{{Date: "2026-10-01", Name: "国庆节"}}}
	back, err := DecodeSchedule(s.Encode())
	if err != nil || back.Days["sat"] != "" || len(back.Days) != 1 || back.Holidays[0] != s.Holidays[0] {
		t.Fatalf("round trip: %+v %v", back, err)
	}
}

func TestZone(t *testing.T) {
	for _, bad := range []string{"Local", "Mars/Olympus", "../etc/passwd"} {
		if _, err := Zone(bad); err == nil {
			t.Errorf("Zone(%q) accepted", bad)
		}
	}
	if loc := ZoneOrUTC("Mars/Olympus"); loc != time.UTC {
		t.Errorf("ZoneOrUTC fell back to %v", loc)
	}
	if loc, err := Zone(""); err != nil || loc != time.UTC {
		t.Errorf("Zone(\"\") = %v, %v", loc, err)
	}
}
