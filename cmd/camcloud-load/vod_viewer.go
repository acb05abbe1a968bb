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
	"sync"
	"time"
)

// maxVODSegments bounds the segments of one VOD playlist the viewer plays.
const maxVODSegments = 50000

// vodSegment is one media segment of a VOD playlist: its init section, its
// duration and its byte range (length -1: the whole object).
type vodSegment struct {
	init     string
	uri      string
	dur      time.Duration
	off, len int64
}

// parseVOD reads the segments of an HLS VOD playlist (EXT-X-MAP, EXTINF,
// EXT-X-BYTERANGE and the URI lines), as a player needs them.
func parseVOD(r io.Reader) ([]vodSegment, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxPlaylist)
	var out []vodSegment
	cur := vodSegment{len: -1}
	var next int64 // where a BYTERANGE without @offset starts
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(l, "#EXT-X-MAP:"):
			cur.init = attr(l, "URI")
		case strings.HasPrefix(l, "#EXTINF:"):
			v, _, _ := strings.Cut(strings.TrimPrefix(l, "#EXTINF:"), ",")
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 3600 {
				return nil, fmt.Errorf("bad EXTINF %q", l)
			}
			cur.dur = time.Duration(f * float64(time.Second))
		case strings.HasPrefix(l, "#EXT-X-BYTERANGE:"):
			n, o, at := strings.Cut(strings.TrimPrefix(l, "#EXT-X-BYTERANGE:"), "@")
			ln, err := strconv.ParseInt(n, 10, 64)
			if err != nil || ln <= 0 {
				return nil, fmt.Errorf("bad EXT-X-BYTERANGE %q", l)
			}
			cur.len, cur.off = ln, next
			if at {
				if cur.off, err = strconv.ParseInt(o, 10, 64); err != nil || cur.off < 0 {
					return nil, fmt.Errorf("bad EXT-X-BYTERANGE %q", l)
				}
			}
		case l != "" && !strings.HasPrefix(l, "#"):
			cur.uri = l
			if len(out) == maxVODSegments {
				return nil, fmt.Errorf("playlist has more than %d segments", maxVODSegments)
			}
			out = append(out, cur)
			if cur.len > 0 {
				next = cur.off + cur.len
			}
			cur = vodSegment{init: cur.init, len: -1}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("the playlist has no segment")
	}
	return out, nil
}

// vodStats is what the VOD viewers of a run saw, shared by all of them.
type vodStats struct {
	mu        sync.Mutex
	first     []time.Duration // playlist request to the first media byte, one per range played
	later     []time.Duration // the same, of each viewer's second and later ranges (not the start burst)
	segTTFB   []time.Duration // request to first byte, every segment and init section
	playlist  []time.Duration // playlist request to its last byte
	bytes     int64
	segments  int64
	ranges    int64 // ranges played to their end
	stalls    int64 // a segment came after the playhead reached it
	errs      int64
	lastError string
}

func (s *vodStats) add(f func(*vodStats)) {
	s.mu.Lock()
	f(s)
	s.mu.Unlock()
}

func (s *vodStats) fail(err error) {
	s.add(func(s *vodStats) { s.errs++; s.lastError = err.Error() })
}

// fetchRange gets u (bytes [off, off+n) when n > 0) and returns the time
// to its first body byte and its size.
func (c *hlsClient) fetchRange(ctx context.Context, u string, off, n int64) (time.Duration, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, 0, err
	}
	if n > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+n-1))
	}
	t0 := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return 0, 0, fmt.Errorf("GET %s: %w", redactURL(ue.URL), ue.Err)
		}
		return 0, 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusPartialContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
		return 0, 0, fmt.Errorf("GET %s: %s", redactURL(u), res.Status)
	}
	var buf [32 << 10]byte
	k, err := io.ReadAtLeast(res.Body, buf[:], 1)
	ttfb := time.Since(t0)
	if err != nil {
		return 0, 0, fmt.Errorf("GET %s: %w", redactURL(u), err)
	}
	rest, err := io.Copy(io.Discard, res.Body)
	if err != nil {
		return 0, 0, fmt.Errorf("GET %s: %w", redactURL(u), err)
	}
	got := int64(k) + rest
	if n > 0 && got != n {
		return 0, 0, fmt.Errorf("GET %s: %d bytes, the range has %d", redactURL(u), got, n)
	}
	return ttfb, got, nil
}

// playVOD plays one VOD playlist at 1x as hls.js does with its defaults:
// the playlist, then each init section once and the segments in order, one
// request at a time, fetching ahead while less than maxBuffer is buffered
// beyond the playhead. The playhead starts with the first segment and
// waits (a stall) when it reaches the end of what is buffered.
// again tells that the viewer played a range before this one.
func (c *hlsClient) playVOD(ctx context.Context, u string, st *vodStats, maxBuffer time.Duration, again bool) error {
	t0 := time.Now()
	body, _, err := c.get(ctx, u, true)
	if err != nil {
		return err
	}
	plDur := time.Since(t0)
	segs, err := parseVOD(strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	base, err := url.Parse(u)
	if err != nil {
		return err
	}
	st.add(func(s *vodStats) { s.playlist = append(s.playlist, plDur) })
	var (
		init     string
		playing  bool
		start    time.Time     // playhead zero, moved on by stalls
		buffered time.Duration // media fetched so far
	)
	for i, sg := range segs {
		if sg.init != init {
			iu, err := resolve(base, sg.init)
			if err != nil {
				return err
			}
			ttfb, n, err := c.fetchRange(ctx, iu.String(), 0, 0)
			if err != nil {
				return err
			}
			init = sg.init
			st.add(func(s *vodStats) { s.segTTFB = append(s.segTTFB, ttfb); s.bytes += n })
		}
		if playing {
			// Wait while the buffer ahead of the playhead is full.
			if ahead := buffered - time.Since(start); ahead > maxBuffer {
				if err := sleep(ctx, ahead-maxBuffer); err != nil {
					return nil
				}
			}
		}
		su, err := resolve(base, sg.uri)
		if err != nil {
			return err
		}
		req := time.Now()
		ttfb, n, err := c.fetchRange(ctx, su.String(), sg.off, sg.len)
		if err != nil {
			return err
		}
		stalled := false
		if !playing {
			playing, start = true, time.Now()
		} else if late := time.Since(start) - buffered; late > 0 {
			// The playhead ran out of media: playback waited this long.
			start, stalled = start.Add(late), true
		}
		buffered += sg.dur
		st.add(func(s *vodStats) {
			if i == 0 {
				s.first = append(s.first, req.Sub(t0)+ttfb)
				if again {
					s.later = append(s.later, req.Sub(t0)+ttfb)
				}
			}
			s.segTTFB = append(s.segTTFB, ttfb)
			s.bytes += n
			s.segments++
			if stalled {
				s.stalls++
			}
		})
	}
	// Play out what is buffered, as a viewer watches to the end.
	if err := sleep(ctx, buffered-time.Since(start)); err != nil {
		return nil
	}
	st.add(func(s *vodStats) { s.ranges++ })
	return nil
}
