package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/coltags"
)

// Export configures the analytics data export (internal/dataexport): who
// gets which columns, where their files go, and how often serve runs it.
// It is the `export:` key of the YAML file.
type Export struct {
	// Interval is how often `serve` (the api role) runs the export; 0, the
	// default, never (`camcloud data export` still runs it once).
	Interval time.Duration `yaml:"interval"`
	// SegmentLag is how long after it was indexed (its row's indexed_us)
	// a segment counts as settled for the incremental export of the
	// segment index: longer than a commit in flight and than the nodes'
	// clocks are apart. Default 1m.
	SegmentLag time.Duration `yaml:"segment_lag"`
	// Audiences lists who the export is cut for, each with its grant.
	Audiences []Audience `yaml:"audiences"`
}

// Audience is one consumer of the export: the tags it reads in clear, the
// tags it reads pseudonymised, and where its files go. A column is exported
// in clear when every tag it carries (its own and its table's) is granted
// in clear; pseudonymised when every tag is granted and one of them only
// pseudonymised; else it is dropped. `secret` columns never leave.
type Audience struct {
	// Name is 1-32 of a-z 0-9 -; the files go under audience=NAME/.
	Name string `yaml:"name"`
	// Clear and Pseudonymise are the granted tags (internal/coltags).
	Clear        []string `yaml:"clear"`
	Pseudonymise []string `yaml:"pseudonymise"`
	// Key is the audience's HMAC-SHA256 key for pseudonyms, at least 32
	// characters: the same key gives the same pseudonyms in every run (so
	// joins and comparisons across runs work); another audience's key
	// gives others. KeyFile names a file holding it instead. Required
	// when Pseudonymise is not empty.
	Key     string `yaml:"key"`
	KeyFile string `yaml:"key_file"`
	// Store is where the audience's files go: a local directory or an
	// S3 bucket and prefix whose credentials only this audience holds.
	// Default: local, DataDir/export.
	Store Store `yaml:"store"`
}

// Bounds of the export settings.
const (
	maxAudiences      = 16
	minExportInterval = 10 * time.Second
	maxExportInterval = 7 * 24 * time.Hour
	minPseudonymKey   = 32
	maxKeyFile        = 4096
)

// defaultExport is the export setting when nothing is set: off.
func defaultExport() Export { return Export{SegmentLag: time.Minute} }

// bindExport adds the export flags (audiences are configured in the file).
func bindExport(fs *flag.FlagSet, e *Export) {
	fs.DurationVar(&e.Interval, "export-interval", e.Interval, "run the data export this often in serve (api role), 10s..168h; 0: never")
}

// finish checks the export settings and fills defaults (the audiences'
// keys from their files, their stores).
func (e *Export) finish(dataDir string) error {
	if e.Interval != 0 && (e.Interval < minExportInterval || e.Interval > maxExportInterval) {
		return fmt.Errorf("export interval %s must be 0 (off) or in [%s, %s]", e.Interval, minExportInterval, maxExportInterval)
	}
	if e.SegmentLag < 0 || e.SegmentLag > maxExportInterval {
		return fmt.Errorf("export segment_lag %s must be in [0, %s]", e.SegmentLag, maxExportInterval)
	}
	if len(e.Audiences) > maxAudiences {
		return fmt.Errorf("export: %d audiences, at most %d", len(e.Audiences), maxAudiences)
	}
	if e.Interval != 0 && len(e.Audiences) == 0 {
		return errors.New("export interval is set but no audience is configured")
	}
	for i := range e.Audiences {
		a := &e.Audiences[i]
		if err := a.finish(dataDir); err != nil {
			return fmt.Errorf("export audience %d (%s): %w", i, a.Name, err)
		}
		for j := range i {
			if e.Audiences[j].Name == a.Name {
				return fmt.Errorf("export audience %s is configured twice", a.Name)
			}
		}
	}
	return nil
}

// finish checks one audience.
func (a *Audience) finish(dataDir string) error {
	if !validName(a.Name) {
		return fmt.Errorf("name %q must be 1-32 of a-z 0-9 -", a.Name)
	}
	if len(a.Clear)+len(a.Pseudonymise) == 0 {
		return errors.New("grants no tag (clear and pseudonymise are both empty)")
	}
	if err := coltags.CheckGrant(a.Clear); err != nil {
		return fmt.Errorf("clear: %w", err)
	}
	if err := coltags.CheckGrant(a.Pseudonymise); err != nil {
		return fmt.Errorf("pseudonymise: %w", err)
	}
	for _, t := range a.Clear {
		if slices.Contains(a.Pseudonymise, t) {
			return fmt.Errorf("tag %q is granted both in clear and pseudonymised", t)
		}
	}
	if a.KeyFile != "" {
		if a.Key != "" {
			return errors.New("key and key_file are both set")
		}
		b, err := readSmallFile(a.KeyFile, maxKeyFile)
		if err != nil {
			return fmt.Errorf("key_file: %w", err)
		}
		a.Key = strings.TrimSpace(string(b))
	}
	if len(a.Pseudonymise) > 0 && len(a.Key) < minPseudonymKey {
		return fmt.Errorf("pseudonymising needs a key (key or key_file) of at least %d characters", minPseudonymKey)
	}
	if a.Store.Type == "" {
		a.Store.Type = "local"
	}
	switch a.Store.Type {
	case "local":
		if a.Store.Dir == "" {
			a.Store.Dir = filepath.Join(dataDir, "export")
		}
	case "s3":
		if a.Store.Endpoint == "" || a.Store.Bucket == "" {
			return errors.New("s3 store needs endpoint and bucket")
		}
	default:
		return fmt.Errorf("store type %q is not local or s3", a.Store.Type)
	}
	return nil
}

// readSmallFile reads a file of at most limit bytes.
func readSmallFile(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return os.ReadFile(path)
}
