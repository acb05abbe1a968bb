// Package holds is the legal-hold service: a hold on a camera and a
// recorded range, with a reason, keeps the recordings that overlap it past
// retention, storage quotas and the local-disk guard (package retention
// reads the holds before it deletes) until it is released, and a camera
// with holds cannot be deleted (store.DeleteCamera refuses). Who may
// place, list and release holds is decided by package authz.
package holds

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/names"
	"github.com/camcloud/camcloud/internal/store"
)

// Bounds of a hold's input.
const (
	// MaxReason is the most characters a reason may have.
	MaxReason = 500
	// MaxLength is the longest range one hold may cover.
	MaxLength = 10 * 366 * 24 * time.Hour
	// MaxAhead is how far into the future a hold may reach (a hold may
	// keep what is about to be recorded).
	MaxAhead = 366 * 24 * time.Hour
)

// InputError is a refused hold: its message says which field and why (a
// 400).
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// ErrTooMany is the refusal of a hold on a camera that has
// store.MaxHoldsPerCamera of them already (a 409).
var ErrTooMany = fmt.Errorf("a camera has at most %d legal holds at once: release one first", store.MaxHoldsPerCamera)

// Spec is a hold as asked for.
type Spec struct {
	From, To time.Time
	Reason   string
}

// Service places, lists and releases holds.
type Service struct {
	dir store.Directory
	now func() time.Time
}

// New returns the service; now may be nil (time.Now).
func New(dir store.Directory, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{dir: dir, now: now}
}

// Validate checks sp against the bounds and returns it cleaned (reason
// trimmed, times in UTC).
func (s *Service) Validate(sp Spec) (Spec, error) {
	now := s.now()
	switch {
	case sp.From.IsZero() || sp.To.IsZero():
		return sp, &InputError{"from and to are required (RFC 3339 times)"}
	case !sp.From.Before(sp.To):
		return sp, &InputError{"from must be before to"}
	case sp.To.Sub(sp.From) > MaxLength:
		return sp, &InputError{"a hold covers at most 10 years"}
	case sp.To.After(now.Add(MaxAhead)):
		return sp, &InputError{"to is more than a year from now"}
	case sp.From.Year() < 2000:
		return sp, &InputError{"from is before the year 2000"}
	}
	r := strings.TrimSpace(sp.Reason)
	switch {
	case r == "":
		return sp, &InputError{"reason is required"}
	case !utf8.ValidString(r):
		return sp, &InputError{"reason must be UTF-8 text"}
	case utf8.RuneCountInString(r) > MaxReason:
		return sp, &InputError{fmt.Sprintf("reason is longer than %d characters", MaxReason)}
	}
	for i, c := range []rune(r) {
		if c != '\n' && !names.Printable(c) {
			return sp, &InputError{fmt.Sprintf("reason must not contain control or bidirectional formatting characters (U+%04X at character %d)", c, i+1)}
		}
	}
	return Spec{From: sp.From.UTC(), To: sp.To.UTC(), Reason: r}, nil
}

// Place puts a hold on cam for p (authz.PlaceHold).
func (s *Service) Place(ctx context.Context, p *authz.Principal, cam store.Camera, sp Spec) (store.Hold, error) {
	if err := authz.PlaceHold(p, cam); err != nil {
		return store.Hold{}, err
	}
	sp, err := s.Validate(sp)
	if err != nil {
		return store.Hold{}, err
	}
	h := store.Hold{ID: newID(), OrgID: cam.OrgID, CameraID: cam.ID, From: sp.From, To: sp.To, Reason: sp.Reason,
		CreatedBy: p.UserID, CreatedByEmail: p.Email, CreatedAt: s.now().UTC()}
	switch err := s.dir.CreateHold(ctx, h); {
	case errors.Is(err, store.ErrLimit):
		return store.Hold{}, ErrTooMany
	case err != nil:
		return store.Hold{}, err
	}
	return h, nil
}

// List returns cam's holds, by start, for p (authz.ViewHolds).
func (s *Service) List(ctx context.Context, p *authz.Principal, cam store.Camera) ([]store.Hold, error) {
	if err := authz.ViewHolds(p, cam); err != nil {
		return nil, err
	}
	return s.dir.ListHolds(ctx, []string{cam.ID})
}

// Release deletes hold id of cam for p (authz.ReleaseHold) and returns it.
func (s *Service) Release(ctx context.Context, p *authz.Principal, cam store.Camera, id string) (store.Hold, error) {
	if err := authz.ReleaseHold(p, cam); err != nil {
		return store.Hold{}, err
	}
	return s.dir.DeleteHold(ctx, cam.ID, id)
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
