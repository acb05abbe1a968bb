package playback

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/spool"
	"github.com/camcloud/camcloud/internal/store"
)

// The holder's side of playback of what is not uploaded yet. A camera's
// newest video (its open segment, up to segment_duration, and segments
// closed but not yet uploaded and indexed) is only in the spool of the
// camera server that records it. That server serves it to api nodes on two
// media routes, authorised by a playback token of the camera and a range
// (signed by the api node after asking authz, checked here without a
// database):
//
//	GET /media/v1/spool/{camera}/segments?token=[&wait=1]  the spooled segments overlapping the range, as index rows
//	GET /media/v1/spool/{camera}/obj/{key...}?token=       a spooled segment's committed bytes (Range) or its init segment
//
// An api node that is this very process reads the spool directly (the
// same functions, localSource), without HTTP.

// Bounds of the holder's answers.
const (
	// maxSpooledSegments bounds the segments of one listing (a long
	// store outage can leave many waiting for upload): the newest are kept.
	maxSpooledSegments = 1024
	// holderWait bounds how long a listing with wait=1 waits for the
	// fragment holding its range's end to be committed.
	holderWait = 3 * time.Second
	// waitLag: a listing waits only when the open segment ends at most this
	// long before the instant asked for (a recorder that is further behind
	// is not about to catch up).
	waitLag = 10 * time.Second
)

// SpoolReader is what the holder reads of its camera server's spool: a
// *spool.Spool (see internal/spool, read.go).
type SpoolReader interface {
	// Spooled lists a camera's spooled segments with their committed
	// fragments, oldest first, and the open ones even before their first
	// fragment.
	Spooled(cam string) []spool.Spooled
	// OpenSpooled opens a spooled segment's data and tells how many bytes
	// from its start are committed; spool.ErrNotSpooled when not held.
	OpenSpooled(cam, key string) (*os.File, int64, error)
	// SpooledInit returns the init segment a spooled segment uses;
	// spool.ErrNotSpooled when not held.
	SpooledInit(cam, key string) ([]byte, error)
	// Committed is closed at the next group commit.
	Committed() <-chan struct{}
}

// spooledIn returns cam's spooled segments overlapping [from, to), at
// most maxSpooledSegments (the newest). With wait, it first waits (up to
// holderWait or ctx) until the camera's open segment has committed up to
// min(to, now), so that a clip or image of the last seconds gets them.
func spooledIn(ctx context.Context, sp SpoolReader, cam string, from, to time.Time, wait bool, now time.Time) []store.Segment {
	list := sp.Spooled(cam)
	if wait {
		target := to
		if now.Before(target) {
			target = now
		}
		var timer <-chan time.Time
		for {
			ch := sp.Committed()
			list = sp.Spooled(cam)
			if !behind(list, target) {
				break
			}
			if timer == nil {
				t := time.NewTimer(holderWait)
				defer t.Stop()
				timer = t.C
			}
			done := false
			select {
			case <-ch:
			case <-timer:
				done = true
			case <-ctx.Done():
				done = true
			}
			if done {
				list = sp.Spooled(cam)
				break
			}
		}
	}
	var out []store.Segment
	for _, sg := range list {
		if len(sg.Row.Fragments) > 0 && sg.Row.Start.Before(to) && sg.Row.End.After(from) {
			out = append(out, sg.Row)
		}
	}
	if len(out) > maxSpooledSegments {
		out = out[len(out)-maxSpooledSegments:]
	}
	return out
}

// behind reports whether the newest open segment of list (one may have
// no fragment yet: it just started) has not reached target yet, but is
// close enough to get there soon.
func behind(list []spool.Spooled, target time.Time) bool {
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Open {
			end := list[i].Row.End
			return end.Before(target) && !end.Before(target.Add(-waitLag))
		}
	}
	return false
}

// HolderDeps is what the holder routes need.
type HolderDeps struct {
	// Spool is the camera server's spool.
	Spool SpoolReader
	// Signer checks the playback tokens api nodes sign.
	Signer *auth.Signer
	// Log receives the routes' logs.
	Log *slog.Logger
	// Now tells the time (time.Now when nil).
	Now func() time.Time
}

