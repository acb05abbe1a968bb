package testenv

import (
	"bytes"
	"sync"
)

// LogBuffer collects output written from several goroutines at once (a
// child's two pipes, a logger), bounded to 64 KiB, enough to explain a
// failure or to check what was logged.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write keeps at most 64 KiB and drops the rest.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 64<<10 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// String returns what was written.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
