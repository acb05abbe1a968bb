package app

import (
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"testing"
)

func TestSetGCPercent(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })
	cases := []struct {
		name    string
		gogc    string // "" leaves GOGC unset
		percent int
		wantErr bool
		want    int // GC percent in effect afterwards
	}{
		{"applied", "", 50, false, 50},
		{"upper bound", "", 1000, false, 1000},
		{"too low", "", 5, true, 100},
		{"too high", "", 5000, true, 100},
		{"GOGC wins", "80", 50, false, 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			if c.gogc != "" {
				t.Setenv("GOGC", c.gogc)
			} else if v, ok := os.LookupEnv("GOGC"); ok {
				t.Setenv("GOGC", v) // restored after the test
				os.Unsetenv("GOGC")
			}
			err := SetGCPercent(c.percent, log)
			if (err != nil) != c.wantErr {
				t.Fatalf("SetGCPercent(%d) error = %v, want error %v", c.percent, err, c.wantErr)
			}
			if got := debug.SetGCPercent(100); got != c.want {
				t.Errorf("GC percent = %d, want %d", got, c.want)
			}
		})
	}
}
