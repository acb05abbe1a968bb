package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/camcloud/camcloud/internal/sample"
)

// Bounds and defaults of a run.
const (
	maxCameras      = 100000
	defaultPullAddr = "127.0.0.1:8555"
	progressPeriod  = 10 * time.Second
)

// RunConfig configures the camcloud sim command.
type RunConfig struct {
	// API is the base URL of camcloud, e.g. http://127.0.0.1:8080.
	API string
	// Token is the bearer token (session token or API key).
	Token string
	// OrgID owns the cameras created.
	OrgID string
	// Cameras is how many cameras to create and run.
	Cameras int
	// Protocol is "rtsp", "rtmp" or "pull".
	Protocol string
	// Ingest optionally overrides the host:port of the ingest URLs the API
	// returns; each camera gets the whole list, starting at a different entry.
	Ingest []string
	// SamplePath is the MPEG-TS sample to loop; Sample, when set, is used
	// instead (the sample embedded in the binary).
	SamplePath string
	Sample     *sample.Sample
	// PullAddr is where pulled cameras are served (host:port reachable by
	// the camera servers; default 127.0.0.1:8555).
	PullAddr string
	// StopGrace, when positive, makes each pushing camera stop sending when
	// ctx ends and keep its session open this long before closing it, so
	// that everything counted as sent reaches the server (load benchmarks
	// compare frames sent with frames recorded).
	StopGrace time.Duration
	// Log receives progress; optional.
	Log *slog.Logger
	// HTTPClient talks to the API; optional.
	HTTPClient *http.Client
}

// Runner creates simulated cameras through the API and runs them.
type Runner struct {
	cfg RunConfig

	mu   sync.Mutex
	cams []*runCamera
}

// runCamera is one camera of a run.
type runCamera struct {
	id    string
	stats *Stats
}

// NewRunner checks c.
func NewRunner(c RunConfig) (*Runner, error) {
	if c.Cameras < 1 || c.Cameras > maxCameras {
		return nil, fmt.Errorf("sim: cameras must be within 1..%d", maxCameras)
	}
	switch c.Protocol {
	case "rtsp", "rtmp", "pull":
	default:
		return nil, fmt.Errorf("sim: protocol %q: want rtsp, rtmp or pull", c.Protocol)
	}
	if c.API == "" || c.OrgID == "" || (c.SamplePath == "" && c.Sample == nil) {
		return nil, errors.New("sim: API, OrgID and a sample are required")
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.PullAddr == "" {
		c.PullAddr = defaultPullAddr
	}
	return &Runner{cfg: c}, nil
}

// Run creates c.Cameras cameras through the API and pushes (or serves) them
// until ctx ends.
func Run(ctx context.Context, c RunConfig) error {
	r, err := NewRunner(c)
	if err != nil {
		return err
	}
	return r.Run(ctx)
}

// Stats returns a snapshot of every camera's counters.
func (r *Runner) Stats() []Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Snapshot, len(r.cams))
	for i, c := range r.cams {
		out[i] = c.stats.Snapshot()
		out[i].CameraID = c.id
	}
	return out
}

// Run creates the cameras and runs them until ctx ends. It returns nil when
// ctx ends, or the first setup error.
func (r *Runner) Run(ctx context.Context) error {
	c := r.cfg
	smp := c.Sample
	var err error
	if smp == nil {
		if smp, err = sample.Load(c.SamplePath); err != nil {
			return err
		}
	}
	api := &apiClient{base: c.API, token: c.Token, http: c.HTTPClient}

	var ps *PullServer
	if c.Protocol == "pull" {
		ps, err = ServePull(c.PullAddr, c.Cameras, smp, c.Log)
		if err != nil {
			return err
		}
		defer ps.Close()
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	for i := 0; i < c.Cameras; i++ {
		req := createCameraRequest{OrgID: c.OrgID, Name: fmt.Sprintf("sim-%d", i),
			Source: cameraSource{Type: "push"}, RetentionDays: 7, Recording: "continuous"}
		if ps != nil {
			req.Source = cameraSource{Type: "pull", URL: ps.URL(i)}
		}
		cam, err := api.createCamera(ctx, req)
		if err != nil {
			return fmt.Errorf("sim: camera %d: %w", i, err)
		}
		rc := &runCamera{id: cam.ID, stats: &Stats{}}
		if ps != nil {
			rc.stats = ps.Stats(i)
		}
		r.mu.Lock()
		r.cams = append(r.cams, rc)
		r.mu.Unlock()
		if ps != nil {
			continue
		}
		u := cam.Ingest.RTSPURL
		if c.Protocol == "rtmp" {
			u = cam.Ingest.RTMPURL
		}
		urls, err := ingestURLs(u, c.Ingest, i)
		if err != nil {
			return fmt.Errorf("sim: camera %s: %w", cam.ID, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = pushStats(ctx, urls, smp, c.Log.With("camera", rc.id), rc.stats, c.StopGrace)
		}()
	}
	c.Log.Info("sim cameras created", "cameras", c.Cameras, "protocol", c.Protocol)
	r.progress(ctx)
	return nil
}

// progress logs the totals until ctx ends.
func (r *Runner) progress(ctx context.Context) {
	t := time.NewTicker(progressPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var up, frames, reconnects int64
		stats := r.Stats()
		for _, s := range stats {
			if s.Connected {
				up++
			}
			frames += s.Frames
			reconnects += s.Reconnects
		}
		r.cfg.Log.Info("sim progress", "cameras", len(stats), "up", up, "frames", frames, "reconnects", reconnects)
	}
}

// ingestURLs returns u, or u with its host replaced by each override,
// starting at override k mod len.
func ingestURLs(u string, overrides []string, k int) ([]string, error) {
	if u == "" {
		return nil, errors.New("the API returned no ingest URL")
	}
	if len(overrides) == 0 {
		return []string{u}, nil
	}
	pu, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(overrides))
	for j := range overrides {
		v := *pu
		v.Host = overrides[(k+j)%len(overrides)]
		if o, err := url.Parse(v.Host); err == nil && o.Host != "" { // "rtsp://host:port" given
			v.Host = o.Host
		}
		out[j] = v.String()
	}
	return out, nil
}
