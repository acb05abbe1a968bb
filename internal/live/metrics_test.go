package live

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/hub"
)

// testCounter reads a counter's value.
func testCounter(c prometheus.Counter) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

// TestMetricsRegister: every series registers and gathers under
// camcloud_live_*.
func TestMetricsRegister(t *testing.T) {
	reg := prometheus.NewRegistry()
	key := make([]byte, 32)
	sig, _ := auth.NewSigner(key)
	svc := New(Deps{Hub: hub.New(), Signer: sig, Registerer: reg})
	defer svc.Close()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, mf := range mfs {
		names[mf.GetName()] = len(mf.GetMetric())
	}
	for _, n := range []string{"camcloud_live_muxers", "camcloud_live_viewers", "camcloud_live_webrtc_sessions_total"} {
		if names[n] == 0 {
			t.Errorf("%s missing (%v)", n, names)
		}
	}
	if names["camcloud_live_viewers"] != 2 {
		t.Errorf("viewers series: %d, want hls and webrtc", names["camcloud_live_viewers"])
	}
}
