package app

import (
	"context"
	"fmt"

	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/netpolicy"
	"github.com/camcloud/camcloud/internal/webhooks"
)

// startWebhooks builds the webhook service of a process that serves the
// API (its routes need it) and runs its deliverer until ctx ends: every
// api node delivers, each webhook zone by one node at a time (leases in
// the directory). Webhook URLs obey webhook_allow, and never reach this
// process's own listeners.
func (a *App) startWebhooks(ctx context.Context) error {
	if a.Cfg.Role == config.RoleCameraServer {
		return nil
	}
	allow, err := netpolicy.ParseAllow(a.Cfg.WebhookAllow)
	if err != nil {
		return fmt.Errorf("webhook_allow: %w", err)
	}
	policy := netpolicy.NewFor(allow, "webhook_allow")
	policy.AddSelf(a.HTTPAddr(), a.Cfg.DebugAddr)
	if a.CamServer != nil {
		policy.AddSelf(a.CamServer.RTSPAddr(), a.CamServer.RTMPAddr())
	}
	key, err := a.MediaKey()
	if err != nil {
		return err
	}
	a.Webhooks, err = webhooks.New(webhooks.Config{Dir: a.Dir, Events: a.Events, Audit: a.Audit, Policy: policy,
		AllowHTTP: a.Cfg.WebhookAllowHTTP, SecretKey: key, Log: a.Log, Registerer: a.Registry, Meter: a.Usage,
		Timeout: a.Cfg.WebhookTimeout, RetryMax: a.Cfg.WebhookRetryMax, DisableAfter: a.Cfg.WebhookDisableAfter,
		LeaseTTL: a.Cfg.WebhookLease})
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); a.Webhooks.Run(rctx) }()
	a.closers = append(a.closers, func() { cancel(); <-done })
	return nil
}
