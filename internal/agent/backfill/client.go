package backfill

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// Client speaks the cloud's agent backfill API (docs/api.md, "Sites and
// edge agents") with the site credential.
type Client struct {
	base string
	http *http.Client
	cred func() string
}

// NewClient makes a client of the cloud at base (its API's base URL);
// cred tells the site credential at each call.
func NewClient(base string, cred func() string) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	// No overall timeout: a chunk sent under a low cap takes long. The
	// answer must start within a minute of the request's end, and every
	// call carries its own context.
	tr.ResponseHeaderTimeout = time.Minute
	return &Client{base: strings.TrimRight(base, "/"), http: &http.Client{Transport: tr}, cred: cred}
}

// Errors of the protocol the worker acts on.
var (
	// ErrUnauthorized is the cloud's 401: the credential is refused.
	ErrUnauthorized = errors.New("backfill: the cloud refused the site credential")
	// ErrNotMissing is 409 not_missing: the cloud has the segment's time,
	// or it is outside a gap; skip it.
	ErrNotMissing = errors.New("backfill: the cloud does not lack this segment")
	// ErrUploadGone is a 404 for an upload id: the cloud forgot the upload
	// (expired); start again.
	ErrUploadGone = errors.New("backfill: the cloud no longer knows this upload")
)

// RefusedError is the cloud refusing a segment for good (400, 413, 422):
// it is not sent again.
type RefusedError struct {
	Status  int
	Code    string
	Message string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("backfill: the cloud refused the segment: %d %s: %s", e.Status, e.Code, e.Message)
}

// OffsetMismatch is 409 offset_mismatch: the cloud holds Offset bytes of
// the upload; continue from there.
type OffsetMismatch struct{ Offset int64 }

func (e *OffsetMismatch) Error() string {
	return fmt.Sprintf("backfill: the cloud holds %d bytes of the upload", e.Offset)
}

// Missing asks which parts of [from, to) of cam the cloud lacks.
func (c *Client) Missing(ctx context.Context, cam string, from, to time.Time) ([]store.Span, error) {
	var out struct {
		Missing []store.Span `json:"missing"`
	}
	q := "?from=" + url.QueryEscape(from.UTC().Format(time.RFC3339Nano)) + "&to=" + url.QueryEscape(to.UTC().Format(time.RFC3339Nano))
	res, raw, err := c.send(ctx, http.MethodGet, "/api/v1/agent/cameras/"+url.PathEscape(cam)+"/missing"+q, nil, nil)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, answerError(res, raw)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("backfill: missing answer: %w", err)
	}
	return out.Missing, nil
}

// Segment is what the agent tells the cloud of a segment it offers.
type Segment struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Size   int64     `json:"size"`
	SHA256 string    `json:"sha256"`
	// Init is the init segment the segment object needs (its codec
	// configuration), sent inline with the offer.
	Init []byte `json:"init"`
}

// MaxInit bounds an init segment (the cloud's bound too).
const MaxInit = 32 << 10

// Offer is the cloud's answer to an offered segment: Stored (it has it
// already), or an upload to continue from Offset in pieces of at most
// Chunk bytes.
type Offer struct {
	Stored bool
	ID     string
	Offset int64
	Size   int64
	Chunk  int64
}

// maxChunk bounds the chunk size the agent takes from the cloud (it holds
// a chunk in memory).
const maxChunk = 64 << 20

// Create offers a segment of cam to the cloud.
func (c *Client) Create(ctx context.Context, cam string, s Segment) (Offer, error) {
	body, err := json.Marshal(map[string]any{"start": s.Start.UTC().Format(time.RFC3339Nano), "end": s.End.UTC().Format(time.RFC3339Nano),
		"size": s.Size, "sha256": s.SHA256, "init": s.Init})
	if err != nil {
		return Offer{}, err
	}
	res, raw, err := c.send(ctx, http.MethodPost, "/api/v1/agent/cameras/"+url.PathEscape(cam)+"/uploads", bytes.NewReader(body),
		http.Header{"Content-Type": {"application/json"}})
	if err != nil {
		return Offer{}, err
	}
	var out struct {
		Status string `json:"status"`
		ID     string `json:"upload_id"`
		Offset int64  `json:"offset"`
		Size   int64  `json:"size"`
		Chunk  int64  `json:"chunk_size"`
	}
	switch res.StatusCode {
	case http.StatusOK, http.StatusCreated:
		if err := json.Unmarshal(raw, &out); err != nil {
			return Offer{}, fmt.Errorf("backfill: offer answer: %w", err)
		}
		if out.Status == "stored" {
			return Offer{Stored: true}, nil
		}
		if out.ID == "" || out.Offset < 0 || out.Offset > s.Size || out.Chunk <= 0 {
			return Offer{}, fmt.Errorf("backfill: offer answer without a usable upload: %s", truncate(raw))
		}
		return Offer{ID: out.ID, Offset: out.Offset, Size: out.Size, Chunk: min(out.Chunk, maxChunk)}, nil
	case http.StatusConflict:
		if code, msg := errorOf(raw); code == "not_missing" {
			return Offer{}, fmt.Errorf("%w: %s", ErrNotMissing, msg)
		}
	}
	return Offer{}, answerError(res, raw)
}

