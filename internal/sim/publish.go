package sim

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/bluenviron/gortmplib"
	rtmpcodecs "github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/sample"
)

// ioTimeout bounds connecting and each write of a publish session.
const ioTimeout = 10 * time.Second

// writeQueue is the RTSP client's queue of packets waiting to be sent, a
// power of two. The library's default (256) holds about two key frames of a
// 2 Mbit/s stream; a loaded machine that runs hundreds of simulated cameras
// can starve the sending goroutine longer than that, and a full queue ends
// the session.
const writeQueue = 2048

// PublishOnce pushes smp to rawURL (rtsp:// over TCP, or rtmp://) in one
// session, looping in real time until ctx ends (it then returns ctx.Err())
// or the session fails. st may be nil.
func PublishOnce(ctx context.Context, rawURL string, smp *sample.Sample, st *Stats) error {
	return publishOnce(ctx, rawURL, smp, st, 0)
}

// PublishStalling publishes smp to rawURL (as PublishOnce) for sendFor,
// then sends nothing more but keeps the session open for up to stallFor,
// as a camera whose encoder froze does. It returns once the session has
// ended: nil when the server dropped it (or stallFor passed), else why it
// failed.
func PublishStalling(ctx context.Context, rawURL string, smp *sample.Sample, sendFor, stallFor time.Duration) error {
	sctx, cancel := context.WithTimeout(ctx, sendFor)
	defer cancel()
	err := publishOnce(sctx, rawURL, smp, nil, stallFor)
	if sctx.Err() != nil && ctx.Err() == nil {
		return nil
	}
	return err
}

// publishOnce is PublishOnce; when ctx ends, the session stops sending and
// stays open for grace before closing, so that what was sent (and counted
// in st) reaches the server rather than being cut off in the send queue.
func publishOnce(ctx context.Context, rawURL string, smp *sample.Sample, st *Stats, grace time.Duration) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("sim: invalid URL: %w", err)
	}
	switch u.Scheme {
	case "rtsp":
		return publishRTSP(ctx, rawURL, smp, st, grace)
	case "rtmp":
		return publishRTMP(ctx, u, smp, st, grace)
	}
	return fmt.Errorf("sim: unsupported scheme %q (want rtsp or rtmp)", u.Scheme)
}

// started marks a session as sending.
func started(st *Stats) func() {
	if st == nil {
		return func() {}
	}
	st.Sessions.Add(1)
	st.Connected.Store(true)
	return func() { st.Connected.Store(false) }
}

// startRecording connects an RTSP client to rawURL and announces tracks
// for recording (TCP), returning their RTP encoders and the client.
func startRecording(rawURL string, tracks []hub.Track) (*rtpOut, *gortsplib.Client, error) {
	out, err := newRTPOut(tracks)
	if err != nil {
		return nil, nil, err
	}
	tcp := gortsplib.ProtocolTCP
	c := &gortsplib.Client{Protocol: &tcp, ReadTimeout: ioTimeout, WriteTimeout: ioTimeout, WriteQueueSize: writeQueue}
	if err := c.StartRecording(rawURL, out.desc); err != nil {
		return nil, nil, err
	}
	return out, c, nil
}

// publishRTSP publishes with ANNOUNCE/RECORD over TCP.
func publishRTSP(ctx context.Context, rawURL string, smp *sample.Sample, st *Stats, grace time.Duration) error {
	out, c, err := startRecording(rawURL, smp.Tracks)
	if err != nil {
		return err
	}
	defer c.Close()
	defer started(st)()

	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var waitErr error
	done := make(chan struct{})
	go func() {
		waitErr = c.Wait()
		cancel()
		close(done)
	}()
	err = smp.Play(pctx, func(u *hub.Unit) error {
		m, pkts, err := out.packets(u)
		if err != nil {
			return err
		}
		for _, p := range pkts {
			if err := c.WritePacketRTPWithNTP(m, p, u.NTP); err != nil {
				return err
			}
		}
		st.sent(u, smp.Tracks[u.Track-1].IsVideo())
		return nil
	})
	linger(ctx, done, grace)
	c.Close()
	<-done
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, context.Canceled) && waitErr != nil {
		return waitErr
	}
	return err
}

