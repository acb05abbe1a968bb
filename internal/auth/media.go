package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors of media token verification. Verify wraps them with a short reason;
// test with errors.Is.
var (
	// ErrTokenInvalid means the token is malformed, forged, signed with an
	// unknown key or bound to another camera or permission.
	ErrTokenInvalid = errors.New("auth: invalid media token")
	// ErrTokenExpired means the token was genuine but its time is over.
	ErrTokenExpired = errors.New("auth: media token expired")
)

// Bounds on media tokens, so a hostile token costs little to reject.
const (
	// MinSignerKey is the shortest accepted HMAC key, in bytes.
	MinSignerKey   = 32
	maxMediaToken  = 2048
	maxClaimField  = 256
	mediaTokenVer  = 1
	mediaMACDomain = "camcloud media token v1\x00"
)

// MediaClaims is what a media token grants: one permission on one camera
// until Expires, and for playback only the range [From, To].
type MediaClaims struct {
	CameraID string
	Perm     string    // e.g. "live", "playback", "export"
	Expires  time.Time // the token is refused at and after this instant
	From, To time.Time // playback range; both zero when not a playback token
	Subject  string    // user (or API key) id the token was issued to, for audit
	// Share is the share link the token was minted for ("" for a user's
	// token): media routes then also ask whether the link still holds,
	// so that revoking it stops its holders at their next request.
	Share string
}

// mediaPayload is the signed JSON form of MediaClaims. Times are Unix
// nanoseconds so they survive the round trip exactly.
type mediaPayload struct {
	V int    `json:"v"`
	C string `json:"c"`
	P string `json:"p"`
	E int64  `json:"e"`
	F int64  `json:"f,omitempty"`
	T int64  `json:"t,omitempty"`
	S string `json:"s,omitempty"`
	H string `json:"h,omitempty"`
}

// Signer makes and checks media tokens with HMAC-SHA256. It signs with its
// current key and accepts tokens of any of its keys, so keys can be rotated
// without cutting off players mid-session. It is safe for concurrent use.
type Signer struct {
	keys [][]byte // keys[0] signs
}

// NewSigner returns a Signer that signs with current and also verifies tokens
// made with any of previous. Every key must have at least MinSignerKey bytes.
func NewSigner(current []byte, previous ...[]byte) (*Signer, error) {
	s := &Signer{}
	for i, k := range append([][]byte{current}, previous...) {
		if len(k) < MinSignerKey {
			return nil, fmt.Errorf("auth: media signing key %d has %d bytes, want at least %d", i, len(k), MinSignerKey)
		}
		s.keys = append(s.keys, bytes.Clone(k))
	}
	return s, nil
}

// Sign returns the token for c: base64url(JSON payload) "." base64url(MAC).
// CameraID, Perm and Expires are required; From and To are both set (From
// not after To) or both zero.
func (s *Signer) Sign(c MediaClaims) (string, error) {
	if err := checkClaims(c); err != nil {
		return "", err
	}
	p := mediaPayload{V: mediaTokenVer, C: c.CameraID, P: c.Perm, E: c.Expires.UnixNano(), S: c.Subject, H: c.Share}
	if !c.From.IsZero() {
		p.F, p.T = c.From.UnixNano(), c.To.UnixNano()
	}
	js, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("auth: encoding media token: %w", err)
	}
	body := base64.RawURLEncoding.EncodeToString(js)
	tok := body + "." + base64.RawURLEncoding.EncodeToString(mac(s.keys[0], body))
	if len(tok) > maxMediaToken {
		return "", fmt.Errorf("auth: media token would be %d bytes, over %d", len(tok), maxMediaToken)
	}
	return tok, nil
}

