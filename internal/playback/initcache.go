package playback

import (
	"bytes"
	"context"
	"net/http"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
)

// Bounds of initCache: at most maxCachedInits entries of at most
// maxCachedInit bytes each (an init segment is a few hundred bytes to a
// few KiB), so at most 64 MiB in all; larger ones are not cached.
const (
	maxCachedInits = 1024
	maxCachedInit  = 64 << 10
)

// initCache keeps, by camera and object key, the init segments that this
// node's VOD playlists named, so that a player's EXT-X-MAP request is
// answered from memory instead of costing a round trip to the object
// store before its first segment: at a playback's start the player asks
// for the playlist, the init segment and the first segment one after the
// other. Init objects never change (their key is a hash of their bytes).
// An init segment holds the camera's codec parameters and no picture, so
// one found here is served to any playback token of its camera without
// the index lookup that segment objects get (allowedObject).
type initCache struct {
	c *lru.Cache[initRef, []byte]
}

// initRef names a cached init segment.
type initRef struct{ camera, key string }

func newInitCache() *initCache {
	c, err := lru.New[initRef, []byte](maxCachedInits)
	if err != nil {
		panic(err) // only for a size <= 0
	}
	return &initCache{c: c}
}

// get returns camera's init segment key, if cached.
func (ic *initCache) get(camera, key string) ([]byte, bool) {
	return ic.c.Get(initRef{camera, key})
}

// load makes sure camera's init segment key is cached, reading it with
// read on a miss; it reports whether it is (false: too large, or the read
// failed, and the caller names the object as it would have).
func (ic *initCache) load(ctx context.Context, camera, key string, read func(context.Context, string) ([]byte, error)) bool {
	if _, ok := ic.c.Get(initRef{camera, key}); ok {
		return true
	}
	b, err := read(ctx, key)
	if err != nil || len(b) > maxCachedInit {
		return false
	}
	ic.c.Add(initRef{camera, key}, b)
	return true
}

// serveCachedInit answers a GET of cam's init object key from the
// cache, and reports whether it did.
func (s *Service) serveCachedInit(w http.ResponseWriter, r *http.Request, cam store.Camera, key, share string) bool {
	b, ok := s.inits.get(cam.ID, key)
	if !ok {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", contentType(key))
	h.Set("Cache-Control", "private, max-age=3600, immutable")
	http.ServeContent(s.egress(w, cam, usage.EgressVOD, share), r, "", time.Time{}, bytes.NewReader(b))
	return true
}
