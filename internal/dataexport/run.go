package dataexport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/store"
)

// Source is one database to export.
type Source struct {
	// DB names it in the partitions (db=directory, db=zone-NAME).
	DB string
	// Policy is its schema's tag policy.
	Policy store.Policy
	// Repo opens its snapshots.
	Repo store.Snapshotter
}

// Auditor records the run in the audit log (audit.Log).
type Auditor interface {
	Record(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error)
}

// Progress is reported after each table of each database, and every
// progressEvery rows while a long table is read (Partial).
type Progress struct {
	DB, Table string
	Rows      int64 // rows read from the snapshot
	Files     int   // files written (one per audience that gets the table)
	Elapsed   time.Duration
	Partial   bool // the table is still being read
}

// progressEvery is how many rows of a table pass between partial reports.
const progressEvery = 1 << 20

// Exporter runs exports. Set the fields, then call Run.
type Exporter struct {
	Sources   []Source
	Audiences []Audience
	// Audit, when set, records each run.
	Audit Auditor
	Log   *slog.Logger
	// Metrics, when set, counts runs, rows and bytes.
	Metrics *Metrics
	// TempDir holds the files while they are written (default os.TempDir).
	TempDir string
	// SegmentLag is how long after it was indexed a segment row counts as
	// settled (the incremental watermark of segments, on indexed_us, stays
	// that far behind the snapshot).
	SegmentLag time.Duration
	// Full ignores the watermarks of earlier runs: every table whole.
	Full bool
	// Progress, when set, is told about every table done.
	Progress func(Progress)
	// Now is the clock (time.Now by default).
	Now func() time.Time
	// Lock, when set, makes runs exclusive across the processes that
	// share it (the directory database): a run that finds it held fails
	// with ErrBusy.
	Lock store.JobLocker
}

// ErrBusy is returned by Run while another process runs an export.
var ErrBusy = errors.New("dataexport: another export is running")

// Result is what a run wrote.
type Result struct {
	RunID     string
	Manifests []*Manifest
	Rows      int64 // rows read from the databases
	Bytes     int64 // bytes written, over all audiences
}

// run is the state of one Run.
type run struct {
	e        *Exporter
	id       string
	started  time.Time
	dt       string
	prev     []*Manifest // previous latest manifest per audience (nil: none)
	out      []*Manifest
	written  [][]string // keys written per audience, removed if the run fails
	tempDir  string
	res      Result
	policies []store.Policy
}

