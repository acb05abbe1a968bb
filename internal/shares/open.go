package shares

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/zone"
)

// maxToken bounds a token as sent; real ones are 48 bytes.
const maxToken = 128

// Opened is what a holder gets on opening a link: what it is, and the
// media URLs of this opening (paths on the api node, or absolute URLs on
// the camera server for live video).
type Opened struct {
	Link Link
	// HLSURL plays the range (VOD) or the live view (LL-HLS); WHEPURL is
	// the live view over WebRTC; ClipURL downloads the range as one MP4
	// (only when the link allows it).
	HLSURL, WHEPURL, ClipURL string
	// MediaExpires is when the URLs stop working (the link is asked on
	// every request besides).
	MediaExpires time.Time
}

// errGone is the refusal of a link that does not hold any more, or never
// did: the same answer whether it never existed, expired or was revoked,
// apart from a reason its holder may know.
func errGone(why string) error {
	return httpapi.Errorf(http.StatusGone, "share_ended", "this share link %s", why)
}

// ended says why sh cannot be used at now, or nil.
func ended(sh store.Share, now time.Time) error {
	switch state(sh, now) {
	case "revoked":
		return errGone("was revoked")
	case "expired":
		return errGone("has expired")
	case "used_up":
		return errGone("has been opened as often as it may be")
	}
	return nil
}

// Open opens the link of token for a holder at addr (no account), with
// password when the link has one: it counts a view and mints the media
// URLs of the link's camera, restricted to its range. base, when not
// empty, is prefixed to the api node's paths (public_host). Errors: 404
// for a token that matches no link, 410 for a link that ended, 401
// password_required or wrong_password, 429 after too many wrong passwords.
func (s *Service) Open(ctx context.Context, token, password, addr, base string) (Opened, error) {
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > maxToken {
		return Opened{}, httpapi.Errorf(http.StatusNotFound, "not_found", "no such share link")
	}
	if !s.opens.Allow(addr, s.d.Now()) {
		return Opened{}, httpapi.Errorf(http.StatusTooManyRequests, "rate_limited", "too many share links opened from this address: wait a minute")
	}
	sh, err := s.d.Dir.GetShareByToken(ctx, auth.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return Opened{}, httpapi.Errorf(http.StatusNotFound, "not_found", "no such share link")
	}
	if err != nil {
		return Opened{}, err
	}
	now := s.d.Now()
	if err := ended(sh, now); err != nil {
		return Opened{}, err
	}
	if err := s.checkPassword(ctx, sh, password, addr); err != nil {
		return Opened{}, err
	}
	cam, err := s.d.Cameras.Get(ctx, sh.CameraID)
	if errors.Is(err, store.ErrNotFound) {
		return Opened{}, errGone("is of a camera that was deleted")
	}
	if err != nil {
		return Opened{}, err
	}
	ok, err := s.d.Dir.UseShareView(ctx, sh.ID, now)
	if err != nil {
		return Opened{}, err
	}
	if !ok { // revoked, expired or used up since it was read
		if sh, err = s.d.Dir.GetShare(ctx, sh.ID); err != nil {
			return Opened{}, err
		}
		if err := ended(sh, now); err != nil {
			return Opened{}, err
		}
		return Opened{}, errGone("cannot be opened now")
	}
	sh.Views++
	out := Opened{Link: link(sh, cam, now)}
	if sh.Live {
		err = s.liveURLs(ctx, &out, sh, cam, now, base)
	} else {
		err = s.rangeURLs(&out, sh, now, base)
	}
	if err != nil {
		return Opened{}, err
	}
	s.auditShare(ctx, sh, addr, "share.open", rangeText(sh))
	return out, nil
}

// checkPassword checks the password of a link that has one, within the
// limit of wrong ones per link.
func (s *Service) checkPassword(ctx context.Context, sh store.Share, password, addr string) error {
	if sh.PasswordHash == "" {
		return nil
	}
	if password == "" {
		return httpapi.Errorf(http.StatusUnauthorized, "password_required", "this share link needs its password")
	}
	if !s.wrong.Allow(sh.ID, s.d.Now()) {
		return httpapi.Errorf(http.StatusTooManyRequests, "rate_limited", "too many wrong passwords for this link: wait a minute")
	}
	ok, err := auth.VerifyPassword(sh.PasswordHash, password)
	if err != nil {
		return err
	}
	if !ok {
		if s.audits.Allow(sh.ID, s.d.Now()) {
			s.auditShare(ctx, sh, addr, "share.password_failed", "")
		}
		return httpapi.Errorf(http.StatusUnauthorized, "wrong_password", "wrong password")
	}
	return nil
}

