package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxPlaylist bounds a playlist the HLS viewer reads.
const maxPlaylist = 4 << 20

// hlsClient is the HTTP side of the LL-HLS viewers.
type hlsClient struct {
	http *http.Client
}

func newHLSClient() *hlsClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4096
	tr.MaxConnsPerHost = 0
	return &hlsClient{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// mediaPlaylist is what a viewer needs of an LL-HLS media playlist.
type mediaPlaylist struct {
	seq      int      // EXT-X-MEDIA-SEQUENCE
	segments []string // URIs of the complete segments
	parts    [][]string
	tail     []string // parts of the segment in progress (msn seq+len(segments))
	hint     string   // EXT-X-PRELOAD-HINT part URI
	initURI  string
}

// parseMedia reads the lines of an LL-HLS media playlist that a player
// follows: the media sequence, the map, segments, parts and the preload
// hint.
func parseMedia(r io.Reader) (*mediaPlaylist, error) {
	p := &mediaPlaylist{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxPlaylist)
	var cur []string
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(l, "#EXT-X-MEDIA-SEQUENCE:"):
			p.seq, _ = strconv.Atoi(strings.TrimPrefix(l, "#EXT-X-MEDIA-SEQUENCE:"))
		case strings.HasPrefix(l, "#EXT-X-MAP:"):
			p.initURI = attr(l, "URI")
		case strings.HasPrefix(l, "#EXT-X-PART:"):
			cur = append(cur, attr(l, "URI"))
		case strings.HasPrefix(l, "#EXT-X-PRELOAD-HINT:"):
			if attr(l, "TYPE") == "PART" {
				p.hint = attr(l, "URI")
			}
		case l != "" && !strings.HasPrefix(l, "#"):
			p.segments = append(p.segments, l)
			p.parts = append(p.parts, cur)
			cur = nil
		}
	}
	p.tail = cur
	return p, sc.Err()
}

// attr is the value of attribute k of an HLS tag line.
func attr(line, k string) string {
	i := strings.Index(line, ":")
	if i < 0 {
		return ""
	}
	rest := line[i+1:]
	for rest != "" {
		var kv string
		if j := strings.Index(rest, "="); j >= 0 && strings.HasPrefix(rest[j+1:], `"`) {
			end := strings.Index(rest[j+2:], `"`)
			if end < 0 {
				return ""
			}
			kv, rest = rest[:j+2+end+1], strings.TrimPrefix(rest[j+2+end+1:], ",")
		} else if c := strings.Index(rest, ","); c >= 0 {
			kv, rest = rest[:c], rest[c+1:]
		} else {
			kv, rest = rest, ""
		}
		name, val, _ := strings.Cut(kv, "=")
		if name == k {
			return strings.Trim(val, `"`)
		}
	}
	return ""
}

// get fetches u and returns its body size (discarding it) or, with keep,
// its body.
func (c *hlsClient) get(ctx context.Context, u string, keep bool) ([]byte, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
		return nil, 0, fmt.Errorf("GET %s: %s", redactURL(u), res.Status)
	}
	if keep {
		b, err := io.ReadAll(io.LimitReader(res.Body, maxPlaylist))
		return b, int64(len(b)), err
	}
	n, err := io.Copy(io.Discard, res.Body)
	return nil, n, err
}

// redactURL drops the query (tokens) from a URL for messages.
func redactURL(u string) string {
	s, _, _ := strings.Cut(u, "?")
	return s
}

// resolve makes ref absolute against base, keeping base's query (the token)
// when ref has none, as players keep what the server wrote.
func resolve(base *url.URL, ref string) (*url.URL, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return nil, err
	}
	return base.ResolveReference(r), nil
}

// withQuery adds the LL-HLS delivery directives to u.
func withQuery(u *url.URL, msn, part int) string {
	v := u.Query()
	v.Set("_HLS_msn", strconv.Itoa(msn))
	v.Set("_HLS_part", strconv.Itoa(part))
	c := *u
	c.RawQuery = v.Encode()
	return c.String()
}

