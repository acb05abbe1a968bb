package account

import (
	"context"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/store"
)

// maxKeyLifetime bounds how far ahead an API key's expiry may be.
const maxKeyLifetime = 10 * 365 * 24 * time.Hour

// Caller is who a token authenticates: a user with their session, or with
// the API key used (Session is then zero).
type Caller struct {
	User    store.User
	Session store.Session
	APIKey  *store.APIKey
}

// Resolve resolves a session token or an API key to its caller. Expired
// sessions and keys are ErrUnauthenticated.
func (s *Service) Resolve(ctx context.Context, token string) (Caller, error) {
	if token == "" || len(token) > 200 {
		return Caller{}, ErrUnauthenticated
	}
	hash := auth.HashToken(token)
	now := s.now()
	if strings.HasPrefix(token, auth.APIKeyPrefix) {
		k, err := s.dir.GetAPIKeyByHash(ctx, hash)
		if err != nil {
			return Caller{}, unauth(err)
		}
		if !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
			return Caller{}, ErrUnauthenticated
		}
		u, err := s.dir.GetUser(ctx, k.UserID)
		if err != nil {
			return Caller{}, unauth(err)
		}
		if k.LastUsed == nil || now.Sub(*k.LastUsed) > time.Minute {
			_ = s.dir.TouchAPIKey(ctx, k.ID, now.UTC())
		}
		return Caller{User: u, APIKey: &k}, nil
	}
	sess, err := s.dir.GetSession(ctx, hash)
	if err != nil {
		return Caller{}, unauth(err)
	}
	if !now.Before(sess.ExpiresAt) {
		_ = s.dir.DeleteSession(ctx, hash)
		return Caller{}, ErrUnauthenticated
	}
	u, err := s.dir.GetUser(ctx, sess.UserID)
	if err != nil {
		return Caller{}, unauth(err)
	}
	return Caller{User: u, Session: sess}, nil
}

// Authenticate is Resolve for callers that need only the user and the
// session (zero for API keys).
func (s *Service) Authenticate(ctx context.Context, token string) (store.User, store.Session, error) {
	c, err := s.Resolve(ctx, token)
	return c.User, c.Session, err
}

// CreateAPIKey issues a key for u with scope (store.ScopeFull, the default
// for "", or store.ScopeRead) that stops working at expires (zero: never);
// the key is returned once and stored hashed. ErrBadKeyRequest for another
// scope or an expiry not ahead.
func (s *Service) CreateAPIKey(ctx context.Context, u store.User, name, scope string, expires time.Time) (store.APIKey, string, error) {
	now := s.now()
	if scope == "" {
		scope = store.ScopeFull
	}
	if scope != store.ScopeFull && scope != store.ScopeRead ||
		!expires.IsZero() && (!expires.After(now) || expires.Sub(now) > maxKeyLifetime) {
		return store.APIKey{}, "", ErrBadKeyRequest
	}
	token, hash, err := auth.NewToken(auth.APIKeyPrefix)
	if err != nil {
		return store.APIKey{}, "", err
	}
	k := store.APIKey{ID: NewID(), UserID: u.ID, Name: name, Prefix: token[:9], Hash: hash, CreatedAt: now.UTC(),
		Scope: scope, ExpiresAt: expires.UTC()}
	if err := s.dir.CreateAPIKey(ctx, k); err != nil {
		return store.APIKey{}, "", err
	}
	return k, token, nil
}

// ListAPIKeys returns u's API keys (never the keys themselves).
func (s *Service) ListAPIKeys(ctx context.Context, userID string) ([]store.APIKey, error) {
	return s.dir.ListAPIKeys(ctx, userID)
}

// DeleteAPIKey revokes one of userID's keys; ErrNotFound for another's.
func (s *Service) DeleteAPIKey(ctx context.Context, userID, id string) error {
	return s.dir.DeleteAPIKey(ctx, userID, id)
}
