package app_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// scrape returns the lines of /metrics that start with prefix.
func scrape(t *testing.T, base, prefix string) []string { return testenv.MetricLines(t, base, prefix) }

// has reports whether lines hold want exactly.
func has(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// TestFleetMetrics: /metrics counts the zone's cameras online, offline and
// recorded; the per-camera last-frame age is absent by default and, when
// asked for, bounded to the configured number of cameras, with the rest
// counted as omitted.
func TestFleetMetrics(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	n := apptest.Start(t, "--metrics-camera-health", "2")
	tok, org := adminOrg(t, n)
	var rtsp string
	for i := range 3 {
		var c struct {
			Ingest struct {
				RTSP string `json:"rtsp_url"`
			} `json:"ingest"`
		}
		testenv.APICall(t, n.Base, tok, "POST", "/api/v1/cameras", map[string]any{"org_id": org, "name": "cam " + string(rune('a'+i)),
			"source": map[string]string{"type": "push"}, "recording": "continuous"}, &c)
		rtsp = c.Ingest.RTSP
	}
	if !has(scrape(t, n.Base, "camcloud_cameras"), `camcloud_cameras{presence="offline",zone="local"} 3`) {
		t.Fatalf("three offline cameras not counted: %v", scrape(t, n.Base, "camcloud_cameras"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = sim.Push(ctx, []string{rtsp}, smp, slog.New(slog.DiscardHandler)) }()
	want := []string{`camcloud_cameras{presence="online",zone="local"} 1`, `camcloud_cameras{presence="offline",zone="local"} 2`,
		`camcloud_cameras_recording{zone="local"} 1`, `camcloud_camera_health_omitted 1`}
	var lines []string
	testenv.Eventually(t, time.Minute, "one camera online and recorded on /metrics", func() bool {
		lines = scrape(t, n.Base, "camcloud_camera")
		for _, w := range want {
			if !has(lines, w) {
				return false
			}
		}
		return true
	})
	ages := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "camcloud_camera_last_frame_age_seconds{") {
			ages++
		}
	}
	if ages > 2 {
		t.Fatalf("%d per-camera series with a bound of 2: %v", ages, lines)
	}

	plain := apptest.Start(t)
	if l := scrape(t, plain.Base, "camcloud_camera_last_frame_age_seconds"); len(l) != 0 {
		t.Fatalf("per-camera series without the option: %v", l)
	}
	if !has(scrape(t, plain.Base, "camcloud_cameras_recording"), `camcloud_cameras_recording{zone="local"} 0`) {
		t.Fatalf("no recording count by default: %v", scrape(t, plain.Base, "camcloud_cameras"))
	}
}
