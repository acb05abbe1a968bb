// Package zone opens every configured zone (its database and object store)
// and routes per-camera work to the zone a camera lives in.
package zone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/store"
)

// Zone is one opened zone.
type Zone struct {
	Name  string
	DB    store.Zone
	Blobs blob.Store
	// ProxyPlayback: recorded HLS objects go through the api nodes, never
	// presigned (config.Store.ProxyPlayback).
	ProxyPlayback bool
}

// Registry holds the opened zones by name.
type Registry struct {
	zones map[string]*Zone
}

// Open opens every zone of the configuration.
func Open(ctx context.Context, zs []config.Zone, log *slog.Logger) (*Registry, error) {
	r := &Registry{zones: map[string]*Zone{}}
	for _, zc := range zs {
		z, err := openZone(ctx, zc, log)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("zone %s: %w", zc.Name, err)
		}
		r.zones[zc.Name] = z
	}
	return r, nil
}

func openZone(ctx context.Context, zc config.Zone, log *slog.Logger) (*Zone, error) {
	db, err := store.OpenZone(ctx, zc.DB, log)
	if err != nil {
		return nil, err
	}
	bs, err := OpenStore(ctx, zc.Store)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &Zone{Name: zc.Name, DB: db, Blobs: bs, ProxyPlayback: zc.Store.ProxyPlayback}, nil
}

// OpenStore opens the object store a zone's configuration names.
func OpenStore(ctx context.Context, sc config.Store) (blob.Store, error) {
	switch sc.Type {
	case "local":
		return blob.NewLocal(sc.Dir)
	case "s3":
		s, err := blob.NewS3(ctx, blob.S3Config{Endpoint: sc.Endpoint, Region: sc.Region, Bucket: sc.Bucket, Prefix: sc.Prefix,
			AccessKey: sc.AccessKey, SecretKey: sc.SecretKey, UseTLS: sc.UseTLS, PathStyle: sc.PathStyle})
		if err != nil {
			return nil, err
		}
		// Create the bucket on first use; a store that is down now is
		// reported by readiness, not a reason to refuse to start.
		bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = s.EnsureBucket(bctx)
		return s, nil
	}
	return nil, fmt.Errorf("unknown store type %q", sc.Type)
}

// Get returns the named zone.
func (r *Registry) Get(name string) (*Zone, error) {
	z, ok := r.zones[name]
	if !ok {
		return nil, fmt.Errorf("zone %q is not configured on this node", name)
	}
	return z, nil
}

// Names lists the zones in order.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.zones))
	for n := range r.zones {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Ping checks every zone's DB and store; it names the first that fails.
func (r *Registry) Ping(ctx context.Context) error {
	var errs []error
	for _, n := range r.Names() {
		z := r.zones[n]
		if err := z.DB.Ping(ctx); err != nil {
			errs = append(errs, fmt.Errorf("zone %s db: %w", n, err))
		}
		if err := z.Blobs.Ping(ctx); err != nil {
			errs = append(errs, fmt.Errorf("zone %s store: %w", n, err))
		}
	}
	return errors.Join(errs...)
}

// Close closes every zone DB.
func (r *Registry) Close() {
	for _, z := range r.zones {
		_ = z.DB.Close()
	}
}
