package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWebhookSettings: the webhook keys are top-level YAML keys, with
// flags and environment variables over them, defaults and bounds.
func TestWebhookSettings(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("webhook_allow: [\"127.0.0.0/8\"]\nwebhook_allow_http: true\nwebhook_disable_after: 1h\nwebhook_lease: 30s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	def, err := Load("serve", []string{"--data-dir", dir}, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if def.WebhookAllowHTTP || len(def.WebhookAllow) != 0 || def.WebhookTimeout != 10*time.Second || def.WebhookRetryMax != 10*time.Minute || def.WebhookDisableAfter != 24*time.Hour ||
		def.WebhookLease != 15*time.Second {
		t.Fatalf("defaults %+v", def.Webhooks)
	}
	c, err := Load("serve", []string{"--data-dir", dir, "--config", file, "--webhook-retry-max", "30s"},
		envOf(map[string]string{"CAMCLOUD_WEBHOOK_TIMEOUT": "3s"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.WebhookAllowHTTP || strings.Join(c.WebhookAllow, ",") != "127.0.0.0/8" || c.WebhookDisableAfter != time.Hour ||
		c.WebhookRetryMax != 30*time.Second || c.WebhookTimeout != 3*time.Second || c.WebhookLease != 30*time.Second {
		t.Fatalf("loaded %+v", c.Webhooks)
	}
	for _, args := range [][]string{
		{"--webhook-allow", "not-a-cidr"},
		{"--webhook-timeout", "0s"},
		{"--webhook-retry-max", "2h"},
		{"--webhook-disable-after", "500ms"},
		{"--webhook-lease", "1s"},
		{"--webhook-lease", "1h"},
	} {
		if _, err := Load("serve", append([]string{"--data-dir", dir}, args...), envOf(nil)); err == nil || !strings.Contains(err.Error(), "webhook") {
			t.Errorf("%v: %v, want a webhook error", args, err)
		}
	}
}
