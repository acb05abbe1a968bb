// Package webhooks is the webhook service: an organisation's endpoints
// (URL, event-type and camera filters, a signing secret shown once),
// managed for a principal, and their delivery from every api node.
//
// Each zone's event log is the outbox. A webhook has one cursor per zone
// in the directory: the sequence number up to which every event has been
// delivered (or did not match), and a lease naming the one api node that
// delivers that zone's events to that webhook now. The holder reads the
// log after the cursor, POSTs each matching event signed with HMAC-SHA256
// (Camcloud-Signature: t=...,v1=...), in order per camera, and moves the
// cursor after the 2xx answers, renewing its lease in the same fenced
// write. A node that dies mid-delivery loses its lease; another takes the
// cursor over and sends again what was not yet recorded as delivered: at
// least once, duplicates only around a failure. A failing endpoint holds
// back its own cursor only, retried with exponential backoff; after
// DisableAfter (24 h) of failures the webhook is turned off, an event of
// type webhook.disabled recorded and the change audited.
package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/audit"
	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/netpolicy"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
)

// Config configures a Service.
type Config struct {
	Dir    store.Directory
	Events *events.Service
	// Audit receives the entry of a webhook turned off after failing; nil:
	// none.
	Audit *audit.Log
	// Meter counts the deliveries answered 2xx per camera (usage); nil:
	// not counted.
	Meter *usage.Meter
	// Policy decides where webhooks may be sent (webhook_allow), checked
	// when a URL is set and again for every connection.
	Policy *netpolicy.Policy
	// AllowHTTP lets webhook URLs be http:// (else https:// only).
	AllowHTTP bool
	// SecretKey seals the signing secrets at rest (the media key: every
	// api node has it); a key of its own is derived from it.
	SecretKey []byte
	// Node names this process in leases and the delivery log (default:
	// host name, process id and a random suffix).
	Node       string
	Log        *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
	// Resolver resolves webhook host names when a URL is set (default
	// net.DefaultResolver).
	Resolver *net.Resolver

	// LeaseTTL is how long a node's claim of a webhook's zone lasts
	// without renewal (default DefaultLeaseTTL, 15 s; config
	// webhook_lease): how long a dead node's deliveries wait before
	// another node takes them over. The holder renews it every third.
	LeaseTTL time.Duration
	// ScanInterval is how often a node looks for webhooks to deliver and
	// for changes to them (default 2 s): the webhooks changed since its
	// last look and the cursors free or expired.
	ScanInterval time.Duration
	// FullScanInterval is how often a node lists every webhook and cursor
	// instead (default 5 min; and at start): it forgets deleted webhooks
	// and adds cursors for zones added since a webhook was made.
	FullScanInterval time.Duration
	// Timeout bounds one delivery: connection, request and answer
	// (default 10 s).
	Timeout time.Duration
	// RetryMin and RetryMax bound the backoff between failed rounds
	// (default 1 s doubling up to 10 min).
	RetryMin, RetryMax time.Duration
	// DisableAfter is how long a webhook may fail before it is turned off
	// (default 24 h).
	DisableAfter time.Duration
	// Parallel is how many cameras' events one webhook's zone sends at
	// once (default 4); each camera's go one after another.
	Parallel int
	// MaxStreams bounds the webhook zones this node delivers at once
	// (default 1000).
	MaxStreams int
	// KeepDeliveries is about how many attempts each webhook's log keeps
	// (default 1000).
	KeepDeliveries int
	// SecretGrace is how long a rotated-out secret still signs, beside
	// the new one (default 24 h).
	SecretGrace time.Duration
}

// DefaultLeaseTTL is Config.LeaseTTL's default.
const DefaultLeaseTTL = 15 * time.Second

// Service manages webhooks and delivers events to them.
type Service struct {
	c   Config
	log *slog.Logger
	box *auth.SecretBox
	m   *metrics
	cl  *client

	// Run's scans (its goroutine only): the enabled webhooks as last read,
	// when everything was last listed, and when the last read of changes
	// began.
	known    map[string]store.Webhook
	lastFull time.Time
	since    time.Time

	mu      sync.Mutex
	streams map[streamKey]*stream // delivered by this node
	trims   map[string]int        // log rows written per webhook since its last trim
}

// New returns the service; its metrics are registered on c.Registerer.
func New(c Config) (*Service, error) {
	if c.Dir == nil || c.Events == nil || c.Policy == nil {
		return nil, fmt.Errorf("webhooks: Dir, Events and Policy are required")
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	if c.Node == "" {
		c.Node = nodeName()
	}
	defaults := []struct {
		v *time.Duration
		d time.Duration
	}{{&c.LeaseTTL, DefaultLeaseTTL}, {&c.ScanInterval, 2 * time.Second}, {&c.FullScanInterval, 5 * time.Minute}, {&c.Timeout, 10 * time.Second},
		{&c.RetryMin, time.Second}, {&c.RetryMax, 10 * time.Minute}, {&c.DisableAfter, 24 * time.Hour}, {&c.SecretGrace, 24 * time.Hour}}
	for _, d := range defaults {
		if *d.v <= 0 {
			*d.v = d.d
		}
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = c.RetryMin
	}
	if c.Parallel <= 0 {
		c.Parallel = 4
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = 1000
	}
	if c.KeepDeliveries <= 0 {
		c.KeepDeliveries = 1000
	}
	m := hmac.New(sha256.New, c.SecretKey)
	m.Write([]byte("camcloud webhook secrets v1"))
	box, err := auth.NewSecretBox(m.Sum(nil))
	if err != nil || len(c.SecretKey) < auth.MinSignerKey {
		return nil, fmt.Errorf("webhooks: secret key of %d bytes, want at least %d", len(c.SecretKey), auth.MinSignerKey)
	}
	s := &Service{c: c, log: c.Log, box: box, streams: map[streamKey]*stream{}, trims: map[string]int{}}
	s.cl = newClient(c.Policy, c.Timeout)
	s.m = newMetrics(s)
	if c.Registerer != nil {
		if err := s.m.register(c.Registerer); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// nodeName is this process's default name in leases: host, process id
// and a random suffix (a restarted process is a new node; its old leases
// expire).
func nodeName() string {
	host, _ := os.Hostname()
	if len(host) > 32 {
		host = host[:32]
	}
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randHex(4))
}

// randHex returns n random bytes in hex.
func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // the system random source never fails on Linux
	}
	return hex.EncodeToString(b)
}

// newID returns a random 32-hex-character id.
func newID() string { return randHex(16) }

// InputError is a refused webhook setting: the API answers 400.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func invalid(format string, a ...any) error { return &InputError{Msg: fmt.Sprintf(format, a...)} }
