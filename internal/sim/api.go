package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxAPIResponse bounds the API responses read.
const maxAPIResponse = 1 << 20

// apiClient creates cameras through the public camcloud API.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

// cameraSource is the source of a camera in the API.
type cameraSource struct {
	Type string `json:"type"`
	URL  string `json:"url,omitempty"`
}

// createCameraRequest is the body of POST /api/v1/cameras.
type createCameraRequest struct {
	OrgID         string       `json:"org_id"`
	Name          string       `json:"name"`
	Source        cameraSource `json:"source"`
	RetentionDays int          `json:"retention_days"`
	Recording     string       `json:"recording"`
}

// createdCamera is the part of the 201 response the simulator needs.
type createdCamera struct {
	ID     string `json:"id"`
	Ingest struct {
		RTSPURL string `json:"rtsp_url"`
		RTMPURL string `json:"rtmp_url"`
	} `json:"ingest"`
}

// apiError is the API's error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// createCamera registers one camera and returns its id and ingest URLs.
func (c *apiClient) createCamera(ctx context.Context, req createCameraRequest) (*createdCamera, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.base, "/")+"/api/v1/cameras", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(hr)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAPIResponse))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusCreated {
		var e apiError
		if json.Unmarshal(raw, &e) == nil && e.Error.Code != "" {
			return nil, fmt.Errorf("create camera: %s: %s: %s", res.Status, e.Error.Code, e.Error.Message)
		}
		return nil, fmt.Errorf("create camera: %s", res.Status)
	}
	var out createdCamera
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("create camera: bad response: %w", err)
	}
	if out.ID == "" {
		return nil, fmt.Errorf("create camera: response without id")
	}
	return &out, nil
}