// mediaExpiry is when the media tokens of an opening at now end.
func mediaExpiry(sh store.Share, now time.Time, life time.Duration) time.Time {
	exp := now.Add(life)
	if sh.Expires.Before(exp) {
		exp = sh.Expires
	}
	return exp.UTC()
}

// sign mints a media token of sh's camera for perm, with its range.
func (s *Service) sign(sh store.Share, perm string, exp time.Time) (string, error) {
	return s.d.Signer.Sign(auth.MediaClaims{CameraID: sh.CameraID, Perm: perm, From: sh.From, To: sh.To, Expires: exp,
		Subject: "share:" + sh.ID, Share: sh.ID})
}

// rangeURLs mints the playlist URL of a recorded range and, when the link
// allows it, the clip URL.
func (s *Service) rangeURLs(out *Opened, sh store.Share, now time.Time, base string) error {
	exp := mediaExpiry(sh, now, mediaLife)
	tok, err := s.sign(sh, authz.PermPlayback, exp)
	if err != nil {
		return err
	}
	cam := url.PathEscape(sh.CameraID)
	out.HLSURL = base + "/media/v1/playback/" + cam + "/index.m3u8?token=" + url.QueryEscape(tok)
	if sh.AllowDownload {
		tok, err := s.sign(sh, authz.PermExport, exp)
		if err != nil {
			return err
		}
		out.ClipURL = base + "/media/v1/playback/" + cam + "/clip.mp4?token=" + url.QueryEscape(tok)
	}
	out.MediaExpires = exp
	return nil
}

// liveURLs mints the live URLs on the camera server holding the camera
// (base, this api node, when that is this very process).
func (s *Service) liveURLs(ctx context.Context, out *Opened, sh store.Share, cam store.Camera, now time.Time, self string) error {
	if s.d.Locate == nil {
		return httpapi.Errorf(http.StatusConflict, "offline", "the camera is not streaming right now")
	}
	base, err := s.d.Locate(ctx, cam)
	if errors.Is(err, zone.ErrOffline) {
		return httpapi.Errorf(http.StatusConflict, "offline", "the camera is not streaming right now: try again later")
	}
	if err != nil {
		return err
	}
	if base == "" {
		base = self
	}
	exp := mediaExpiry(sh, now, liveLife)
	tok, err := s.sign(sh, authz.PermLive, exp)
	if err != nil {
		return err
	}
	q := "?token=" + url.QueryEscape(tok)
	path := strings.TrimRight(base, "/") + "/live/v1/" + url.PathEscape(cam.ID)
	out.HLSURL, out.WHEPURL, out.MediaExpires = path+"/index.m3u8"+q, path+"/whep"+q, exp
	return nil
}

// Admit decides whether a media request carrying a token minted for link
// id may be served: nil while the link holds (not revoked, not expired,
// its camera still there), else the error to answer (410). action, when
// not "", is audited with the request's source address once admitted
// (share.play, share.download). One read of the directory.
func (s *Service) Admit(r *http.Request, id, action string) error {
	sh, err := s.d.Dir.GetShare(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) { // its camera was deleted
		return errGone("has ended")
	}
	if err != nil {
		return err
	}
	if !sh.Revoked.IsZero() {
		return errGone("was revoked")
	}
	if !s.d.Now().Before(sh.Expires) {
		return errGone("has expired")
	}
	if action != "" {
		s.auditShare(r.Context(), sh, httpapi.ClientAddr(r), action, rangeText(sh))
	}
	return nil
}

// Alive reports whether link id still holds (not revoked, not expired,
// its camera there): camera servers ask it to cut the live sessions of
// links that ended.
func (s *Service) Alive(ctx context.Context, id string) (bool, error) {
	sh, err := s.d.Dir.GetShare(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return sh.Revoked.IsZero() && s.d.Now().Before(sh.Expires), nil
}
