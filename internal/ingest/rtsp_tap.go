package ingest

import (
	"errors"
	"log/slog"
	"net"
	"slices"
	"sync"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/headers"
	"github.com/camcloud/camcloud/internal/depack"
	"github.com/camcloud/camcloud/internal/ingest/fastpath"
	"github.com/pion/rtp"
)

// Video over RTSP/TCP skips the RTSP library's packet path. Profiling 200
// recorded cameras put half of the server's CPU in that path: every
// interleaved packet read into a new buffer, parsed into a new rtp.Packet,
// checked by the receiver statistics and depacketised (fragments joined
// into another new buffer), with the garbage collector a fifth of the
// total. Here, once a publisher records over TCP (or a pulled camera is
// set up over TCP), the connection (a fastpath.Tapper) hands its video
// frames straight from the read buffer to a videoTap: the packet header is
// parsed in place and depack copies the NAL units once into the access
// unit. The library still runs the session: requests, RTCP (sender reports
// give the NTP times), audio, and the video too when the stream uses a
// packetisation depack leaves to it. videoPaths counts the cameras on each
// path.

// setupChannel returns the interleaved RTP channel a SETUP request asks
// for, or -1 when it asks for none (or more than one), or is not plain RTP
// over TCP.
func setupChannel(req *base.Request, tr *gortsplib.SessionTransport) int {
	if tr == nil || tr.Protocol != gortsplib.ProtocolTCP || tr.Profile != headers.TransportProfileAVP {
		return -1
	}
	var ths headers.Transports
	if err := ths.Unmarshal(req.Header["Transport"]); err != nil {
		return -1
	}
	ch := -1
	for _, th := range ths {
		switch c := rtpChannel(th); {
		case c < 0:
		case ch >= 0 && c != ch:
			return -1
		default:
			ch = c
		}
	}
	return ch
}

// responseChannel returns the interleaved RTP channel a server's answer to
// SETUP gives, or -1 as setupChannel does.
func responseChannel(res *base.Response) int {
	var th headers.Transport
	if res == nil || th.Unmarshal(res.Header["Transport"]) != nil || th.Profile != headers.TransportProfileAVP {
		return -1
	}
	return rtpChannel(th)
}

// rtpChannel is the RTP channel of a plain TCP transport header, or -1
// (none, or beyond what one byte of an interleaved frame names).
func rtpChannel(th headers.Transport) int {
	if th.Protocol != headers.TransportProtocolTCP || th.InterleavedIDs == nil || th.InterleavedIDs[0] < 0 || th.InterleavedIDs[0] > 254 {
		return -1
	}
	return th.InterleavedIDs[0]
}

// tapVideo has the session's connection hand the video track's RTP frames
// to a videoTap. The library keeps the video when the channel of the video
// track is not known for sure.
func (h *rtspHandler) tapVideo(ss *gortsplib.ServerSession, conn *gortsplib.ServerConn, rs *rtspSession) {
	medias := ss.Medias()
	i := slices.Index(medias, rs.tracks[0].media)
	ch := -1
	var nc net.Conn
	if len(medias) == len(rs.setupChannels) && i >= 0 && conn != nil {
		ch, nc = rs.setupChannels[i], conn.NetConn()
	}
	startVideoTap(nc, ch, ss, rs.gate, rs.tracks[0], rs.pub, h.s.paths, h.s.cfg.Log, rs.cameraID)
}

// startVideoTap has conn hand the RTP frames of interleaved channel ch
// (-1: not known) to a videoTap that feeds track's access units to pub,
// and counts the camera in paths on the path its video takes.
func startVideoTap(conn net.Conn, ch int, src rtpSession, gate *tapGate, track rtspTrack, pub *publication, paths *videoPaths, log *slog.Logger, cameraID string) {
	c, ok := conn.(fastpath.Tapper)
	if !ok || ch < 0 {
		pub.path.move(paths, pathLibrary)
		return
	}
	v := &videoTap{src: src, gate: gate, track: track, pub: pub, log: log, cameraID: cameraID,
		dec: depack.New(isH265Format(track.format))}
	pub.path.move(paths, pathFast)
	if !c.Tap(byte(ch), v.frame) {
		pub.path.move(paths, pathLibrary)
	}
}

func isH265Format(f format.Format) bool {
	_, ok := f.(*format.H265)
	return ok
}

// videoTap turns the RTP packets of a video track into access units for
// the publication. It runs on the connection's reading goroutine.
type videoTap struct {
	src      rtpSession
	track    rtspTrack
	pub      *publication
	log      *slog.Logger
	cameraID string

	gate    *tapGate // nil: the session is never closed under the tap
	dec     *depack.Depacketizer
	pkt     rtp.Packet // reused: its payload points into the read buffer
	prevTS  uint32     // timestamp and PTS of the previous packet
	prevPTS int64
	started bool
	logged  bool
}

// frame handles one RTP packet; it declines (giving the track back to the
// library for good) only when the packetisation needs the library's
// decoder.
func (v *videoTap) frame(b []byte) bool {
	if !v.gate.enter() {
		return true // the session is closing: the frame goes nowhere
	}
	defer v.gate.leave()
	if !v.logged {
		v.logged = true
		v.log.Debug("rtsp video read straight from the connection", "camera", v.cameraID)
	}
	if err := v.pkt.Unmarshal(b); err != nil {
		v.log.Debug("rtp decode error", "camera", v.cameraID, "error", err)
		return true
	}
	if v.pkt.PayloadType != v.track.format.PayloadType() {
		return true // another format of the media: not recorded
	}
	pts, ok := v.src.PacketPTS(v.track.media, &v.pkt)
	if !ok {
		return true // no time base yet: the stream starts at a key frame
	}
	pending := v.dec.Pending()
	au, err := v.dec.Decode(&v.pkt)
	auPTS := pts
	if au != nil && pending && v.started && v.pkt.Timestamp != v.prevTS {
		// The packet ended the access unit that was open before it (a
		// sender that sets no marker). Otherwise the unit is this packet's
		// own: a frame in one packet with the marker set.
		auPTS = v.prevPTS
	}
	v.prevTS, v.prevPTS, v.started = v.pkt.Timestamp, pts, true
	if au != nil {
		v.pub.writeVideo(auPTS, 0, false, au, packetNTP(v.src, v.track.media, &v.pkt))
	}
	switch {
	case errors.Is(err, depack.ErrUnsupported):
		v.log.Info("rtsp video packetisation needs the general decoder; switching to it", "camera", v.cameraID)
		v.pub.path.move(nil, pathLibrary)
		return false
	case err != nil && !depack.IsNoStart(err):
		v.log.Debug("rtp decode error", "camera", v.cameraID, "error", err)
	}
	return true
}

// tapGate keeps a video tap's frames and the close of its RTSP session
// apart. The tap runs on the library's reading goroutine but outside the
// library's own frame dispatch, which a close switches off first: without
// the gate a close (which clears the session's time decoder) could run
// while a tapped frame asks the session for its PTS. A nil gate admits
// every frame.
type tapGate struct {
	mu     sync.Mutex
	closed bool
}

// enter admits a frame unless the session is closing; a frame admitted
// must leave.
func (g *tapGate) enter() bool {
	if g == nil {
		return true
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false
	}
	return true
}

// leave ends a frame admitted by enter.
func (g *tapGate) leave() {
	if g != nil {
		g.mu.Unlock()
	}
}

// close waits for the frame being handled, admits no more, then runs
// closeSession (which may be called more than once).
func (g *tapGate) close(closeSession func()) {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	closeSession()
}