// Verify checks token's signature against every key of s and its expiry
// against now, and returns its claims. Errors wrap ErrTokenInvalid or
// ErrTokenExpired. It never calls a database.
func (s *Signer) Verify(token string, now time.Time) (MediaClaims, error) {
	if len(token) > maxMediaToken {
		return MediaClaims{}, fmt.Errorf("%w: too long", ErrTokenInvalid)
	}
	body, sig, ok := strings.Cut(token, ".")
	if !ok || body == "" || strings.Contains(sig, ".") {
		return MediaClaims{}, fmt.Errorf("%w: not two dot-separated parts", ErrTokenInvalid)
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return MediaClaims{}, fmt.Errorf("%w: bad signature encoding", ErrTokenInvalid)
	}
	match := false
	for _, k := range s.keys {
		// Check every key so timing does not tell which one matched.
		if hmac.Equal(got, mac(k, body)) {
			match = true
		}
	}
	if !match {
		return MediaClaims{}, fmt.Errorf("%w: bad signature", ErrTokenInvalid)
	}
	// From here on the payload is ours; still decode it defensively.
	js, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		return MediaClaims{}, fmt.Errorf("%w: bad payload encoding", ErrTokenInvalid)
	}
	var p mediaPayload
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || dec.More() || p.V != mediaTokenVer {
		return MediaClaims{}, fmt.Errorf("%w: bad payload", ErrTokenInvalid)
	}
	c := MediaClaims{CameraID: p.C, Perm: p.P, Expires: time.Unix(0, p.E).UTC(), Subject: p.S, Share: p.H}
	if p.F != 0 || p.T != 0 {
		c.From, c.To = time.Unix(0, p.F).UTC(), time.Unix(0, p.T).UTC()
	}
	if err := checkClaims(c); err != nil {
		return MediaClaims{}, fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	}
	if !now.Before(c.Expires) {
		return MediaClaims{}, fmt.Errorf("%w: at %s", ErrTokenExpired, c.Expires.Format(time.RFC3339))
	}
	return c, nil
}

// VerifyFor is Verify plus a check that the token was issued for cameraID and
// perm: what a camera server calls before serving a stream.
func (s *Signer) VerifyFor(token, cameraID, perm string, now time.Time) (MediaClaims, error) {
	c, err := s.Verify(token, now)
	if err != nil {
		return c, err
	}
	if c.CameraID != cameraID || c.Perm != perm {
		return MediaClaims{}, fmt.Errorf("%w: issued for another camera or permission", ErrTokenInvalid)
	}
	return c, nil
}

// mac is HMAC-SHA256 of the encoded payload under key, domain-separated so a
// key shared with another use cannot produce a valid media token.
func mac(key []byte, body string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(mediaMACDomain))
	h.Write([]byte(body))
	return h.Sum(nil)
}

// checkClaims validates the fields of c on both Sign and Verify.
func checkClaims(c MediaClaims) error {
	switch {
	case !utf8.ValidString(c.CameraID) || !utf8.ValidString(c.Perm) || !utf8.ValidString(c.Subject) || !utf8.ValidString(c.Share):
		return fmt.Errorf("auth: media token fields must be valid UTF-8")
	case c.CameraID == "" || len(c.CameraID) > maxClaimField:
		return fmt.Errorf("auth: media token camera id must have 1 to %d bytes", maxClaimField)
	case c.Perm == "" || len(c.Perm) > maxClaimField:
		return fmt.Errorf("auth: media token permission must have 1 to %d bytes", maxClaimField)
	case len(c.Subject) > maxClaimField || len(c.Share) > maxClaimField:
		return fmt.Errorf("auth: media token subject or share longer than %d bytes", maxClaimField)
	case !inNanoRange(c.Expires):
		return fmt.Errorf("auth: media token expiry missing or out of range")
	case c.From.IsZero() != c.To.IsZero():
		return fmt.Errorf("auth: media token needs both From and To, or neither")
	case !c.From.IsZero() && (!inNanoRange(c.From) || !inNanoRange(c.To) || c.To.Before(c.From)):
		return fmt.Errorf("auth: media token range is out of range or reversed")
	}
	return nil
}

// Times a token can carry: Unix nanoseconds from 1970 to 2200, excluding the
// epoch itself, which encodes "absent".
var (
	minTokenTime = time.Unix(0, 1)
	maxTokenTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

func inNanoRange(t time.Time) bool {
	return !t.Before(minTokenTime) && t.Before(maxTokenTime)
}
