package ingest_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"

	"github.com/camcloud/camcloud/internal/ingest"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestRefusedBeforeMedia checks that bad credentials and paths are refused at
// ANNOUNCE (RTSP) or publish (RTMP), and that the hub never sees a stream.
func TestRefusedBeforeMedia(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	var logged testenv.LogBuffer
	e := startServer(t, func(c *ingest.Config) { c.Log = slog.New(slog.NewTextHandler(&logged, nil)) })
	published := noPublish(e.hub)
	cases := []struct {
		name, id, secret, path string
		rtspStatus             string
	}{
		{name: "wrong secret", id: camID, secret: "nope", rtspStatus: "401"},
		{name: "unknown camera", id: "ghost", secret: secret, rtspStatus: "404"},
		{name: "other camera's secret", id: "cam2", secret: secret, rtspStatus: "401"},
		{name: "not an ingest path", path: "/live/" + camID + "/" + secret, rtspStatus: "404"},
	}
	for _, c := range cases {
		rtspURL, rtmpURL := e.urls(c.id, c.secret)
		if c.path != "" {
			rtspURL = "rtsp://" + e.srv.RTSPAddr() + c.path
			rtmpURL = "rtmp://" + e.srv.RTMPAddr() + c.path
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := sim.PublishOnce(ctx, rtspURL, smp, nil)
		if err == nil || !strings.Contains(err.Error(), c.rtspStatus) {
			t.Errorf("%s: rtsp publish error = %v, want status %s", c.name, err, c.rtspStatus)
		}
		err = sim.PublishOnce(ctx, rtmpURL, smp, nil)
		if err == nil || ctx.Err() != nil {
			t.Errorf("%s: rtmp publish error = %v, want a refusal", c.name, err)
		}
		cancel()
	}
	if got := published(); len(got) != 0 || len(e.hub.Cameras()) != 0 {
		t.Fatalf("hub saw streams %v", got)
	}
	if on, _, _ := e.ev.counts(camID); on != 0 {
		t.Fatalf("Online reported %d times", on)
	}
	// The refusal of a wrong path says which path was tried, not its secret.
	log := logged.String()
	for _, proto := range []string{"rtsp", "rtmp"} {
		if !strings.Contains(log, proto+` publish refused: not an ingest path" remote=`) || !strings.Contains(log, `path="/live/<4 chars>/<6 chars>"`) {
			t.Errorf("%s refusal of a wrong path not logged with the path:\n%s", proto, log)
		}
	}
	if strings.Contains(log, secret) {
		t.Errorf("the log shows the secret:\n%s", log)
	}
}

// TestUnsupportedCodecRefused announces video the recorder cannot store.
func TestUnsupportedCodecRefused(t *testing.T) {
	t.Parallel()
	e := startServer(t, nil)
	published := noPublish(e.hub)
	u, _ := e.urls(camID, secret)
	for _, f := range []format.Format{
		&format.MJPEG{},
		&format.VP8{PayloadTyp: 96},
	} {
		desc := &description.Session{Medias: []*description.Media{
			{Type: description.MediaTypeVideo, Formats: []format.Format{f}},
			{Type: description.MediaTypeAudio, Formats: []format.Format{&format.G711{PayloadTyp: 0, MULaw: true, SampleRate: 8000, ChannelCount: 1}}},
		}}
		tcp := gortsplib.ProtocolTCP
		c := &gortsplib.Client{Protocol: &tcp}
		err := c.StartRecording(u, desc)
		if err == nil {
			c.Close()
			t.Fatalf("%s accepted", fmt.Sprintf("%T", f))
		}
		if !strings.Contains(err.Error(), "415") {
			t.Errorf("%s: error %v, want 415", fmt.Sprintf("%T", f), err)
		}
	}
	if got := published(); len(got) != 0 {
		t.Fatalf("hub saw streams %v", got)
	}
}

// TestReadingRefused checks that DESCRIBE and RTMP play are refused: live
// viewing is served elsewhere.
func TestReadingRefused(t *testing.T) {
	t.Parallel()
	e := startServer(t, nil)
	rtspURL, rtmpURL := e.urls(camID, secret)
	u, err := url.Parse(rtspURL)
	if err != nil {
		t.Fatal(err)
	}
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bu, _ := parseBaseURL(rtspURL)
	if _, _, err := c.Describe(bu); err == nil {
		t.Fatal("DESCRIBE accepted")
	}
	ru, _ := url.Parse(rtmpURL)
	rc := &gortmplib.Client{URL: ru, Publish: false}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rc.Initialize(ctx); err == nil {
		rc.Close()
		t.Fatal("RTMP play accepted")
	}
}
