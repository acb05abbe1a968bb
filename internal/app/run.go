package app

import (
	"context"
	"log/slog"

	"github.com/camcloud/camcloud/internal/config"
)

// Run opens, listens and serves until ctx ends, then shuts down in order.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger, opt Options) error {
	a, err := New(ctx, cfg, log, opt)
	if err != nil {
		return err
	}
	defer a.Close()
	if cfg.Demo {
		if err := a.SeedDemo(ctx, opt); err != nil {
			return err
		}
	}
	if err := a.Listen(); err != nil {
		return err
	}
	return a.Serve(ctx)
}
