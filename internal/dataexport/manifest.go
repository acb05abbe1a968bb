package dataexport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
)

// Manifest describes one run for one audience; it is written after every
// file it names, so a run that failed leaves none and its files are never
// part of a dataset. Readers start from latest.json.
type Manifest struct {
	RunID    string `json:"run_id"`
	Audience string `json:"audience"`
	// PolicyVersion digests the tag policies and this audience's grant.
	PolicyVersion string    `json:"policy_version"`
	Clear         []string  `json:"clear"`
	Pseudonymise  []string  `json:"pseudonymise"`
	Started       time.Time `json:"started"`
	Finished      time.Time `json:"finished"`
	// Databases has one entry per database snapshot.
	Databases []DatabaseSnapshot `json:"databases"`
	// Tables has one entry per table exported to this audience.
	Tables []TableFile `json:"tables"`
}

// DatabaseSnapshot says when a database was read.
type DatabaseSnapshot struct {
	DB         string    `json:"db"`
	Engine     string    `json:"engine"`
	SnapshotAt time.Time `json:"snapshot_at"`
}

// TableFile is one table's file of a run.
type TableFile struct {
	DB    string `json:"db"`
	Table string `json:"table"`
	// Mode is "full" (the file holds the table as of the snapshot and
	// replaces the partition's earlier ones) or "incremental" (the rows
	// whose Watermark column is in (From, To]; the table is the union of
	// every incremental file).
	Mode      string `json:"mode"`
	Watermark string `json:"watermark_column,omitempty"`
	From      int64  `json:"watermark_from,omitempty"`
	To        int64  `json:"watermark_to,omitempty"`
	Rows      int64  `json:"rows"`
	// Key is the file's key in the audience's store (empty: an
	// incremental run with no new rows wrote none).
	Key     string   `json:"key,omitempty"`
	Bytes   int64    `json:"bytes"`
	SHA256  string   `json:"sha256,omitempty"`
	Columns []Column `json:"columns"`
}

// manifestDir is where an audience's manifests go.
func manifestDir(audience string) string { return "audience=" + audience + "/_manifests/" }

// LatestManifestKey is the key of an audience's latest manifest.
func LatestManifestKey(audience string) string { return manifestDir(audience) + "latest.json" }

// maxManifest bounds a manifest read back.
const maxManifest = 64 << 20

// ReadLatest reads an audience's latest manifest; nil when there is none.
func ReadLatest(ctx context.Context, s blob.Store, audience string) (*Manifest, error) {
	r, err := s.Get(ctx, LatestManifestKey(audience))
	if errors.Is(err, blob.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dataexport: read manifest: %w", err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxManifest+1))
	if err != nil {
		return nil, fmt.Errorf("dataexport: read manifest: %w", err)
	}
	if len(b) > maxManifest {
		return nil, fmt.Errorf("dataexport: manifest of %s is larger than %d bytes", audience, maxManifest)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("dataexport: manifest of %s: %w", audience, err)
	}
	return &m, nil
}

// writeManifest stores m as the run's manifest, then as the latest.
func writeManifest(ctx context.Context, s blob.Store, m *Manifest) ([]string, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	var written []string
	for _, key := range []string{manifestDir(m.Audience) + "run=" + m.RunID + ".json", LatestManifestKey(m.Audience)} {
		if err := s.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
			return written, fmt.Errorf("dataexport: write manifest %s: %w", key, err)
		}
		written = append(written, key)
	}
	return written, nil
}

// watermark returns the previous run's upper watermark of db.table, and
// whether there is one.
func (m *Manifest) watermark(db, table string) (int64, bool) {
	if m == nil {
		return 0, false
	}
	for _, t := range m.Tables {
		if t.DB == db && t.Table == table && t.Watermark != "" {
			return t.To, true
		}
	}
	return 0, false
}
