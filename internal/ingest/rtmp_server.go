package ingest

import (
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/bluenviron/gortmplib"
	rtmpcodecs "github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/ingesturl"
)

// maxRTMPSetupBytes bounds what a connection may send before its tracks are
// known (the library buffers it while probing).
const maxRTMPSetupBytes = 16 << 20

// acceptRTMP serves the RTMP listener until it is closed.
func (s *Server) acceptRTMP() {
	defer s.wg.Done()
	for {
		c, err := s.rtmpLn.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.rtmpConns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveRTMP(c)
			s.mu.Lock()
			delete(s.rtmpConns, c)
			s.mu.Unlock()
		}()
	}
}

// serveRTMP handles one RTMP connection: handshake, authorisation, then
// media until the peer stops or stalls for ReadTimeout.
func (s *Server) serveRTMP(nc net.Conn) {
	log := s.cfg.Log
	remote := nc.RemoteAddr().String()
	defer nc.Close()
	defer func() {
		if r := recover(); r != nil {
			log.Error("rtmp connection crashed and was dropped", "remote", remote, "panic", fmt.Sprint(r),
				"stack", string(debug.Stack()))
		}
	}()
	bc := &budgetConn{Conn: nc}
	bc.setBudget(maxRTMPSetupBytes)
	nc.SetDeadline(time.Now().Add(s.cfg.ReadTimeout))

	sc := &gortmplib.ServerConn{RW: bc}
	if err := sc.Initialize(); err != nil {
		log.Debug("rtmp handshake failed", "remote", remote, "error", redactErr(err))
		return
	}
	if err := sc.AcceptConn(); err != nil {
		log.Debug("rtmp connect failed", "remote", remote, "error", redactErr(err))
		return
	}
	if !sc.Publish {
		log.Debug("rtmp play refused: this server only accepts publishers", "remote", remote)
		_ = sc.RejectAction()
		return
	}
	cameraID, secret, err := ingesturl.ParsePath(sc.URL.Path)
	if err != nil {
		log.Warn("rtmp publish refused: not an ingest path", "remote", remote, "path", ingesturl.LogPath(sc.URL.Path))
		_ = sc.RejectAction()
		return
	}
	if err := s.authorize(cameraID, secret); err != nil {
		log.Warn("rtmp publish refused", "camera", cameraID, "remote", remote, "reason", redactErr(err))
		_ = sc.RejectAction()
		return
	}

	r := &gortmplib.Reader{Conn: sc}
	if err := r.Initialize(); err != nil {
		log.Warn("rtmp publish refused: no usable tracks", "camera", cameraID, "remote", remote, "reason", redactErr(err))
		return
	}
	bc.setBudget(0)

	var pub *publication
	var once sync.Once
	pubRef := func() *publication { return pub }
	specs, err := bindRTMPTracks(r, pubRef)
	if err != nil {
		log.Warn("rtmp publish refused", "camera", cameraID, "remote", remote, "reason", err.Error())
		return
	}
	pub = newPublication(pubConfig{
		hub: s.cfg.Hub, events: s.cfg.Events, log: log, cameraID: cameraID,
		info:          StreamInfo{Codec: codecsName(specs), Protocol: "rtmp", Remote: remote},
		dropSession:   func() { once.Do(func() { nc.Close() }) },
		discontinuity: s.rtmpBreaks,
		mediaTimeout:  s.cfg.MediaTimeout,
	}, specs)
	defer pub.close()
	pub.readLive(nc)
	pub.start()

	for {
		nc.SetDeadline(time.Now().Add(s.cfg.ReadTimeout))
		if err := r.Read(); err != nil {
			log.Debug("rtmp session ended", "camera", cameraID, "remote", remote, "reason", redactErr(err))
			return
		}
	}
}