// rtmpTracks maps sample tracks to RTMP tracks (by index).
func rtmpTracks(tracks []hub.Track) ([]*gortmplib.Track, error) {
	out := make([]*gortmplib.Track, len(tracks))
	for i, t := range tracks {
		switch c := t.Codec.(type) {
		case *codecs.H264:
			out[i] = &gortmplib.Track{Codec: &rtmpcodecs.H264{SPS: c.SPS, PPS: c.PPS}}
		case *codecs.H265:
			out[i] = &gortmplib.Track{Codec: &rtmpcodecs.H265{VPS: c.VPS, SPS: c.SPS, PPS: c.PPS}}
		case *codecs.MPEG4Audio:
			cfg := c.Config
			out[i] = &gortmplib.Track{Codec: &rtmpcodecs.MPEG4Audio{Config: &cfg}}
		default:
			return nil, fmt.Errorf("sim: track %d: unsupported codec %T for RTMP", t.ID, t.Codec)
		}
	}
	return out, nil
}

// publishRTMP publishes with an RTMP client.
func publishRTMP(ctx context.Context, u *url.URL, smp *sample.Sample, st *Stats, grace time.Duration) error {
	tracks, err := rtmpTracks(smp.Tracks)
	if err != nil {
		return err
	}
	c := &gortmplib.Client{URL: u, Publish: true}
	ictx, icancel := context.WithTimeout(ctx, ioTimeout)
	err = c.Initialize(ictx)
	icancel()
	if err != nil {
		return err
	}
	defer c.Close()
	nc := c.NetConn()
	nc.SetDeadline(time.Now().Add(ioTimeout))
	w := &gortmplib.Writer{Conn: c, Tracks: tracks}
	if err := w.Initialize(); err != nil {
		return err
	}
	nc.SetDeadline(time.Time{})
	defer started(st)()

	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var readErr error
	done := make(chan struct{})
	go func() { // consume what the server sends; a failure ends the session
		defer close(done)
		for {
			if _, err := c.Read(); err != nil {
				readErr = err
				cancel()
				return
			}
		}
	}()
	err = smp.Play(pctx, func(un *hub.Unit) error {
		nc.SetWriteDeadline(time.Now().Add(ioTimeout))
		t := smp.Tracks[un.Track-1]
		tr := tracks[un.Track-1]
		pts, dts := ticksToDur(un.PTS, t.ClockRate), ticksToDur(un.DTS, t.ClockRate)
		var err error
		switch tr.Codec.(type) {
		case *rtmpcodecs.H264:
			err = w.WriteH264(tr, pts, dts, un.Payload)
		case *rtmpcodecs.H265:
			err = w.WriteH265(tr, pts, dts, un.Payload)
		case *rtmpcodecs.MPEG4Audio:
			for _, au := range un.Payload {
				if err = w.WriteMPEG4Audio(tr, pts, au); err != nil {
					break
				}
			}
		}
		if err != nil {
			return err
		}
		st.sent(un, t.IsVideo())
		return nil
	})
	linger(ctx, done, grace)
	c.Close()
	<-done
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, context.Canceled) && readErr != nil {
		return readErr
	}
	return err
}

// linger waits for grace (or until the session ended by itself, done) once
// ctx has ended, before the caller closes the session.
func linger(ctx context.Context, done <-chan struct{}, grace time.Duration) {
	if ctx.Err() == nil || grace <= 0 {
		return
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-t.C:
	case <-done:
	}
}

// ticksToDur converts clock units to a duration without overflow.
func ticksToDur(t int64, clock int) time.Duration {
	c := int64(clock)
	return time.Duration(t/c)*time.Second + time.Duration(t%c)*time.Second/time.Duration(c)
}
