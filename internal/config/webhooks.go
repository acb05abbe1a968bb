package config

import (
	"flag"
	"fmt"
	"time"

	"github.com/camcloud/camcloud/internal/netpolicy"
)

// Webhooks configures the delivery of webhooks (by api nodes). Its
// fields are top-level keys of the YAML file.
type Webhooks struct {
	// WebhookAllow lists CIDR prefixes (or addresses) that webhook URLs
	// may point at although the destination policy refuses them by
	// default (private ranges; 127.0.0.0/8 for tests), as pull_allow
	// does for pulled cameras. Empty: public addresses only.
	WebhookAllow []string `yaml:"webhook_allow"`
	// WebhookAllowHTTP lets webhook URLs be http:// (default: https only).
	WebhookAllowHTTP bool `yaml:"webhook_allow_http"`
	// WebhookTimeout bounds one delivery (connection, request, answer).
	WebhookTimeout time.Duration `yaml:"webhook_timeout"`
	// WebhookRetryMax bounds the backoff between retries of a failing
	// webhook (from 1 s, doubling).
	WebhookRetryMax time.Duration `yaml:"webhook_retry_max"`
	// WebhookDisableAfter is how long a webhook may fail before it is
	// turned off (and a webhook.disabled event recorded).
	WebhookDisableAfter time.Duration `yaml:"webhook_disable_after"`
	// WebhookLease is how long an api node's claim to deliver a webhook's
	// events of a zone lasts without renewal (renewed every third of it):
	// how long the deliveries of a node that died wait for another.
	WebhookLease time.Duration `yaml:"webhook_lease"`
}

// defaultWebhooks are the webhook settings when nothing is set.
func defaultWebhooks() Webhooks {
	return Webhooks{WebhookTimeout: 10 * time.Second, WebhookRetryMax: 10 * time.Minute, WebhookDisableAfter: 24 * time.Hour,
		WebhookLease: 15 * time.Second}
}

// bindWebhooks adds the webhook flags.
func bindWebhooks(fs *flag.FlagSet, w *Webhooks) {
	fs.Var((*listFlag)(&w.WebhookAllow), "webhook-allow", "comma-separated CIDR prefixes of private addresses webhook URLs may point at (default: public addresses only)")
	fs.BoolVar(&w.WebhookAllowHTTP, "webhook-allow-http", w.WebhookAllowHTTP, "allow http:// webhook URLs (default: https only)")
	fs.DurationVar(&w.WebhookTimeout, "webhook-timeout", w.WebhookTimeout, "bound on one webhook delivery, 1s..60s")
	fs.DurationVar(&w.WebhookRetryMax, "webhook-retry-max", w.WebhookRetryMax, "longest wait between retries of a failing webhook, 1s..1h")
	fs.DurationVar(&w.WebhookDisableAfter, "webhook-disable-after", w.WebhookDisableAfter, "turn a webhook off after it fails this long, 1s..168h")
	fs.DurationVar(&w.WebhookLease, "webhook-lease", w.WebhookLease, "how long a node's claim to deliver a webhook lasts unrenewed (a dead node's deliveries wait this long), 3s..5m")
}

// check validates the webhook settings.
func (w Webhooks) check() error {
	if _, err := netpolicy.ParseAllow(w.WebhookAllow); err != nil {
		return fmt.Errorf("webhook_allow: %w", err)
	}
	for _, d := range []struct {
		name      string
		v, lo, hi time.Duration
	}{
		{"webhook_timeout", w.WebhookTimeout, time.Second, time.Minute},
		{"webhook_retry_max", w.WebhookRetryMax, time.Second, time.Hour},
		{"webhook_disable_after", w.WebhookDisableAfter, time.Second, 7 * 24 * time.Hour},
		{"webhook_lease", w.WebhookLease, 3 * time.Second, 5 * time.Minute},
	} {
		if d.v < d.lo || d.v > d.hi {
			return fmt.Errorf("%s %s must be in [%s, %s]", d.name, d.v, d.lo, d.hi)
		}
	}
	return nil
}
