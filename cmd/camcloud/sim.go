package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	camcloud "github.com/camcloud/camcloud"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/sim"
)

// simCmd runs simulated cameras against a camcloud API: it creates the
// cameras through the API and pushes (or serves, for pull) a real looping
// H.264 + AAC stream to each, reconnecting like real cameras.
func simCmd(args []string) int {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	c := sim.RunConfig{}
	var email, password, ingest, samplePath, scene string
	var dur time.Duration
	fs.IntVar(&c.Cameras, "cameras", 1, "number of simulated cameras")
	fs.StringVar(&c.API, "api", "http://127.0.0.1:8080", "base URL of the camcloud API")
	fs.StringVar(&c.Token, "token", "", "bearer token or API key (or give --email and --password)")
	fs.StringVar(&email, "email", "", "log in with this email when no --token is given")
	fs.StringVar(&password, "password", "", "password for --email")
	fs.StringVar(&c.OrgID, "org", "", "organisation that owns the cameras (default: the first of the user's)")
	fs.StringVar(&c.Protocol, "protocol", "rtsp", "rtsp or rtmp (cameras push), or pull (camcloud pulls from sim)")
	fs.StringVar(&ingest, "ingest", "", "comma-separated host:port list overriding the ingest address (cameras fail over along it)")
	fs.StringVar(&samplePath, "sample", "", "MPEG-TS file to loop (default: the built-in sample of --scene)")
	fs.StringVar(&scene, "scene", "pattern", "built-in sample to loop: pattern (720p test pattern) or moving (an object crosses the picture for 5 s every 30 s: motion events)")
	fs.StringVar(&c.PullAddr, "pull-addr", "127.0.0.1:8555", "where pulled cameras are served")
	fs.DurationVar(&dur, "duration", 0, "stop after this long (default: until interrupted)")
	for _, f := range []string{"cameras", "api", "token", "email", "password", "org", "protocol", "ingest", "sample", "scene", "pull-addr", "duration"} {
		if v, ok := os.LookupEnv(config.EnvName("sim-" + f)); ok {
			_ = fs.Set(f, v)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	log := newLogger("info")
	if ingest != "" {
		c.Ingest = strings.Split(ingest, ",")
	}
	var err error
	if samplePath != "" {
		c.SamplePath = samplePath
	} else if b, ok := camcloud.Scene(scene); !ok {
		fmt.Fprintf(os.Stderr, "camcloud sim: --scene %q: want pattern or moving\n", scene)
		return 2
	} else if c.Sample, err = sample.Parse(b); err != nil {
		fmt.Fprintln(os.Stderr, "camcloud sim: built-in sample:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, dur)
		defer cancel()
	}
	if c.Token == "" {
		if c.Token, err = simLogin(ctx, c.API, email, password); err != nil {
			fmt.Fprintln(os.Stderr, "camcloud sim:", err)
			return 1
		}
	}
	if c.OrgID == "" {
		if c.OrgID, err = firstOrg(ctx, c.API, c.Token); err != nil {
			fmt.Fprintln(os.Stderr, "camcloud sim:", err)
			return 1
		}
	}
	c.Log = log
	if err := sim.Run(ctx, c); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintln(os.Stderr, "camcloud sim:", err)
		return 1
	}
	return 0
}

func simLogin(ctx context.Context, api, email, password string) (string, error) {
	if email == "" || password == "" {
		return "", errors.New("give --token, or --email and --password")
	}
	var out struct{ Token string }
	if err := simAPI(ctx, api, "", "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, &out); err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	return out.Token, nil
}

func firstOrg(ctx context.Context, api, token string) (string, error) {
	var me struct {
		Memberships []struct {
			OrgID string `json:"org_id"`
			Role  string `json:"role"`
		} `json:"memberships"`
	}
	if err := simAPI(ctx, api, token, "GET", "/api/v1/me", nil, &me); err != nil {
		return "", err
	}
	for _, m := range me.Memberships {
		if m.Role == "owner" || m.Role == "admin" {
			return m.OrgID, nil
		}
	}
	return "", errors.New("the user is not an owner or admin of any organisation: give --org")
}

func simAPI(ctx context.Context, api, token, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(api, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, bytes.TrimSpace(raw))
	}
	return json.Unmarshal(raw, out)
}