// Run exports every source to every audience once. On failure every file
// it wrote is removed again and no manifest is written, so the audiences'
// datasets stay as they were.
func (e *Exporter) Run(ctx context.Context) (res Result, err error) {
	if len(e.Audiences) == 0 {
		return Result{}, errors.New("dataexport: no audience configured")
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Log == nil {
		e.Log = slog.New(slog.DiscardHandler)
	}
	if e.Lock != nil {
		unlock, ok, err := e.Lock.TryJobLock(ctx, "data-export")
		if err != nil {
			return Result{}, err
		}
		if !ok {
			return Result{}, ErrBusy
		}
		defer unlock()
	}
	r := &run{e: e, started: e.Now().UTC()}
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	r.id = r.started.Format("20060102T150405Z") + "-" + hex.EncodeToString(rnd[:])
	r.dt = r.started.Format("2006-01-02")
	r.written = make([][]string, len(e.Audiences))
	for _, s := range e.Sources {
		r.policies = append(r.policies, s.Policy)
	}
	if r.tempDir, err = os.MkdirTemp(e.TempDir, "camcloud-export-"); err != nil {
		return Result{}, fmt.Errorf("dataexport: temporary directory: %w", err)
	}
	defer func() { _ = os.RemoveAll(r.tempDir) }()
	e.Metrics.start()
	defer func() { e.Metrics.done(err == nil, e.Now().Sub(r.started), r.res.Bytes) }()
	if err = r.do(ctx); err != nil {
		r.removeWritten()
		r.audit(ctx, "data.export.failed", err.Error())
		e.Log.Error("data export failed; its files were removed", "run", r.id, "err", err)
		return Result{}, err
	}
	r.res.RunID, r.res.Manifests = r.id, r.out
	r.audit(ctx, "data.export", "")
	e.Log.Info("data export done", "run", r.id, "rows", r.res.Rows, "bytes", r.res.Bytes, "took", e.Now().Sub(r.started).Round(time.Millisecond))
	return r.res, nil
}

// do is the run itself: every source, then the manifests, then the sweep.
func (r *run) do(ctx context.Context) error {
	for i, a := range r.e.Audiences {
		m, err := ReadLatest(ctx, a.Store, a.Name)
		if err != nil {
			return err
		}
		r.prev = append(r.prev, m)
		r.out = append(r.out, &Manifest{RunID: r.id, Audience: a.Name, PolicyVersion: r.e.Audiences[i].grantVersion(r.policies...),
			Clear: a.Clear, Pseudonymise: a.Pseudonymise, Started: r.started})
	}
	for _, s := range r.e.Sources {
		if err := r.source(ctx, s); err != nil {
			return fmt.Errorf("db %s: %w", s.DB, err)
		}
	}
	for i, a := range r.e.Audiences {
		r.out[i].Finished = r.e.Now().UTC()
		keys, err := writeManifest(ctx, a.Store, r.out[i])
		r.written[i] = append(r.written[i], keys...)
		if err != nil {
			return err
		}
	}
	// From here on the run stands: what follows only tidies.
	for i, a := range r.e.Audiences {
		if err := r.sweep(ctx, a, r.out[i]); err != nil {
			r.e.Log.Warn("data export: removing superseded files", "audience", a.Name, "err", err)
		}
	}
	return nil
}

// source exports one database from one snapshot.
func (r *run) source(ctx context.Context, s Source) error {
	snap, err := s.Repo.BeginSnapshot(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = snap.Close() }()
	for _, m := range r.out {
		m.Databases = append(m.Databases, DatabaseSnapshot{DB: s.DB, Engine: snap.Engine, SnapshotAt: snap.At.UTC()})
	}
	tables, err := snap.Tables(ctx)
	if err != nil {
		return err
	}
	for _, t := range tables {
		tp, ok := s.Policy[t.Name]
		if !ok {
			// A table this binary has no tags for (a newer binary made it):
			// nothing of it leaves.
			r.e.Log.Warn("data export: table has no tags, not exported", "db", s.DB, "table", t.Name)
			continue
		}
		if err := r.table(ctx, snap, s.DB, t, tp); err != nil {
			return fmt.Errorf("table %s: %w", t.Name, err)
		}
	}
	return nil
}

// target is one audience's file of the table being exported.
type target struct {
	aud   int
	w     *fileWriter
	from  int64 // incremental: only rows with the watermark column above
	table TableFile
}

// table exports one table of a snapshot to every audience that gets any
// of its columns, reading it once.
func (r *run) table(ctx context.Context, snap *store.Snapshot, db string, t store.TableInfo, tp store.TablePolicy) error {
	begin := time.Now()
	var targets []*target
	defer func() {
		for _, tg := range targets {
			if tg.w != nil {
				tg.w.abort()
			}
		}
	}()
	rng := store.Range{}
	wcol := -1
	if tp.Append != "" {
		wcol = slices.IndexFunc(t.Columns, func(c store.ColumnInfo) bool { return c.Name == tp.Append })
		if wcol < 0 || t.Columns[wcol].Kind != store.KindInt {
			return fmt.Errorf("append column %s is missing or not an integer", tp.Append)
		}
		upTo, err := snap.Max(ctx, t.Name, tp.Append)
		if err != nil {
			return err
		}
		if t.Name == "segments" && r.e.SegmentLag > 0 {
			upTo = min(upTo, snap.At.Add(-r.e.SegmentLag).UnixMicro())
		}
		rng = store.Range{Col: tp.Append, After: math.MaxInt64, UpTo: upTo}
	}
	for i, a := range r.e.Audiences {
		var cols []outCol
		for j, c := range t.Columns {
			tags := tp.ColumnTags(c.Name)
			tr := a.treat(tags)
			if tr == Drop {
				continue
			}
			cols = append(cols, outCol{Column: Column{Name: c.Name, Type: typeName(c.Kind, tr), Nullable: c.Nullable, Tags: tags, Treatment: tr}, src: j})
		}
		if len(cols) == 0 {
			continue
		}
		tg := &target{aud: i, table: TableFile{DB: db, Table: t.Name, Mode: "full"}}
		if tp.Append != "" {
			tg.from = math.MinInt64
			if w, ok := r.prev[i].watermark(db, t.Name); ok && !r.e.Full {
				tg.from = w
				tg.table.Mode = "incremental"
			}
			tg.table.Watermark, tg.table.From, tg.table.To = tp.Append, tg.from, rng.UpTo
			if tg.table.From == math.MinInt64 {
				tg.table.From = 0
			}
			rng.After = min(rng.After, tg.from)
		}
		var err error
		if tg.w, err = newFileWriter(r.tempDir, t.Name, cols, newPseudonymiser(a.Key)); err != nil {
			return err
		}
		for _, c := range cols {
			tg.table.Columns = append(tg.table.Columns, c.Column)
		}
		targets = append(targets, tg)
	}
	if len(targets) == 0 {
		return nil
	}
	var rows int64
	err := snap.Scan(ctx, t.Name, t.Columns, rng, func(row []any) error {
		rows++
		if rows%rowGroupRows == 0 {
			r.e.Metrics.rows(db, t.Name, rowGroupRows)
		}
		if rows%progressEvery == 0 && r.e.Progress != nil {
			r.e.Progress(Progress{DB: db, Table: t.Name, Rows: rows, Files: len(targets), Elapsed: time.Since(begin), Partial: true})
		}
		for _, tg := range targets {
			if wcol >= 0 && row[wcol].(int64) <= tg.from {
				continue
			}
			if err := tg.w.write(row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.e.Metrics.rows(db, t.Name, rows%rowGroupRows)
	r.res.Rows += rows
	for _, tg := range targets {
		if err := r.store(ctx, tg); err != nil {
			return err
		}
	}
	if r.e.Progress != nil {
		r.e.Progress(Progress{DB: db, Table: t.Name, Rows: rows, Files: len(targets), Elapsed: time.Since(begin)})
	}
	return nil
}

// store uploads one target's finished file into its audience's partition
// and adds it to the manifest. An incremental file with no rows is not
// stored.
func (r *run) store(ctx context.Context, tg *target) error {
	w := tg.w
	tg.w = nil
	a := r.e.Audiences[tg.aud]
	tg.table.Rows = w.rows
	if tg.table.Mode == "incremental" && w.rows == 0 {
		w.abort()
		r.out[tg.aud].Tables = append(r.out[tg.aud].Tables, tg.table)
		return nil
	}
	path, size, sum, err := w.finish()
	if err != nil {
		return err
	}
	defer os.Remove(path)
	key := partition(a.Name, tg.table.DB, tg.table.Table, r.dt) + "part-" + r.id + ".parquet"
	// Counted as written before the upload: a failed one may have left part.
	r.written[tg.aud] = append(r.written[tg.aud], key)
	if fp, ok := a.Store.(blob.FilePutter); ok {
		err = fp.PutFile(ctx, key, path, size)
	} else {
		var f *os.File
		if f, err = os.Open(path); err == nil {
			err = a.Store.Put(ctx, key, f, size)
			f.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	tg.table.Key, tg.table.Bytes, tg.table.SHA256 = key, size, sum
	r.res.Bytes += size
	r.out[tg.aud].Tables = append(r.out[tg.aud].Tables, tg.table)
	return nil
}

// partition is the Hive-style prefix of one table's files of one day.
func partition(audience, db, table, dt string) string {
	return "audience=" + audience + "/db=" + db + "/table=" + table + "/dt=" + dt + "/"
}

// removeWritten deletes what a failed run wrote, with a context of its own
// (the run's may be what failed).
func (r *run) removeWritten() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i, keys := range r.written {
		if len(keys) == 0 {
			continue
		}
		if err := r.e.Audiences[i].Store.Delete(ctx, keys...); err != nil {
			r.e.Log.Error("data export: removing the files of a failed run", "audience", r.e.Audiences[i].Name, "err", err)
		}
	}
}

// sweep deletes, after a run stands, the files its manifest supersedes:
// earlier files of the full tables in the partitions it wrote (so a
// partition holds the day's latest snapshot of a table), and files of runs
// that never wrote a manifest (a process killed mid-run).
func (r *run) sweep(ctx context.Context, a Audience, m *Manifest) error {
	runs := map[string]bool{}
	err := a.Store.List(ctx, manifestDir(a.Name), func(key string, _ int64) error {
		if name, ok := strings.CutPrefix(key[strings.LastIndex(key, "/")+1:], "run="); ok {
			runs[strings.TrimSuffix(name, ".json")] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The prefixes a full file of this run replaces: its partition, or for
	// a table otherwise exported incrementally (a first or --full run),
	// every partition of the table.
	var replaced []string
	for _, t := range m.Tables {
		if t.Mode == "full" && t.Key != "" {
			p := t.Key[:strings.LastIndex(t.Key, "/")+1]
			if t.Watermark != "" {
				p = partition(a.Name, t.DB, t.Table, "")[:len(partition(a.Name, t.DB, t.Table, ""))-len("dt=/")]
			}
			replaced = append(replaced, p)
		}
	}
	var stale []string
	err = a.Store.List(ctx, "audience="+a.Name+"/db=", func(key string, _ int64) error {
		file := key[strings.LastIndex(key, "/")+1:]
		run, ok := strings.CutPrefix(strings.TrimSuffix(file, ".parquet"), "part-")
		if !ok || run == r.id {
			return nil
		}
		if !runs[run] || slices.ContainsFunc(replaced, func(p string) bool { return strings.HasPrefix(key, p) }) {
			stale = append(stale, key)
		}
		return nil
	})
	if err != nil || len(stale) == 0 {
		return err
	}
	return a.Store.Delete(ctx, stale...)
}

// audit records the run (or its failure) with what each audience got.
func (r *run) audit(ctx context.Context, action, failure string) {
	if r.e.Audit == nil {
		return
	}
	type aud struct {
		Name   string `json:"audience"`
		Tables int    `json:"tables"`
		Rows   int64  `json:"rows"`
		Bytes  int64  `json:"bytes"`
	}
	d := struct {
		Run       string `json:"run"`
		Error     string `json:"error,omitempty"`
		Audiences []aud  `json:"audiences"`
	}{Run: r.id, Error: failure}
	var names []string
	for _, m := range r.out {
		x := aud{Name: m.Audience}
		for _, t := range m.Tables {
			x.Tables++
			x.Rows += t.Rows
			x.Bytes += t.Bytes
		}
		d.Audiences = append(d.Audiences, x)
		names = append(names, m.Audience)
	}
	detail, _ := json.Marshal(d)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := r.e.Audit.Record(ctx, store.AuditEntry{Actor: "system:data-export", Action: action,
		Target: "audiences:" + strings.Join(names, ","), Detail: string(detail)}); err != nil {
		r.e.Log.Error("data export: audit entry", "err", err)
	}
}
