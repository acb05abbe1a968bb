package backfill

import (
	"fmt"
	"strings"
	"time"
)

// Schedule is a daily window in which backfill may run, such as
// "22:00-06:00" (it may wrap past midnight), read in the agent's local
// time. The zero Schedule is always open.
type Schedule struct {
	// from and to are minutes after midnight; set tells a window was given.
	from, to int
	set      bool
}

// ParseSchedule reads "HH:MM-HH:MM" ("" is always open). Both ends must be
// valid times of day and differ.
func ParseSchedule(s string) (Schedule, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Schedule{}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Schedule{}, fmt.Errorf("schedule %q: want HH:MM-HH:MM, such as 22:00-06:00", s)
	}
	from, err := clock(a)
	if err != nil {
		return Schedule{}, fmt.Errorf("schedule %q: start: %w", s, err)
	}
	to, err := clock(b)
	if err != nil {
		return Schedule{}, fmt.Errorf("schedule %q: end: %w", s, err)
	}
	if from == to {
		return Schedule{}, fmt.Errorf("schedule %q: start and end are the same time (leave schedule empty for always)", s)
	}
	return Schedule{from: from, to: to, set: true}, nil
}

// clock reads "HH:MM" (00:00 to 23:59) as minutes after midnight.
func clock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day HH:MM", strings.TrimSpace(s))
	}
	return t.Hour()*60 + t.Minute(), nil
}

// minute is t's minutes after midnight in t's location.
func minute(t time.Time) int { return t.Hour()*60 + t.Minute() }

// Open reports whether t is inside the window.
func (s Schedule) Open(t time.Time) bool {
	if !s.set {
		return true
	}
	m := minute(t)
	if s.from < s.to {
		return m >= s.from && m < s.to
	}
	return m >= s.from || m < s.to
}

// Next returns when the window next opens at or after t (t itself when
// it is open).
func (s Schedule) Next(t time.Time) time.Time {
	if s.Open(t) {
		return t
	}
	at := time.Date(t.Year(), t.Month(), t.Day(), s.from/60, s.from%60, 0, 0, t.Location())
	if !at.After(t) {
		at = time.Date(t.Year(), t.Month(), t.Day()+1, s.from/60, s.from%60, 0, 0, t.Location())
	}
	return at
}

// String is the window as configured ("always" when none).
func (s Schedule) String() string {
	if !s.set {
		return "always"
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.from/60, s.from%60, s.to/60, s.to%60)
}
