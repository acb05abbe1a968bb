package playback

import (
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

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/store"
)

// Bounds of an api node's requests to a holder.
const (
	// holderTimeout bounds a listing (on top of the holder's wait) and the
	// wait for the headers of an object read.
	holderTimeout = 2 * time.Second
	// maxListingBytes bounds a listing's body.
	maxListingBytes = 32 << 20
	// holderTokenLife is the lifetime of the token of one request.
	holderTokenLife = time.Minute
	// minHolderRate: an object read may take as long as reading it at this
	// many bytes a second, plus holderTimeout.
	minHolderRate = 1 << 20
)

// newHolderClient is the HTTP client of the requests to holders: no
// proxy, no redirects, bounded dials and waits for headers.
func newHolderClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: holderTimeout}).DialContext,
			ResponseHeaderTimeout: holderTimeout + holderWait,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// holderSource reads a camera's spool on the camera server that holds it,
// through its holder routes (holder.go), with a playback token of the
// camera and range signed for each request.
type holderSource struct {
	base, cam string // base: the server's registered Addr
	from, to  time.Time
	subject   string
	signer    *auth.Signer
	hc        *http.Client
	now       func() time.Time
}

// get sends a GET of path (under the camera's spool routes) with a fresh
// token, the query q and the headers h.
func (h *holderSource) get(ctx context.Context, path, q string, hdr http.Header) (*http.Response, error) {
	tok, err := h.signer.Sign(auth.MediaClaims{CameraID: h.cam, Perm: authz.PermPlayback, From: h.from, To: h.to,
		Subject: h.subject, Expires: h.now().Add(holderTokenLife)})
	if err != nil {
		return nil, err
	}
	u := strings.TrimRight(h.base, "/") + "/media/v1/spool/" + url.PathEscape(h.cam) + path + "?token=" + url.QueryEscape(tok) + q
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	return h.hc.Do(req)
}

// answerErr turns a holder's error answer into an error, reading a little
// of its body for the message.
func answerErr(res *http.Response) error {
	if res.StatusCode == http.StatusNotFound {
		return errNotSpooled
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	return fmt.Errorf("holder answered %s: %s", res.Status, strings.TrimSpace(string(b)))
}

func (h *holderSource) segments(ctx context.Context, wait bool) ([]store.Segment, error) {
	limit := holderTimeout
	q := ""
	if wait {
		limit += holderWait
		q = "&wait=1"
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	res, err := h.get(ctx, "/segments", q, nil)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, answerErr(res)
	}
	var body spooledJSON
	dec := json.NewDecoder(io.LimitReader(res.Body, maxListingBytes))
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("holder listing: %w", err)
	}
	return fromWire(h.cam, body.Segments)
}

func (h *holderSource) getRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if off < 0 {
		return nil, errors.New("playback: negative offset")
	}
	rng := "bytes=" + strconv.FormatInt(off, 10) + "-"
	if n >= 0 {
		if n == 0 {
			return io.NopCloser(strings.NewReader("")), nil
		}
		rng += strconv.FormatInt(off+n-1, 10)
	}
	budget := holderTimeout + time.Duration(n/minHolderRate)*time.Second
	if n < 0 {
		budget = holderTimeout + time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	res, err := h.get(ctx, "/obj/"+escapeKey(key), "", http.Header{"Range": {rng}})
	if err != nil {
		cancel()
		return nil, err
	}
	if res.StatusCode != http.StatusPartialContent && !(res.StatusCode == http.StatusOK && off == 0 && n < 0) {
		err := answerErr(res)
		res.Body.Close()
		cancel()
		return nil, err
	}
	if n >= 0 && res.ContentLength != n {
		res.Body.Close()
		cancel()
		return nil, fmt.Errorf("holder sent %d bytes of %s, want %d", res.ContentLength, key, n)
	}
	return cancelOnClose{ReadCloser: res.Body, cancel: cancel}, nil
}

func (h *holderSource) getInit(ctx context.Context, key string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*holderTimeout)
	defer cancel()
	res, err := h.get(ctx, "/obj/"+escapeKey(key), "", nil)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, answerErr(res)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxInit+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxInit {
		return nil, fmt.Errorf("holder's init segment %s is over %d bytes", key, maxInit)
	}
	return b, nil
}

// cancelOnClose ends a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

// Close closes the body and cancels the request.
func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
