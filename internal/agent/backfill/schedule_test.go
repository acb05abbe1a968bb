package backfill

import (
	"testing"
	"time"
)

func TestSchedule(t *testing.T) {
	at := func(hm string) time.Time {
		c, err := time.Parse("15:04", hm)
		if err != nil {
			t.Fatal(err)
		}
		return time.Date(2026, 12, 1, c.Hour(), c.Minute(), 30, 0, time.UTC)
	}
	night, err := ParseSchedule("22:00-06:00")
	if err != nil {
		t.Fatal(err)
	}
	day, err := ParseSchedule(" 09:30 - 17:00 ")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s    Schedule
		at   string
		open bool
		next string // when closed: the next opening, on the same day or the next
	}{
		{night, "22:00", true, ""}, {night, "23:59", true, ""}, {night, "00:00", true, ""}, {night, "05:59", true, ""},
		{night, "06:00", false, "22:00"}, {night, "12:00", false, "22:00"}, {night, "21:59", false, "22:00"},
		{day, "09:30", true, ""}, {day, "16:59", true, ""}, {day, "17:00", false, "09:30+1"}, {day, "03:00", false, "09:30"},
		{Schedule{}, "03:00", true, ""},
	} {
		now := at(c.at)
		if got := c.s.Open(now); got != c.open {
			t.Errorf("%s at %s: open %v, want %v", c.s, c.at, got, c.open)
		}
		next := c.s.Next(now)
		if c.open {
			if !next.Equal(now) {
				t.Errorf("%s at %s (open): next %s, want now", c.s, c.at, next)
			}
			continue
		}
		hm, plus := c.next, 0
		if len(hm) > 5 {
			hm, plus = hm[:5], 1
		}
		want := at(hm).Add(-30*time.Second).AddDate(0, 0, plus)
		if !next.Equal(want) {
			t.Errorf("%s at %s: next %s, want %s", c.s, c.at, next, want)
		}
		if !c.s.Open(next) {
			t.Errorf("%s: closed at its next opening %s", c.s, next)
		}
	}
	for _, bad := range []string{"22:00", "22-06", "25:00-06:00", "22:00-22:00", "10:00-ab:00", "22:00-06:00-07:00"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("schedule %q accepted", bad)
		}
	}
}