// bindRTMPTracks registers a callback on every track of r (the library needs
// one per track) and returns the specs of the tracks kept: the first video
// track and the first supported audio track. pub is read at call time.
func bindRTMPTracks(r *gortmplib.Reader, pub func() *publication) ([]trackSpec, error) {
	var specs []trackSpec
	var offered []string
	haveVideo, haveAudio := false, false
	for _, t := range r.Tracks() {
		offered = append(offered, fmt.Sprintf("%T", t.Codec))
		idx := len(specs)
		switch c := t.Codec.(type) {
		case *rtmpcodecs.H264:
			if haveVideo {
				r.OnDataH264(t, func(time.Duration, time.Duration, [][]byte) {})
				continue
			}
			haveVideo = true
			specs = append(specs, trackSpec{codec: &codecs.H264{SPS: c.SPS, PPS: c.PPS}, clockRate: 90000, name: "H264"})
			r.OnDataH264(t, func(pts, dts time.Duration, au [][]byte) {
				pub().writeVideo(durToTicks(pts, 90000), durToTicks(dts, 90000), true, au, time.Now())
			})
		case *rtmpcodecs.H265:
			if haveVideo {
				r.OnDataH265(t, func(time.Duration, time.Duration, [][]byte) {})
				continue
			}
			haveVideo = true
			specs = append(specs, trackSpec{codec: &codecs.H265{VPS: c.VPS, SPS: c.SPS, PPS: c.PPS}, clockRate: 90000, name: "H265"})
			r.OnDataH265(t, func(pts, dts time.Duration, au [][]byte) {
				pub().writeVideo(durToTicks(pts, 90000), durToTicks(dts, 90000), true, au, time.Now())
			})
		case *rtmpcodecs.MPEG4Audio:
			if haveAudio || c.Config == nil {
				r.OnDataMPEG4Audio(t, func(time.Duration, []byte) {})
				continue
			}
			haveAudio = true
			rate := c.Config.SampleRate
			specs = append(specs, trackSpec{codec: &codecs.MPEG4Audio{Config: *c.Config}, clockRate: rate, name: "AAC"})
			r.OnDataMPEG4Audio(t, func(pts time.Duration, au []byte) {
				pub().writeAudio(idx, durToTicks(pts, rate), au, time.Now())
			})
		case *rtmpcodecs.Opus:
			if haveAudio || c.IDHeader == nil {
				r.OnDataOpus(t, func(time.Duration, []byte) {})
				continue
			}
			haveAudio = true
			specs = append(specs, trackSpec{codec: &codecs.Opus{ChannelCount: int(c.IDHeader.ChannelCount)}, clockRate: 48000, name: "Opus"})
			r.OnDataOpus(t, func(pts time.Duration, pkt []byte) {
				pub().writeAudio(idx, durToTicks(pts, 48000), pkt, time.Now())
			})
		case *rtmpcodecs.G711:
			if haveAudio {
				r.OnDataG711(t, func(time.Duration, []byte) {})
				continue
			}
			haveAudio = true
			mulaw := c.MULaw
			specs = append(specs, trackSpec{codec: &codecs.LPCM{BitDepth: 16, SampleRate: 8000, ChannelCount: c.ChannelCount},
				clockRate: 8000, name: "G711"})
			r.OnDataG711(t, func(pts time.Duration, samples []byte) {
				pub().writeAudio(idx, durToTicks(pts, 8000), g711ToLPCM(mulaw, samples), time.Now())
			})
		case *rtmpcodecs.LPCM:
			if haveAudio {
				r.OnDataLPCM(t, func(time.Duration, []byte) {})
				continue
			}
			haveAudio = true
			rate := c.SampleRate
			specs = append(specs, trackSpec{codec: &codecs.LPCM{BitDepth: c.BitDepth, SampleRate: rate, ChannelCount: c.ChannelCount},
				clockRate: rate, name: "LPCM"})
			r.OnDataLPCM(t, func(pts time.Duration, samples []byte) {
				pub().writeAudio(idx, durToTicks(pts, rate), samples, time.Now())
			})
		case *rtmpcodecs.AV1:
			r.OnDataAV1(t, func(time.Duration, [][]byte) {})
		case *rtmpcodecs.VP9:
			r.OnDataVP9(t, func(time.Duration, []byte) {})
		case *rtmpcodecs.FLAC:
			r.OnDataFLAC(t, func(time.Duration, []byte) {})
		case *rtmpcodecs.MPEG1Audio:
			r.OnDataMPEG1Audio(t, func(time.Duration, []byte) {})
		case *rtmpcodecs.AC3:
			r.OnDataAC3(t, func(time.Duration, []byte) {})
		default:
			return nil, fmt.Errorf("unknown track type %T", t.Codec)
		}
	}
	if !haveVideo {
		return nil, fmt.Errorf("no supported video track (H264, H265) among %v", offered)
	}
	if !specs[0].codec.IsVideo() {
		return nil, errors.New("video track must come first")
	}
	return specs, nil
}

// budgetConn fails reads once more than a budget of bytes was read, while
// limited.
type budgetConn struct {
	net.Conn
	mu      sync.Mutex
	limited bool
	budget  int64
}

// setBudget limits further reads to n bytes; n <= 0 lifts the limit.
func (c *budgetConn) setBudget(n int64) {
	c.mu.Lock()
	c.limited, c.budget = n > 0, n
	c.mu.Unlock()
}

func (c *budgetConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.limited {
		c.budget -= int64(n)
		if c.budget < 0 {
			return 0, errors.New("too much data before the stream started")
		}
	}
	return n, err
}
