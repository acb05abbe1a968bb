package live

import (
	"sync"

	"github.com/camcloud/camcloud/internal/auth"
)

// maxCachedTokens bounds the token cache; when full it starts afresh.
const maxCachedTokens = 4096

// tokenCache remembers the media tokens already verified, with their
// claims and principal: an LL-HLS player sends its token with every
// playlist reload and part (about ten requests a second), and checking
// the signature and decoding the claims each time was a tenth of the
// server's work for a large audience. Only tokens whose signature
// verified are kept; expiry is still checked on every request.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]verifiedToken
}

// verifiedToken is what a verified token says and who it counts against.
type verifiedToken struct {
	claims auth.MediaClaims
	p      principal
}

func (c *tokenCache) get(tok string) (verifiedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[tok]
	return v, ok
}

func (c *tokenCache) put(tok string, v verifiedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedTokens {
		c.m = make(map[string]verifiedToken)
	}
	c.m[tok] = v
}
