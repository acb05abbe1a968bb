package ingest

import (
	"errors"
	"strings"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"

	"github.com/camcloud/camcloud/internal/ingesturl"
)

// rtspHandler implements the gortsplib server callbacks: publish only.
type rtspHandler struct {
	s *Server
}

// rtspSession is the state of one authorised RTSP publish session.
type rtspSession struct {
	cameraID string
	remote   string
	tracks   []rtspTrack
	pub      *publication
	// gate keeps the video tap's frames apart from our closes of the
	// session (tapGate).
	gate *tapGate
	// setupChannels holds the interleaved RTP channel of every accepted
	// SETUP, in order (-1: not known), for tapVideo.
	setupChannels []int
}

func remoteOf(c *gortsplib.ServerConn) string {
	if c == nil || c.NetConn() == nil {
		return ""
	}
	return c.NetConn().RemoteAddr().String()
}

// OnConnClose logs why a connection ended (secrets removed).
func (h *rtspHandler) OnConnClose(ctx *gortsplib.ServerHandlerOnConnCloseCtx) {
	h.s.cfg.Log.Debug("rtsp connection closed", "remote", remoteOf(ctx.Conn), "reason", redactErr(ctx.Error))
}

// OnAnnounce authorises the publisher and checks the codecs before any
// media is accepted.
func (h *rtspHandler) OnAnnounce(ctx *gortsplib.ServerHandlerOnAnnounceCtx) (*base.Response, error) {
	log := h.s.cfg.Log
	remote := remoteOf(ctx.Conn)
	cameraID, secret, err := ingesturl.ParsePath(ctx.Path)
	if err != nil {
		log.Warn("rtsp publish refused: not an ingest path", "remote", remote, "path", ingesturl.LogPath(ctx.Path))
		return &base.Response{StatusCode: base.StatusNotFound}, err
	}
	if err := h.s.authorize(cameraID, secret); err != nil {
		status := base.StatusUnauthorized
		if errors.Is(err, ErrUnknownCamera) {
			status = base.StatusNotFound
		}
		log.Warn("rtsp publish refused", "camera", cameraID, "remote", remote, "reason", redactErr(err))
		return &base.Response{StatusCode: status}, err
	}
	tracks, err := selectRTSPTracks(ctx.Description)
	if err != nil {
		log.Warn("rtsp publish refused", "camera", cameraID, "remote", remote, "reason", err.Error())
		return &base.Response{StatusCode: base.StatusUnsupportedMediaType}, err
	}
	ctx.Session.SetUserData(&rtspSession{cameraID: cameraID, remote: remote, tracks: tracks, gate: &tapGate{}})
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnSetup accepts the transports of an announced session; reading is
// refused (live viewing is HLS and WebRTC).
func (h *rtspHandler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	rs, ok := ctx.Session.UserData().(*rtspSession)
	if !ok {
		h.s.cfg.Log.Debug("rtsp read refused", "remote", remoteOf(ctx.Conn))
		return &base.Response{StatusCode: base.StatusMethodNotValidInThisState}, nil, errors.New("reading is not served")
	}
	rs.setupChannels = append(rs.setupChannels, setupChannel(ctx.Request, ctx.Transport))
	return &base.Response{StatusCode: base.StatusOK}, nil, nil
}

// OnDescribe refuses reading.
func (h *rtspHandler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	h.s.cfg.Log.Debug("rtsp describe refused: this server only accepts publishers", "remote", remoteOf(ctx.Conn))
	return &base.Response{StatusCode: base.StatusMethodNotAllowed}, nil, errors.New("reading is not served")
}

// OnPlay refuses reading.
func (h *rtspHandler) OnPlay(_ *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusMethodNotAllowed}, errors.New("reading is not served")
}

// OnRecord starts feeding the hub.
func (h *rtspHandler) OnRecord(ctx *gortsplib.ServerHandlerOnRecordCtx) (*base.Response, error) {
	rs, ok := ctx.Session.UserData().(*rtspSession)
	if !ok {
		return &base.Response{StatusCode: base.StatusBadRequest}, errors.New("not announced")
	}
	specs := rtspSpecs(rs.tracks)
	ss := ctx.Session
	rs.pub = newPublication(pubConfig{
		hub: h.s.cfg.Hub, events: h.s.cfg.Events, log: h.s.cfg.Log, cameraID: rs.cameraID,
		info: StreamInfo{Codec: codecsName(specs), Protocol: "rtsp", Remote: rs.remote,
			Unrecorded: strings.Join(rs.tracks[0].skipped, ", ")},
		dropSession: func() { rs.gate.close(ss.Close) }, discontinuity: h.s.rtspBreaks, mediaTimeout: h.s.cfg.MediaTimeout,
	}, specs)
	if err := attachRTSP(ss, rs.pub, rs.tracks); err != nil {
		h.s.cfg.Log.Warn("rtsp publish refused", "camera", rs.cameraID, "remote", rs.remote, "reason", err.Error())
		rs.pub = nil
		return &base.Response{StatusCode: base.StatusUnsupportedMediaType}, err
	}
	rs.pub.start()
	if ctx.Conn != nil {
		rs.pub.readLive(ctx.Conn.NetConn())
	}
	h.tapVideo(ss, ctx.Conn, rs)
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnSessionClose ends the publish.
func (h *rtspHandler) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	rs, ok := ctx.Session.UserData().(*rtspSession)
	if !ok || rs.pub == nil {
		return
	}
	h.s.cfg.Log.Debug("rtsp session closed", "camera", rs.cameraID, "reason", redactErr(ctx.Error))
	rs.pub.close()
}

// OnPacketsLost logs RTP losses at debug level.
func (h *rtspHandler) OnPacketsLost(ctx *gortsplib.ServerHandlerOnPacketsLostCtx) {
	if rs, ok := ctx.Session.UserData().(*rtspSession); ok {
		h.s.cfg.Log.Debug("rtp packets lost", "camera", rs.cameraID, "lost", ctx.Lost)
	}
}

// OnDecodeError logs undecodable packets at debug level.
func (h *rtspHandler) OnDecodeError(ctx *gortsplib.ServerHandlerOnDecodeErrorCtx) {
	if rs, ok := ctx.Session.UserData().(*rtspSession); ok {
		h.s.cfg.Log.Debug("rtp decode error", "camera", rs.cameraID, "error", redactErr(ctx.Error))
	}
}
