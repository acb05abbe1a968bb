package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Headers of a delivery.
const (
	// HeaderSignature is "t=<unix seconds>,v1=<hex HMAC-SHA256>" (one v1
	// per secret in use: two while a rotated-out secret is in its grace).
	HeaderSignature = "Camcloud-Signature"
	HeaderWebhookID = "Camcloud-Webhook-Id"
	HeaderEventID   = "Camcloud-Event-Id"
	// HeaderEventSeq is the event's place in its zone's log: a ranged
	// event is delivered when it opens and again when it ends, with the
	// same id and a new seq, so (id, seq) names one delivery.
	HeaderEventSeq = "Camcloud-Event-Seq"
	HeaderAttempt  = "Camcloud-Delivery-Attempt"
)

// secretPrefix starts every signing secret.
const secretPrefix = "whsec_"

// newSecret returns a new signing secret: "whsec_" and 32 random
// characters (192 bits).
func newSecret() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // the system random source never fails on Linux
	}
	return secretPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// Sign returns the hex HMAC-SHA256 of "<t>.<body>" keyed with the secret
// (the whole string, prefix included).
func Sign(secret string, t int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(t, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// SignatureHeader is the Camcloud-Signature value of body sent at t,
// signed with each secret.
func SignatureHeader(t time.Time, body []byte, secrets ...string) string {
	ts := t.Unix()
	var b strings.Builder
	b.WriteString("t=" + strconv.FormatInt(ts, 10))
	for _, s := range secrets {
		b.WriteString(",v1=" + Sign(s, ts, body))
	}
	return b.String()
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("webhooks: no valid signature")
	ErrStale        = errors.New("webhooks: signature timestamp out of tolerance")
)

// Verify checks a Camcloud-Signature header of body as a receiver does:
// some v1 must be the HMAC of "<t>.<body>" under secret, and t within
// tolerance of now (replays of old deliveries are refused).
func Verify(header string, body []byte, secret string, tolerance time.Duration, now time.Time) error {
	var ts int64 = -1
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return ErrBadSignature
			}
			ts = n
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if ts < 0 || len(sigs) == 0 {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	want := []byte(Sign(secret, ts, body))
	for _, s := range sigs {
		if hmac.Equal([]byte(s), want) {
			return nil
		}
	}
	return ErrBadSignature
}
