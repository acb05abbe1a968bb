package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLimiterKey bounds the bytes a limiter keeps per key; longer keys are
// replaced by their SHA-256 so hostile input cannot grow memory.
const maxLimiterKey = 128

// Limiter rate-limits attempts per key (an account, a source address) with a
// token bucket each. Memory is bounded: it keeps at most maxKeys buckets,
// drops buckets that have refilled (an idle key is the same as a new one)
// and, when still full, forgets the least recently used key. It is safe for
// concurrent use.
type Limiter struct {
	mu     sync.Mutex
	limit  rate.Limit
	burst  int
	refill time.Duration // time for an empty bucket to become full again
	keys   *lru[limiterEntry]
}

// limiterEntry is one key's bucket and when it was last used.
type limiterEntry struct {
	lim  *rate.Limiter
	last time.Time
}

// NewLimiter allows each key burst attempts at once and perMinute attempts a
// minute after that, remembering at most maxKeys keys. Values below 1 are
// raised to 1.
func NewLimiter(perMinute int, burst int, maxKeys int) *Limiter {
	perMinute, burst = max(perMinute, 1), max(burst, 1)
	return &Limiter{
		limit:  rate.Limit(float64(perMinute) / 60),
		burst:  burst,
		refill: time.Duration(burst) * time.Minute / time.Duration(perMinute),
		keys:   newLRU[limiterEntry](maxKeys),
	}
}

// Allow reports whether one more attempt for key is allowed at now, and
// counts it when it is.
func (l *Limiter) Allow(key string, now time.Time) bool {
	key = limiterKey(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropIdle(now)
	e := l.keys.get(key)
	if e == nil {
		e = l.keys.add(key, limiterEntry{lim: rate.NewLimiter(l.limit, l.burst)})
	}
	if now.After(e.last) {
		e.last = now
	}
	return e.lim.AllowN(now, 1)
}

// Reset forgets key, e.g. an account after a successful login.
func (l *Limiter) Reset(key string) {
	key = limiterKey(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys.remove(key)
}

// Len returns how many keys are remembered (for metrics and tests).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.keys.len()
}

// dropIdle removes, from the least recently used end, buckets unused for
// long enough to have refilled completely.
func (l *Limiter) dropIdle(now time.Time) {
	for e := l.keys.oldest(); e != nil && now.Sub(e.last) >= l.refill; e = l.keys.oldest() {
		l.keys.removeOldest()
	}
}

func limiterKey(key string) string {
	if len(key) <= maxLimiterKey {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Recent remembers keys (an account and an address it logged in from) for
// a while, in bounded memory: at most maxKeys, the least recently used
// forgotten first. It is safe for concurrent use.
type Recent struct {
	mu   sync.Mutex
	ttl  time.Duration
	keys *lru[time.Time] // when each key was last added
}

// NewRecent remembers each key for ttl after it was last added.
func NewRecent(ttl time.Duration, maxKeys int) *Recent {
	return &Recent{ttl: ttl, keys: newLRU[time.Time](maxKeys)}
}

// Add remembers key as of now.
func (r *Recent) Add(key string, now time.Time) {
	key = limiterKey(key)
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := r.keys.get(key); t != nil {
		*t = now
		return
	}
	r.keys.add(key, now)
}

// Has reports whether key was added less than ttl before now.
func (r *Recent) Has(key string, now time.Time) bool {
	key = limiterKey(key)
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.keys.get(key)
	if t == nil {
		return false
	}
	if now.Sub(*t) >= r.ttl {
		r.keys.remove(key)
		return false
	}
	return true
}
