package auth

import (
	"container/list"
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
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	refill  time.Duration // time for an empty bucket to become full again
	maxKeys int
	lru     *list.List // of *limiterEntry, most recently used first
	byKey   map[string]*list.Element
}

// limiterEntry is one key's bucket and when it was last used.
type limiterEntry struct {
	key  string
	lim  *rate.Limiter
	last time.Time
}

// NewLimiter allows each key burst attempts at once and perMinute attempts a
// minute after that, remembering at most maxKeys keys. Values below 1 are
// raised to 1.
func NewLimiter(perMinute int, burst int, maxKeys int) *Limiter {
	perMinute, burst, maxKeys = max(perMinute, 1), max(burst, 1), max(maxKeys, 1)
	return &Limiter{
		limit:   rate.Limit(float64(perMinute) / 60),
		burst:   burst,
		refill:  time.Duration(burst) * time.Minute / time.Duration(perMinute),
		maxKeys: maxKeys,
		lru:     list.New(),
		byKey:   make(map[string]*list.Element),
	}
}

// Allow reports whether one more attempt for key is allowed at now, and
// counts it when it is.
func (l *Limiter) Allow(key string, now time.Time) bool {
	key = limiterKey(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropIdle(now)
	el, ok := l.byKey[key]
	if !ok {
		for l.lru.Len() >= l.maxKeys {
			l.remove(l.lru.Back())
		}
		el = l.lru.PushFront(&limiterEntry{key: key, lim: rate.NewLimiter(l.limit, l.burst)})
		l.byKey[key] = el
	} else {
		l.lru.MoveToFront(el)
	}
	e := el.Value.(*limiterEntry)
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
	if el, ok := l.byKey[key]; ok {
		l.remove(el)
	}
}

// Len returns how many keys are remembered (for metrics and tests).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// dropIdle removes, from the least recently used end, buckets unused for
// long enough to have refilled completely.
func (l *Limiter) dropIdle(now time.Time) {
	for el := l.lru.Back(); el != nil; el = l.lru.Back() {
		if now.Sub(el.Value.(*limiterEntry).last) < l.refill {
			return
		}
		l.remove(el)
	}
}

func (l *Limiter) remove(el *list.Element) {
	l.lru.Remove(el)
	delete(l.byKey, el.Value.(*limiterEntry).key)
}

func limiterKey(key string) string {
	if len(key) <= maxLimiterKey {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}
