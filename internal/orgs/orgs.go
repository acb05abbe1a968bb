// Package orgs is the organisation service: creating an organisation with
// its owner, adding members (creating their account when needed), changing
// and removing roles. Each operation that checks a rule and writes runs in
// one directory transaction, so the rules hold under concurrent requests:
// above all, an organisation always keeps an owner.
package orgs

import (
	"context"
	"errors"
	"time"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/names"
	"github.com/camcloud/camcloud/internal/store"
)

// Errors of AddMember; handlers answer them with the message as it is.
var (
	// ErrNeedPassword: no account has the email and no password was given.
	ErrNeedPassword = errors.New("no account has this email: give a password to create it")
	// ErrEmailTaken: the account to create appeared meanwhile.
	ErrEmailTaken = errors.New("an account with this email already exists")
	// ErrAccountExists: a password was given for an existing account.
	ErrAccountExists = errors.New("an account with this email already exists: add it without a password")
	// ErrAlreadyMember: the user is a member already.
	ErrAlreadyMember = errors.New("already a member; change the role with PATCH")
)

// AccountError is why a new member's account could not be created (a weak
// password, say); handlers answer 400 with its message.
type AccountError struct{ Err error }

func (e *AccountError) Error() string { return e.Err.Error() }

func (e *AccountError) Unwrap() error { return e.Err }

// Service implements organisation operations over the directory.
type Service struct {
	dir      store.Directory
	accounts *account.Service
	now      func() time.Time
}

// New returns the service; accounts creates the accounts of new members.
func New(dir store.Directory, accounts *account.Service) *Service {
	return &Service{dir: dir, accounts: accounts, now: time.Now}
}

// MaxNameChars bounds an organisation name in characters; names.MaxBytes
// bounds it in bytes.
const MaxNameChars = 100

// ValidateName returns an organisation name trimmed, or an error (its
// message ready for a 400) when it is empty, too long in characters or
// bytes, or holds control or bidirectional formatting characters.
func ValidateName(name string) (string, error) {
	return names.Check("name", name, MaxNameChars)
}

// Create makes an organisation named name (checked with ValidateName) owned by p.
func (s *Service) Create(ctx context.Context, p *authz.Principal, name string) (store.Org, error) {
	if err := authz.CreateOrg(p); err != nil {
		return store.Org{}, err
	}
	o := store.Org{ID: account.NewID(), Name: name, CreatedAt: s.now().UTC()}
	return o, s.dir.CreateOrgWithOwner(ctx, o, p.UserID)
}

// Get returns one organisation.
func (s *Service) Get(ctx context.Context, id string) (store.Org, error) {
	return s.dir.GetOrg(ctx, id)
}

// List returns the organisations p belongs to (or acts in), skipping any
// deleted meanwhile.
func (s *Service) List(ctx context.Context, p *authz.Principal) ([]store.Org, error) {
	out := []store.Org{}
	for _, id := range p.Orgs() {
		o, err := s.dir.GetOrg(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// Memberships returns the organisations userID is a member of, with roles.
func (s *Service) Memberships(ctx context.Context, userID string) ([]store.Membership, error) {
	return s.dir.ListMemberships(ctx, userID)
}

// Members returns an organisation's members by email.
func (s *Service) Members(ctx context.Context, orgID string) ([]store.Membership, error) {
	return s.dir.ListMembers(ctx, orgID)
}

// Member returns userID's membership of orgID, or store.ErrNotFound.
func (s *Service) Member(ctx context.Context, orgID, userID string) (store.Membership, error) {
	ms, err := s.dir.ListMembers(ctx, orgID)
	if err != nil {
		return store.Membership{}, err
	}
	for _, m := range ms {
		if m.UserID == userID {
			return m, nil
		}
	}
	return store.Membership{}, store.ErrNotFound
}

// AddMember makes the account of email (normalised) a member of orgID
// with role, creating the account with password when it does not exist
// (password must be empty otherwise). p must be allowed to grant role.
// created is the account made, also when a later step failed, so that the
// caller can audit it.
func (s *Service) AddMember(ctx context.Context, p *authz.Principal, orgID, email, password, role string) (m store.Membership, created *store.User, err error) {
	u, err := s.dir.GetUserByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if password == "" {
			return m, nil, ErrNeedPassword
		}
		u, err = s.accounts.CreateUser(ctx, email, password, false)
		if errors.Is(err, store.ErrConflict) {
			return m, nil, ErrEmailTaken
		}
		if err != nil {
			return m, nil, &AccountError{err}
		}
		created = &u
	case err != nil:
		return m, nil, err
	case password != "":
		return m, nil, ErrAccountExists
	}
	if _, err := s.Member(ctx, orgID, u.ID); err == nil {
		return m, created, ErrAlreadyMember
	}
	if err := authz.SetRole(p, orgID, "", role); err != nil {
		return m, created, err
	}
	m = store.Membership{OrgID: orgID, UserID: u.ID, Email: u.Email, Role: role}
	err = s.dir.AddMembership(ctx, m)
	if errors.Is(err, store.ErrConflict) {
		err = ErrAlreadyMember // added by a concurrent request
	}
	return m, created, err
}

// SetRole changes userID's role in orgID to role, or removes them when role
// is "". In one transaction it checks that p may make this change from the
// current role and that the organisation keeps an owner
// (store.ErrLastOwner). It returns the membership as it was.
func (s *Service) SetRole(ctx context.Context, p *authz.Principal, orgID, userID, role string) (store.Membership, error) {
	return s.dir.ChangeMember(ctx, orgID, userID, role, func(cur store.Membership) error {
		return authz.SetRole(p, orgID, cur.Role, role)
	})
}
