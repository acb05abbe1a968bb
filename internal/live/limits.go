package live

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
)

// Defaults of the per-principal bounds of Deps, so that one viewer cannot
// take the capacity of a camera server that every tenant shares.
const (
	// DefaultMaxSessionsPerToken: a player needs one WebRTC session, and
	// one more while it reconnects.
	DefaultMaxSessionsPerToken = 3
	// DefaultMaxSessionsPerUser covers a wall of cameras watched over
	// WebRTC by one user, far below DefaultMaxSessions.
	DefaultMaxSessionsPerUser = 16
	// DefaultConnectTimeout ends a WebRTC session whose connection is not
	// up this long after the answer: browsers connect in well under a
	// second on a reachable network.
	DefaultConnectTimeout = 5 * time.Second
	// DefaultMaxHLSPerToken bounds the concurrent HLS requests of one token:
	// an LL-HLS player holds a blocking playlist reload and a part or two
	// per rendition.
	DefaultMaxHLSPerToken = 12
)

// principal is who a live request is counted against: its token (by
// hash) and the user the token was issued to ("" for none); share is the
// share link the token was minted for ("" for a user's token).
type principal struct {
	token, user, share string
}

// principalOf names the principal of a verified media token.
func principalOf(token string, c auth.MediaClaims) principal {
	h := sha256.Sum256([]byte(token))
	return principal{token: hex.EncodeToString(h[:16]), user: c.Subject, share: c.Share}
}

// limitErr is a refusal by a bound, answered as it says.
type limitErr struct {
	status int
	code   string
	msg    string
	retry  time.Duration
}

func (e *limitErr) answer(w http.ResponseWriter) {
	retryAfter(w, e.retry)
	fail(w, e.status, e.code, e.msg)
}

// counts is a set of counters by key; the zero value is not usable (make
// the map).
type counts map[string]int

func (c counts) add(k string, d int) {
	if k == "" {
		return
	}
	if c[k] += d; c[k] <= 0 {
		delete(c, k)
	}
}

// rtcSlots counts the WebRTC sessions of the service from the moment they
// are admitted (before ICE gathering, so concurrent offers cannot all pass
// the check) until they end.
type rtcSlots struct {
	mu      sync.Mutex
	total   int
	byToken counts
	byUser  counts
}

// admitSession reserves a WebRTC session for p, or says which bound it
// would break. release gives the reservation back; it may be called more
// than once.
func (s *Service) admitSession(p principal) (release func(), err *limitErr) {
	sl := &s.rtcSlots
	sl.mu.Lock()
	defer sl.mu.Unlock()
	switch {
	case sl.total >= s.d.MaxSessions:
		return nil, &limitErr{http.StatusServiceUnavailable, "too_many_sessions",
			"this server has as many WebRTC viewers as it takes; try HLS or later", 10 * time.Second}
	case sl.byToken[p.token] >= s.d.MaxSessionsPerToken:
		return nil, &limitErr{http.StatusTooManyRequests, "too_many_sessions",
			fmt.Sprintf("this live URL already has %d WebRTC sessions open: end one (DELETE its Location) or wait for it to time out", s.d.MaxSessionsPerToken), s.d.ConnectTimeout}
	case p.user != "" && sl.byUser[p.user] >= s.d.MaxSessionsPerUser:
		return nil, &limitErr{http.StatusTooManyRequests, "too_many_sessions",
			fmt.Sprintf("you already have %d WebRTC sessions open on this server: close some views first", s.d.MaxSessionsPerUser), s.d.ConnectTimeout}
	}
	sl.total++
	sl.byToken.add(p.token, 1)
	sl.byUser.add(p.user, 1)
	return sync.OnceFunc(func() {
		sl.mu.Lock()
		defer sl.mu.Unlock()
		sl.total--
		sl.byToken.add(p.token, -1)
		sl.byUser.add(p.user, -1)
	}), nil
}

// hlsSlots counts the HLS requests in progress by token.
type hlsSlots struct {
	mu      sync.Mutex
	byToken counts
}

// admitHLS reserves an HLS request of p; done ends it.
func (s *Service) admitHLS(p principal) (done func(), err *limitErr) {
	sl := &s.hlsSlots
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.byToken[p.token] >= s.d.MaxHLSPerToken {
		return nil, &limitErr{http.StatusTooManyRequests, "too_many_requests",
			fmt.Sprintf("this live URL already has %d HLS requests in progress", s.d.MaxHLSPerToken), time.Second}
	}
	sl.byToken.add(p.token, 1)
	return sync.OnceFunc(func() {
		sl.mu.Lock()
		defer sl.mu.Unlock()
		sl.byToken.add(p.token, -1)
	}), nil
}
