package spool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// The sidecar (".idx" beside each spooled ".m4s" data file) is JSON lines:
// a header line, then one line per fragment appended after the fragment's
// bytes are flushed to the data file. A torn last line (no newline, or not
// valid JSON) is ignored on recovery, and so is everything after it.

const (
	sidecarVersion = 1
	maxSidecarLine = 4096
	maxFragments   = 1 << 16 // per segment; about 18 h of 1 s fragments
)

// sidecarHeader is the first line of a sidecar.
type sidecarHeader struct {
	V      int    `json:"v"`
	Camera string `json:"cam"`
	Start  int64  `json:"start"` // unix microseconds, wall clock of the first sample
	Init   string `json:"init"`  // init segment hash
	Codec  string `json:"codec"`
}

// sidecar is a parsed sidecar: its header and its complete fragment lines.
type sidecar struct {
	Header    sidecarHeader
	Fragments []store.Fragment
	// Valid is the length of the prefix of the file that parsed cleanly.
	Valid int64
}

func encodeHeader(h sidecarHeader) []byte {
	b, _ := json.Marshal(h) // plain struct: cannot fail
	return append(b, '\n')
}

func encodeFragment(f store.Fragment) []byte {
	b, _ := json.Marshal(f) // plain struct: cannot fail
	return append(b, '\n')
}

// parseSidecar decodes a sidecar, keeping the header and every fragment
// line up to the first torn or invalid one.
func parseSidecar(b []byte) (*sidecar, error) {
	line, rest, ok := bytes.Cut(b, []byte{'\n'})
	if !ok {
		return nil, errors.New("sidecar: no complete header line")
	}
	if len(line) > maxSidecarLine {
		return nil, errors.New("sidecar: header line too long")
	}
	sc := &sidecar{}
	if err := json.Unmarshal(line, &sc.Header); err != nil {
		return nil, fmt.Errorf("sidecar header: %w", err)
	}
	if err := validHeader(sc.Header); err != nil {
		return nil, err
	}
	sc.Valid = int64(len(line) + 1)
	for len(rest) > 0 && len(sc.Fragments) < maxFragments {
		line, next, ok := bytes.Cut(rest, []byte{'\n'})
		if !ok || len(line) > maxSidecarLine {
			break
		}
		var f store.Fragment
		if err := json.Unmarshal(line, &f); err != nil || !validFragment(f) {
			break
		}
		sc.Fragments = append(sc.Fragments, f)
		sc.Valid += int64(len(line) + 1)
		rest = next
	}
	return sc, nil
}

func validHeader(h sidecarHeader) error {
	if h.V != sidecarVersion {
		return fmt.Errorf("sidecar: unknown version %d", h.V)
	}
	if err := ValidCameraID(h.Camera); err != nil {
		return fmt.Errorf("sidecar: %w", err)
	}
	if len(h.Init) != 16 || !isHex(h.Init) {
		return fmt.Errorf("sidecar: bad init hash %q", h.Init)
	}
	if h.Start <= 0 {
		return fmt.Errorf("sidecar: bad start %d", h.Start)
	}
	return nil
}

func validFragment(f store.Fragment) bool {
	return f.Offset >= 0 && f.Size > 0 && f.Start >= 0 && f.Duration >= 0 &&
		f.Duration < 24*time.Hour && f.Start < 1000*time.Hour
}

func isHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ValidCameraID bounds camera IDs, which name spool directories and object
// keys: 1 to 128 characters of letters, digits, '-', '_' and '.', not
// starting with '.'.
func ValidCameraID(id string) error {
	if id == "" || len(id) > 128 || id[0] == '.' {
		return fmt.Errorf("invalid camera id %q", id)
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.'
		if !ok {
			return fmt.Errorf("invalid camera id %q", id)
		}
	}
	return nil
}
