// Package orgs is the organisation service: creating an organisation with
// its owner, adding members (creating their account when needed, inviting
// existing accounts, which join only by accepting), changing and removing
// roles. Each operation that checks a rule and writes runs in
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
	// ErrNeedPassword: no account has the email and no password was
	// given. No longer returned (such an email is invited); kept for
	// callers that still test for it.
	ErrNeedPassword = errors.New("no account has this email: give a password to create it")
	// ErrEmailTaken: the account to create appeared meanwhile.
	ErrEmailTaken = errors.New("an account with this email already exists")
	// ErrAccountExists: a password was given for an existing account. No
	// longer returned (the account is invited); kept for callers.
	ErrAccountExists = errors.New("an account with this email already exists: add it without a password")
	// ErrTooManyInvitations: the organisation has too many pending
	// invitations (1000).
	ErrTooManyInvitations = errors.New("the organisation has too many pending invitations: withdraw some first")
	// ErrAlreadyMember: the user is a member already.
	ErrAlreadyMember = errors.New("already a member (the membership exists); change the role with PATCH")
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
	return store.FindMember(ctx, s.dir, orgID, userID)
}

// invitationTTL is how long an invitation may be accepted.
const invitationTTL = 7 * 24 * time.Hour

// AddMember adds the account of email (normalised) to orgID with role. An
// account is created (with password) and made a member at once only when
// password is given and no account has the email. Otherwise no account
// joins without its consent: an invitation of the email is stored, which
// its account lists and accepts, and the answer (inv) is the same whether
// or not any account has the email. p must be allowed to grant role, and
// an operator on support duty may not add itself. created is the account
// made, also when a later step failed, so that the caller can audit it.
func (s *Service) AddMember(ctx context.Context, p *authz.Principal, orgID, email, password, role string) (m store.Membership, inv *store.Invitation, created *store.User, err error) {
	if err := authz.SetRole(p, orgID, "", role); err != nil {
		return m, nil, nil, err
	}
	if err := authz.ChangeOwnMembership(p, orgID, "", email); err != nil {
		return m, nil, nil, err
	}
	u, err := s.dir.GetUserByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound) && password != "":
		u, err = s.accounts.CreateUser(ctx, email, password, false)
		if errors.Is(err, store.ErrConflict) {
			return m, nil, nil, ErrEmailTaken
		}
		if err != nil {
			return m, nil, nil, &AccountError{err}
		}
		created = &u
	case errors.Is(err, store.ErrNotFound):
		return s.invite(ctx, p, orgID, email, role)
	case err != nil:
		return m, nil, nil, err
	default:
		// An existing account: only a member of this organisation may be
		// told apart (409), which the caller can see in the member list.
		if _, err := s.Member(ctx, orgID, u.ID); err == nil {
			return m, nil, nil, ErrAlreadyMember
		}
		return s.invite(ctx, p, orgID, email, role)
	}
	m = store.Membership{OrgID: orgID, UserID: u.ID, Email: u.Email, Role: role}
	err = s.dir.AddMembership(ctx, m)
	if errors.Is(err, store.ErrConflict) {
		err = ErrAlreadyMember // added by a concurrent request
	}
	return m, nil, created, err
}

// invite stores an invitation of email to orgID with role by p.
func (s *Service) invite(ctx context.Context, p *authz.Principal, orgID, email, role string) (store.Membership, *store.Invitation, *store.User, error) {
	now := s.now().UTC()
	inv := store.Invitation{ID: account.NewID(), OrgID: orgID, Email: email, Role: role, InvitedBy: p.UserID,
		CreatedAt: now, ExpiresAt: now.Add(invitationTTL)}
	if err := s.dir.PutInvitation(ctx, inv); err != nil {
		if errors.Is(err, store.ErrLimit) {
			err = ErrTooManyInvitations
		}
		return store.Membership{}, nil, nil, err
	}
	return store.Membership{}, &inv, nil, nil
}

// Invitations returns the pending invitations of u's email.
func (s *Service) Invitations(ctx context.Context, u store.User) ([]store.Invitation, error) {
	return s.dir.ListInvitations(ctx, u.Email, s.now())
}

// OrgInvitations returns orgID's pending invitations; p must manage its
// members.
func (s *Service) OrgInvitations(ctx context.Context, p *authz.Principal, orgID string) ([]store.Invitation, error) {
	if err := authz.Org(p, orgID, authz.OrgManageMembers); err != nil {
		return nil, err
	}
	return s.dir.ListOrgInvitations(ctx, orgID, s.now())
}

// Accept makes u a member as invitation id (of u's email) offers; it is
// then spent. store.ErrNotFound for an invitation of another email, used
// or expired; ErrAlreadyMember when u is a member already.
func (s *Service) Accept(ctx context.Context, u store.User, id string) (store.Membership, error) {
	m, err := s.dir.AcceptInvitation(ctx, id, u.Email, u.ID, s.now())
	if errors.Is(err, store.ErrConflict) {
		err = ErrAlreadyMember
	}
	return m, err
}

// Decline deletes invitation id of u's email and returns it as it was.
func (s *Service) Decline(ctx context.Context, u store.User, id string) (store.Invitation, error) {
	return s.dir.DeleteInvitation(ctx, id, "", u.Email)
}

// Revoke deletes invitation id of orgID; p must manage its members.
func (s *Service) Revoke(ctx context.Context, p *authz.Principal, orgID, id string) error {
	if err := authz.Org(p, orgID, authz.OrgManageMembers); err != nil {
		return err
	}
	_, err := s.dir.DeleteInvitation(ctx, id, orgID, "")
	return err
}

// SetRole changes userID's role in orgID to role, or removes them when role
// is "". An operator on support duty in orgID may not change itself. In
// one transaction it checks that p may make this change from the
// current role and that the organisation keeps an owner
// (store.ErrLastOwner). It returns the membership as it was.
func (s *Service) SetRole(ctx context.Context, p *authz.Principal, orgID, userID, role string) (store.Membership, error) {
	if err := authz.ChangeOwnMembership(p, orgID, userID, ""); err != nil {
		return store.Membership{}, err
	}
	return s.dir.ChangeMember(ctx, orgID, userID, role, func(cur store.Membership) error {
		return authz.SetRole(p, orgID, cur.Role, role)
	})
}
