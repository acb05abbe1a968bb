package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/camcloud/camcloud/internal/app"
	"github.com/camcloud/camcloud/internal/config"
)

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

func serve(args []string) int {
	cfg, err := config.Load("serve", args, os.LookupEnv)
	if err != nil {
		return flagError("camcloud serve", err)
	}
	log := newLogger(cfg.LogLevel)
	if err := app.SetGCPercent(cfg.GCPercent, log); err != nil {
		fmt.Fprintln(os.Stderr, "camcloud serve:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg, log, app.Options{}); err != nil {
		log.Error("camcloud stopped", "err", err)
		return 1
	}
	return 0
}
