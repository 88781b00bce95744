// Package workhours reads working hours settings: a list of "HH:MM~HH:MM"
// ranges separated by commas, in the tenant's time zone (UCKeFu
// workinghours). A range whose end is before its start runs past midnight.
package workhours

import (
	"fmt"
	"strings"
	"time"
)

// Validate reports a malformed spec; "" (always open) is valid.
func Validate(spec string) error {
	_, err := Within(spec, time.Time{})
	return err
}

// Within reports whether local's time of day falls in spec; "" is always.
func Within(spec string, local time.Time) (bool, error) {
	if strings.TrimSpace(spec) == "" {
		return true, nil
	}
	minute := local.Hour()*60 + local.Minute()
	in := false
	for _, r := range strings.Split(spec, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(r), "~")
		if !ok {
			return false, fmt.Errorf("working hours %q: want HH:MM~HH:MM", r)
		}
		a, err := clockMinute(from)
		if err != nil {
			return false, err
		}
		z, err := clockMinute(to)
		if err != nil {
			return false, err
		}
		if (a <= z && minute >= a && minute < z) || (a > z && (minute >= a || minute < z)) {
			in = true
		}
	}
	return in, nil
}

func clockMinute(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("working hours: %q is not HH:MM", strings.TrimSpace(s))
	}
	return t.Hour()*60 + t.Minute(), nil
}
