package config

import (
	"flag"
	"fmt"
	"time"
)

// Exports configures evidence exports (run by api nodes). Its fields are
// top-level keys of the YAML file; the longest range of an export is
// max_clip.
type Exports struct {
	// ExportTTL is how long a finished export package is kept (then it is
	// deleted from the zone's object store, and its job with it).
	ExportTTL time.Duration `yaml:"export_ttl"`
	// ExportMaxActive bounds the export jobs queued or running at once per
	// organisation.
	ExportMaxActive int `yaml:"export_max_active"`
	// ExportWorkers is how many export jobs this api node runs at once;
	// 0: none (the node serves the routes, other nodes run the jobs).
	ExportWorkers int `yaml:"export_workers"`
}

// defaultExports are the export settings when nothing is set.
func defaultExports() Exports {
	return Exports{ExportTTL: 72 * time.Hour, ExportMaxActive: 2, ExportWorkers: 1}
}

// bindExports adds the export flags.
func bindExports(fs *flag.FlagSet, e *Exports) {
	fs.DurationVar(&e.ExportTTL, "export-ttl", e.ExportTTL, "how long a finished export package is kept, 1m..720h")
	fs.IntVar(&e.ExportMaxActive, "export-max-active", e.ExportMaxActive, "export jobs queued or running at once per organisation, 1..20")
	fs.IntVar(&e.ExportWorkers, "export-workers", e.ExportWorkers, "export jobs this api node runs at once, 0..8 (0: none)")
}

// check validates the export settings.
func (e Exports) check() error {
	if e.ExportTTL < time.Minute || e.ExportTTL > 720*time.Hour {
		return fmt.Errorf("export_ttl %s must be in [1m, 720h]", e.ExportTTL)
	}
	if e.ExportMaxActive < 1 || e.ExportMaxActive > 20 {
		return fmt.Errorf("export_max_active %d must be in [1, 20]", e.ExportMaxActive)
	}
	if e.ExportWorkers < 0 || e.ExportWorkers > 8 {
		return fmt.Errorf("export_workers %d must be in [0, 8]", e.ExportWorkers)
	}
	return nil
}