// Holder serves a camera server's spool to api nodes (see above).
type Holder struct {
	d   HolderDeps
	log *slog.Logger
}

// NewHolder builds the holder routes; call Register to serve them.
func NewHolder(d HolderDeps) *Holder {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Holder{d: d, log: d.Log.With("component", "playback-holder")}
}

// Register adds the holder's media routes to rt (they check their token).
func (h *Holder) Register(rt *httpapi.Router) {
	rt.HandleFunc("GET /media/v1/spool/{camera}/segments", h.segments)
	rt.HandleFunc("GET /media/v1/spool/{camera}/obj/{key...}", h.object)
}

// segments answers GET /media/v1/spool/{camera}/segments?token=[&wait=1]:
// the camera's spooled segments overlapping the token's range.
func (h *Holder) segments(w http.ResponseWriter, r *http.Request) {
	c, err := h.verify(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	wait := r.URL.Query().Get("wait") == "1"
	segs := spooledIn(r.Context(), h.d.Spool, c.CameraID, c.From, c.To, wait, h.d.Now())
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, spooledJSON{Segments: toWire(segs)})
}

// object answers GET /media/v1/spool/{camera}/obj/{key...}?token=: the
// committed bytes of a spooled segment overlapping the token's range (with
// Range support), or the init segment such a segment uses.
func (h *Holder) object(w http.ResponseWriter, r *http.Request) {
	c, err := h.verify(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	key := r.PathValue("key")
	if err := allowedKey(c, key); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	seg, ok := spooledObject(h.d.Spool, c, key)
	if !ok {
		httpapi.Fail(w, r, errNotSpooledHTTP)
		return
	}
	w.Header().Set("Content-Type", contentType(key))
	// A spooled segment grows while it is written: never cache it whole.
	w.Header().Set("Cache-Control", "no-store")
	if key == seg.InitKey {
		b, err := h.d.Spool.SpooledInit(c.CameraID, key)
		if err != nil {
			httpapi.Fail(w, r, spoolErr(err))
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
		return
	}
	f, size, err := h.d.Spool.OpenSpooled(c.CameraID, key)
	if err != nil {
		httpapi.Fail(w, r, spoolErr(err))
		return
	}
	defer f.Close()
	http.ServeContent(w, r, "", time.Time{}, io.NewSectionReader(f, 0, size))
}

// spooledObject finds the spooled segment of the token's camera and range
// whose object or init segment key is; ok is false when there is none.
func spooledObject(sp SpoolReader, c auth.MediaClaims, key string) (store.Segment, bool) {
	for _, sg := range sp.Spooled(c.CameraID) {
		row := sg.Row
		if len(row.Fragments) > 0 && (row.Key == key || row.InitKey == key) && overlaps(row, c.From, c.To) {
			return row, true
		}
	}
	return store.Segment{}, false
}

// errNotSpooledHTTP answers for an object the holder's spool does not hold
// (any more: it may be uploaded and indexed by now).
var errNotSpooledHTTP = httpapi.Errorf(http.StatusNotFound, "not_found", "this object is not in the camera server's spool")

// spoolErr maps a spool read error to the answer.
func spoolErr(err error) error {
	if errors.Is(err, spool.ErrNotSpooled) {
		return errNotSpooledHTTP
	}
	return err
}

// verify checks a holder request's token: a playback token an api node
// signed for itself, never one minted for a share link (those are for
// the api node's media routes, which ask whether the link holds).
func (h *Holder) verify(r *http.Request) (auth.MediaClaims, error) {
	c, err := verifyToken(r, h.d.Signer, authz.PermPlayback, h.d.Now())
	if err == nil && c.Share != "" {
		return auth.MediaClaims{}, httpapi.Errorf(http.StatusUnauthorized, "unauthorized", "media token refused: a share link's token is not served by camera servers")
	}
	return c, err
}
