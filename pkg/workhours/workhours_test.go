package workhours

import (
	"testing"
	"time"
)

func TestWithin(t *testing.T) {
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
	}
	for _, c := range cases {
		if got, err := Within(c.spec, c.t); err != nil || got != c.want {
			t.Errorf("Within(%q, %s) = %v, %v; want %v", c.spec, c.t.Format("15:04"), got, err, c.want)
		}
	}
	for _, bad := range []string{"9-18", "09:00~25:00", "09:00~", "x~y"} {
		if Validate(bad) == nil {
			t.Errorf("Validate(%q) accepted", bad)
		}
	}
}
