package app

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
)

// Bounds of the garbage-collection target.
const (
	minGCPercent = 10
	maxGCPercent = 1000
)

// SetGCPercent sets the Go garbage collector's target (the heap growth
// allowed between collections, in percent of the live heap) for the whole
// process, from the gc_percent setting. Recording holds about one fragment
// of video per camera, which the collector's headroom multiplies: a lower
// target trades a little CPU for resident memory (see docs/benchmarks.md).
// The GOGC environment variable, when set, wins, as for any Go program.
// It is meant for the process entry point (camcloud serve), not for tests
// running several apps in one process.
func SetGCPercent(percent int, log *slog.Logger) error {
	if percent < minGCPercent || percent > maxGCPercent {
		return fmt.Errorf("gc_percent %d is not within %d..%d", percent, minGCPercent, maxGCPercent)
	}
	if v, ok := os.LookupEnv("GOGC"); ok {
		log.Info("GOGC is set: ignoring gc_percent", "GOGC", v, "gc_percent", percent)
		return nil
	}
	debug.SetGCPercent(percent)
	return nil
}