// watchHLS is one LL-HLS viewer of a multivariant playlist until ctx ends,
// as hls.js plays live: it reads the multivariant playlist, then follows
// every media playlist it names (video and audio renditions) with blocking
// reloads (_HLS_msn, _HLS_part), fetching the init section, each new part
// once and the preload hint part while the reload waits.
func (c *hlsClient) watchHLS(ctx context.Context, mvURL string, st *viewerStats, slow bool) error {
	t0 := time.Now()
	body, _, err := c.get(ctx, mvURL, true)
	if err != nil {
		return err
	}
	base, err := url.Parse(mvURL)
	if err != nil {
		return err
	}
	var medias []*url.URL
	for _, l := range strings.Split(string(body), "\n") {
		l = strings.TrimSpace(l)
		ref := ""
		switch {
		case strings.HasPrefix(l, "#EXT-X-MEDIA:"):
			ref = attr(l, "URI")
		case l != "" && !strings.HasPrefix(l, "#"):
			ref = l
		}
		if ref == "" {
			continue
		}
		u, err := resolve(base, ref)
		if err != nil {
			return err
		}
		medias = append(medias, u)
	}
	if len(medias) == 0 {
		return errors.New("the multivariant playlist names no media playlist")
	}
	errc := make(chan error, len(medias))
	for _, m := range medias {
		go func() { errc <- c.followMedia(ctx, m, t0, st, slow) }()
	}
	var first error
	for range medias {
		if err := <-errc; err != nil && first == nil && ctx.Err() == nil {
			first = err
		}
	}
	return first
}

// followMedia plays one media playlist live. slow makes it read each part
// at 2 KB/s (a reader on a bad link).
func (c *hlsClient) followMedia(ctx context.Context, mu *url.URL, t0 time.Time, st *viewerStats, slow bool) error {
	body, _, err := c.get(ctx, mu.String(), true)
	if err != nil {
		return err
	}
	pl, err := parseMedia(strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	if pl.initURI != "" {
		iu, err := resolve(mu, pl.initURI)
		if err != nil {
			return err
		}
		if _, n, err := c.get(ctx, iu.String(), false); err != nil {
			return err
		} else {
			st.part(0, t0)
			st.mu.Lock()
			st.bytes += n
			st.frames--
			st.mu.Unlock()
		}
	}
	fetched := map[string]bool{}
	// Start at the live edge: the parts of the segment in progress.
	queue := append([]string{}, pl.tail...)
	for ctx.Err() == nil {
		for _, p := range queue {
			if fetched[p] {
				continue
			}
			fetched[p] = true
			pu, err := resolve(mu, p)
			if err != nil {
				return err
			}
			if err := c.fetchPart(ctx, pu.String(), t0, st, slow); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				st.fail(err)
			}
		}
		msn, part := pl.seq+len(pl.segments), len(pl.tail)
		// The preload hint is requested while the blocking reload waits,
		// as hls.js does; its bytes come when the part is complete.
		hintDone := make(chan string, 1)
		if pl.hint != "" && !fetched[pl.hint] {
			h := pl.hint
			fetched[h] = true
			go func() {
				hu, err := resolve(mu, h)
				if err == nil {
					err = c.fetchPart(ctx, hu.String(), t0, st, slow)
				}
				if err != nil && ctx.Err() == nil {
					st.fail(err)
				}
				hintDone <- h
			}()
		} else {
			hintDone <- ""
		}
		body, _, err := c.get(ctx, withQuery(mu, msn, part), true)
		<-hintDone
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			st.fail(err)
			if err := sleep(ctx, 200*time.Millisecond); err != nil {
				return nil
			}
			continue
		}
		npl, err := parseMedia(strings.NewReader(string(body)))
		if err != nil {
			return err
		}
		queue = queue[:0]
		// Every part since the one asked for, in order; parts that left
		// the playlist before being fetched are missed.
		for i := range npl.segments {
			if npl.seq+i >= msn {
				queue = append(queue, npl.parts[i]...)
			}
		}
		queue = append(queue, npl.tail...)
		if npl.seq+len(npl.segments) > msn+8 {
			st.miss(1)
		}
		pl = npl
		if len(fetched) > 4096 {
			fetched = map[string]bool{}
			for _, p := range queue {
				fetched[p] = false
			}
			delete(fetched, "")
		}
	}
	return nil
}

// fetchPart gets one part and counts it.
func (c *hlsClient) fetchPart(ctx context.Context, u string, t0 time.Time, st *viewerStats, slow bool) error {
	if !slow {
		_, n, err := c.get(ctx, u, false)
		if err == nil {
			st.part(n, t0)
		}
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var n int64
	buf := make([]byte, 256)
	for {
		k, err := res.Body.Read(buf)
		n += int64(k)
		if err != nil {
			break
		}
		if sleep(ctx, 125*time.Millisecond) != nil {
			return ctx.Err()
		}
	}
	st.part(n, t0)
	return nil
}
