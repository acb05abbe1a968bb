package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/camcloud/camcloud/internal/app"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/dataexport"
)

const dataUsage = "usage: camcloud data export [--full] [--config FILE] [--data-dir DIR] [--directory DSN]"

// dataCmd is `camcloud data export`: one run of the analytics data export
// of the configuration (export.audiences), with its progress per table
// on stdout. --full ignores the watermarks of earlier runs.
func dataCmd(args []string, out io.Writer) int {
	if len(args) == 0 || args[0] != "export" {
		fmt.Fprintln(os.Stderr, dataUsage)
		return 2
	}
	args = args[1:]
	full := false
	if i := slices.IndexFunc(args, func(a string) bool { return a == "--full" || a == "-full" }); i >= 0 {
		full, args = true, slices.Delete(slices.Clone(args), i, i+1)
	}
	cfg, err := config.Load("data export", args, os.LookupEnv)
	if err != nil {
		return flagError("camcloud data export", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg, newLogger("warn"), app.Options{Out: io.Discard})
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud data export:", err)
		return 1
	}
	defer a.Close()
	e, err := a.DataExporter(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud data export:", err)
		return 1
	}
	e.Full = full
	e.Progress = func(p dataexport.Progress) {
		rate := float64(p.Rows) / max(p.Elapsed.Seconds(), 1e-3)
		state := "done"
		if p.Partial {
			state = "reading"
		}
		fmt.Fprintf(out, "%-12s %-20s %-7s %10d rows  %d files  %8s  %.0f rows/s\n", p.DB, p.Table, state, p.Rows, p.Files, p.Elapsed.Round(time.Millisecond), rate)
	}
	begin := time.Now()
	res, err := e.Run(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud data export: failed, no file of this run is left:", err)
		return 1
	}
	fmt.Fprintf(out, "export %s: %d rows read, %d bytes written in %s\n", res.RunID, res.Rows, res.Bytes, time.Since(begin).Round(time.Millisecond))
	for _, m := range res.Manifests {
		fmt.Fprintf(out, "  audience %s: %d tables, manifest %s\n", m.Audience, len(m.Tables), dataexport.LatestManifestKey(m.Audience))
	}
	return 0
}
