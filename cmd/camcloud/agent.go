package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/camcloud/camcloud/internal/agent"
	"github.com/camcloud/camcloud/internal/config"
)

// agentCmd runs the edge agent of a site (internal/agent) from its
// agent.yaml until SIGINT or SIGTERM.
func agentCmd(args []string) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	path := fs.String("config", "agent.yaml", "the agent's YAML configuration")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if v, ok := os.LookupEnv(config.EnvName("agent-config")); ok {
		_ = fs.Set("config", v)
	}
	if err := fs.Parse(args); err != nil {
		return flagError("camcloud agent", err)
	}
	log := newLogger(*level)
	cfg, err := agent.LoadConfig(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud agent:", err)
		return 2
	}
	cfg.TuneRuntime()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := agent.New(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud agent:", err)
		return 1
	}
	log.Info("agent: started", "cloud", cfg.Cloud, "cameras", len(cfg.Cameras), "data_dir", cfg.DataDir)
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "camcloud agent:", err)
		return 1
	}
	return 0
}
