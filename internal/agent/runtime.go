package agent

import (
	"os"
	"runtime/debug"
)

// DefaultGCPercent is the agent's default GOGC: the runtime's own. A
// device short of memory sets gc_percent lower, or memory_limit_bytes:
// measured at 20 cameras, gc_percent 50 keeps 2 to 4 MiB less resident
// (of about 40 MiB, most of it the executable's pages) for 10 to 30 %
// more CPU while relaying, so it is not the default.
const DefaultGCPercent = 100

// TuneRuntime applies the garbage collector settings of c to the process:
// GCPercent (debug.SetGCPercent) and, when set, MemoryLimit
// (debug.SetMemoryLimit). The GOGC and GOMEMLIMIT environment variables
// win when they are set, as they do for any Go program. It is for the
// agent's command; an agent embedded in another process leaves that
// process's settings alone by not calling it.
func (c Config) TuneRuntime() {
	if _, ok := os.LookupEnv("GOGC"); !ok && c.GCPercent != 0 {
		debug.SetGCPercent(c.GCPercent)
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok && c.MemoryLimit > 0 {
		debug.SetMemoryLimit(c.MemoryLimit)
	}
}
