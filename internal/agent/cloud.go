package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// ErrRefused is the cloud's 401: the credential is revoked or rotated
// away (or the enrolment token used or expired). The agent keeps
// recording locally and says so loudly; it cannot upload until enrolled
// again.
var ErrRefused = errors.New("agent: the cloud refused the site credential (revoked?): enrol again with a new enrolment token")

// cloud is the agent's client of the cloud's agent API.
type cloud struct {
	base string
	http *http.Client
	// credFile keeps the site credential (mode 0600).
	credFile string
	cred     atomic.Pointer[string]
}

// credential is the site credential ("" before enrolment).
func (c *cloud) credential() string {
	if p := c.cred.Load(); p != nil {
		return *p
	}
	return ""
}

// maxAnswer bounds what the agent reads of an answer.
const maxAnswer = 1 << 20

func newCloud(base, dataDir string) *cloud {
	return &cloud{base: base, http: &http.Client{Timeout: 15 * time.Second}, credFile: filepath.Join(dataDir, "credential")}
}

// enrol loads the stored credential, enrolling with token first when
// there is none.
func (c *cloud) enrol(ctx context.Context, token string) error {
	if b, err := os.ReadFile(c.credFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
		cred := string(bytes.TrimSpace(b))
		c.cred.Store(&cred)
		return nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if token == "" {
		return errors.New("agent: not enrolled: set enrolment_token (from POST /api/v1/sites) for the first start")
	}
	var out struct {
		SiteID     string `json:"site_id"`
		Credential string `json:"credential"`
	}
	if err := c.call(ctx, "/api/v1/agent/enrol", "", map[string]string{"token": token}, &out); err != nil {
		return fmt.Errorf("agent: enrolment: %w", err)
	}
	tmp := c.credFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(out.Credential+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, c.credFile); err != nil {
		return err
	}
	c.cred.Store(&out.Credential)
	return nil
}

// heartbeatReport is what the agent tells the cloud every heartbeat.
type heartbeatReport struct {
	AgentVersion   string  `json:"agent_version"`
	BufferUsed     int64   `json:"buffer_used_bytes"`
	BufferMax      int64   `json:"buffer_max_bytes"`
	BacklogSeconds float64 `json:"backlog_seconds"`
	BacklogBytes   int64   `json:"backlog_bytes"`
	UploadBPS      int64   `json:"upload_bps"`
}

// heartbeat sends rep and returns the ids of the site's cameras.
func (c *cloud) heartbeat(ctx context.Context, rep heartbeatReport) ([]string, error) {
	var out struct {
		Cameras []struct {
			ID string `json:"id"`
		} `json:"cameras"`
	}
	if err := c.call(ctx, "/api/v1/agent/heartbeat", c.credential(), rep, &out); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(out.Cameras))
	for _, cam := range out.Cameras {
		ids = append(ids, cam.ID)
	}
	return ids, nil
}

// call POSTs body as JSON to path and decodes the answer into out.
func (c *cloud) call(ctx context.Context, path, cred string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req, path, cred, out)
}

// do sends req (with cred, if any) and decodes a 2xx answer into out.
func (c *cloud) do(req *http.Request, path, cred string, out any) error {
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return err
	}
	switch {
	case res.StatusCode == http.StatusUnauthorized:
		return ErrRefused
	case res.StatusCode/100 != 2:
		return fmt.Errorf("agent: %s: %d %s", path, res.StatusCode, strings.TrimSpace(string(raw)))
	}
	return json.Unmarshal(raw, out)
}