// Patch sends body, the bytes of an upload from offset on. It returns the
// cloud's new offset and whether the segment is now stored.
func (c *Client) Patch(ctx context.Context, id string, offset int64, body io.Reader, n int64) (int64, bool, error) {
	h := http.Header{"Upload-Offset": {strconv.FormatInt(offset, 10)}, "Content-Type": {"application/offset+octet-stream"}}
	res, raw, err := c.sendSized(ctx, http.MethodPatch, "/api/v1/agent/uploads/"+url.PathEscape(id), body, n, h)
	if err != nil {
		return 0, false, err
	}
	switch res.StatusCode {
	case http.StatusCreated:
		return offset + n, true, nil
	case http.StatusNoContent, http.StatusOK:
		got, err := headerOffset(res)
		return got, false, err
	case http.StatusConflict:
		if code, _ := errorOf(raw); code == "offset_mismatch" {
			got, err := headerOffset(res)
			if err != nil {
				return 0, false, err
			}
			return 0, false, &OffsetMismatch{Offset: got}
		}
	case http.StatusNotFound, http.StatusGone:
		return 0, false, ErrUploadGone
	}
	return 0, false, answerError(res, raw)
}

// Head asks how many bytes of an upload the cloud holds, and its length.
func (c *Client) Head(ctx context.Context, id string) (offset, length int64, err error) {
	res, raw, err := c.send(ctx, http.MethodHead, "/api/v1/agent/uploads/"+url.PathEscape(id), nil, nil)
	if err != nil {
		return 0, 0, err
	}
	switch res.StatusCode {
	case http.StatusOK, http.StatusNoContent:
		if offset, err = headerOffset(res); err != nil {
			return 0, 0, err
		}
		length, err = strconv.ParseInt(res.Header.Get("Upload-Length"), 10, 64)
		if err != nil {
			return 0, 0, errors.New("backfill: the cloud's Upload-Length is not a number")
		}
		return offset, length, nil
	case http.StatusNotFound, http.StatusGone:
		return 0, 0, ErrUploadGone
	}
	return 0, 0, answerError(res, raw)
}

// LostReport tells the cloud of adjacent segments the ring buffer
// dropped before the cloud had them.
type LostReport struct {
	Start    time.Time
	End      time.Time
	Segments int
	Bytes    int64
}

// Lost reports a lost range of cam.
func (c *Client) Lost(ctx context.Context, cam string, r LostReport) error {
	body, err := json.Marshal(map[string]any{"start": r.Start.UTC().Format(time.RFC3339Nano), "end": r.End.UTC().Format(time.RFC3339Nano),
		"reason": "ring_full", "segments": r.Segments, "bytes": r.Bytes})
	if err != nil {
		return err
	}
	res, raw, err := c.send(ctx, http.MethodPost, "/api/v1/agent/cameras/"+url.PathEscape(cam)+"/lost", bytes.NewReader(body),
		http.Header{"Content-Type": {"application/json"}})
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return answerError(res, raw)
	}
	return nil
}

// maxAnswer bounds what is read of an answer.
const maxAnswer = 1 << 20

func (c *Client) send(ctx context.Context, method, path string, body io.Reader, h http.Header) (*http.Response, []byte, error) {
	return c.sendSized(ctx, method, path, body, -1, h)
}

// sendSized sends a request (n, when 0 or more, is the body's length)
// and reads the answer.
func (c *Client) sendSized(ctx context.Context, method, path string, body io.Reader, n int64, h http.Header) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if n >= 0 {
		req.ContentLength = n
		if n == 0 {
			req.Body = http.NoBody
		}
	}
	if cred := c.cred(); cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return nil, nil, err
	}
	if res.StatusCode == http.StatusUnauthorized {
		return nil, nil, ErrUnauthorized
	}
	return res, raw, nil
}

// headerOffset reads the Upload-Offset of an answer.
func headerOffset(res *http.Response) (int64, error) {
	n, err := strconv.ParseInt(res.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("backfill: the cloud answered %d without a usable Upload-Offset", res.StatusCode)
	}
	return n, nil
}

// errorOf reads the code and message of an error answer.
func errorOf(raw []byte) (code, msg string) {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &e) != nil {
		return "", truncate(raw)
	}
	return e.Error.Code, e.Error.Message
}

// answerError is the error of an answer the worker has no case for: a
// RefusedError for the statuses that refuse a segment for good, else a
// plain error (retried later).
func answerError(res *http.Response, raw []byte) error {
	code, msg := errorOf(raw)
	switch res.StatusCode {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return &RefusedError{Status: res.StatusCode, Code: code, Message: msg}
	}
	return &StatusError{Status: res.StatusCode, Code: code, Message: msg, Call: res.Request.Method + " " + res.Request.URL.Path}
}

// StatusError is an answer the worker has no case for (retried later).
type StatusError struct {
	Status        int
	Code, Message string
	Call          string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("backfill: %s: %d %s %s", e.Call, e.Status, e.Code, e.Message)
}

func truncate(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
