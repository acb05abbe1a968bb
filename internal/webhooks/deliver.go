package webhooks

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/store"
)

// hook is a webhook as a stream delivers it: its row and its secrets,
// opened once per change of the row.
type hook struct {
	w       store.Webhook
	secrets []string
}

// openHook opens w's secrets.
func (s *Service) openHook(w store.Webhook) (*hook, error) {
	sec, err := s.secrets(w, s.c.Now())
	if err != nil {
		return nil, err
	}
	return &hook{w: w, secrets: sec}, nil
}

// matches reports whether h wants e: an event of its organisation, of a
// camera and type its filters name (or any, when a filter is empty).
func (h *hook) matches(e events.Event) bool {
	w := h.w
	if e.OrgID != w.OrgID {
		return false
	}
	if len(w.Cameras) > 0 && !slices.Contains(w.Cameras, e.CameraID) {
		return false
	}
	if len(w.Types) == 0 || slices.Contains(w.Types, e.Type) {
		return true
	}
	return events.IsCustom(e.Type) && slices.Contains(w.Types, TypeAnyCustom)
}

// send POSTs one event's body to h, signed, and counts the outcome.
func (s *Service) send(ctx context.Context, h *hook, body []byte, eventID string, seq int64, attempt int) result {
	hd := http.Header{}
	hd.Set(HeaderSignature, SignatureHeader(s.c.Now(), body, h.secrets...))
	hd.Set(HeaderWebhookID, h.w.ID)
	hd.Set(HeaderEventID, eventID)
	hd.Set(HeaderEventSeq, strconv.FormatInt(seq, 10))
	hd.Set(HeaderAttempt, strconv.Itoa(attempt))
	r := s.cl.post(ctx, h.w.URL, body, hd)
	s.m.deliveries.WithLabelValues(r.outcome()).Inc()
	s.m.duration.Observe(r.Duration.Seconds())
	return r
}

// eventBody is what a delivery of e carries: its public JSON form.
func eventBody(e events.Event) []byte {
	b, err := json.Marshal(e.Wire())
	if err != nil {
		panic(err) // an event always marshals
	}
	return b
}

// backoff is the wait after the n-th failed round in a row: RetryMin
// doubling up to RetryMax, plus up to a tenth more at random so that
// many webhooks failing at once do not retry in step.
func (s *Service) backoff(n int) time.Duration {
	d := s.c.RetryMin
	for i := 1; i < n && d < s.c.RetryMax; i++ {
		d *= 2
	}
	d = min(d, s.c.RetryMax)
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

// Run delivers webhooks from this node until ctx ends: every
// ScanInterval it claims the webhook zones nobody delivers (free or
// expired leases, up to MaxStreams), hands webhook changes to the ones it
// delivers and stops those of webhooks deleted or turned off. On return
// every stream has finished its round in progress, saved its position
// and given up its lease, so that another node takes over at once.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.c.ScanInterval)
	defer t.Stop()
	for {
		s.scan(ctx)
		select {
		case <-ctx.Done():
			s.stopAll()
			return
		case <-t.C:
		}
	}
}

// stopAll waits for every stream to end (their context is Run's, ended).
func (s *Service) stopAll() {
	s.mu.Lock()
	all := make([]*stream, 0, len(s.streams))
	for _, st := range s.streams {
		all = append(all, st)
	}
	s.mu.Unlock()
	for _, st := range all {
		st.cancel()
		<-st.done
	}
}

// changeOverlap is how far back each incremental scan reads webhook
// changes before the start of the previous one: a change written by a
// node whose clock is behind this one's (or committed a moment after its
// update time) is still seen, if the clocks are less than this apart.
const changeOverlap = time.Minute

// scanLimit bounds the rows of one incremental read; when a read is full
// the scan lists everything instead.
const scanLimit = 1000

// scan is one round of Run. Every FullScanInterval (and first) it lists
// every webhook and cursor; in between it reads only the webhooks changed
// since the previous scan (created, modified, turned off or on) and the
// cursors free or expired, so that an idle fleet of webhooks costs each
// node two small reads a round, not a copy of the tables.
func (s *Service) scan(ctx context.Context) {
	now := s.c.Now()
	if s.known == nil || now.Sub(s.lastFull) >= s.c.FullScanInterval {
		s.fullScan(ctx, now)
		return
	}
	changed, err := s.c.Dir.ListWebhooksChangedSince(ctx, s.since.Add(-changeOverlap), scanLimit)
	if err != nil {
		s.logScan(ctx, "list changed webhooks", err)
		return
	}
	if len(changed) == scanLimit {
		s.fullScan(ctx, now)
		return
	}
	cursors, err := s.c.Dir.ListClaimableWebhookCursors(ctx, now, scanLimit)
	if err != nil {
		s.logScan(ctx, "list claimable cursors", err)
		return
	}
	s.m.scans.WithLabelValues("changes").Inc()
	s.since = now
	for _, w := range changed {
		s.learn(w)
	}
	for _, c := range cursors {
		if _, ok := s.known[c.WebhookID]; !ok {
			// Enabled since our last read began (its change is in the next).
			if w, err := s.c.Dir.GetWebhook(ctx, c.WebhookID); err == nil {
				s.learn(w)
			}
		}
	}
	s.updateStreams(s.known)
	s.claimFrom(ctx, cursors, now)
}

// learn keeps w's row as the scan knows it: only enabled webhooks are
// delivered. A deleted webhook is forgotten at the next full scan; its
// streams stop before, when their next save finds it gone.
func (s *Service) learn(w store.Webhook) {
	if w.Enabled {
		s.known[w.ID] = w
	} else {
		delete(s.known, w.ID)
	}
}

// fullScan lists every webhook and cursor: it forgets deleted webhooks,
// gives webhooks cursors in zones added since they were made, and claims.
func (s *Service) fullScan(ctx context.Context, now time.Time) {
	hooks, err := s.c.Dir.ListWebhooks(ctx, "")
	if err != nil {
		s.logScan(ctx, "list webhooks", err)
		return
	}
	cursors, err := s.c.Dir.ListWebhookCursors(ctx, "")
	if err != nil {
		s.logScan(ctx, "list cursors", err)
		return
	}
	s.m.scans.WithLabelValues("full").Inc()
	s.known, s.lastFull, s.since = map[string]store.Webhook{}, now, now
	for _, w := range hooks {
		s.learn(w)
	}
	zones := s.c.Events.Zones()
	have := map[streamKey]bool{}
	for _, c := range cursors {
		have[streamKey{c.WebhookID, c.Zone}] = true
	}
	for id := range s.known {
		for _, zn := range zones {
			if !have[streamKey{id, zn}] {
				s.addCursor(ctx, id, zn) // a zone added since the webhook was made: claimed next scan
			}
		}
	}
	s.updateStreams(s.known)
	s.claimFrom(ctx, cursors, now)
}

// claimFrom claims, in random order, the cursors of known webhooks in
// this node's zones that nobody delivers, up to MaxStreams.
func (s *Service) claimFrom(ctx context.Context, cursors []store.WebhookCursor, now time.Time) {
	zones := s.c.Events.Zones()
	rand.Shuffle(len(cursors), func(i, j int) { cursors[i], cursors[j] = cursors[j], cursors[i] })
	for _, c := range cursors {
		w, ok := s.known[c.WebhookID]
		mine, n := s.held(streamKey{c.WebhookID, c.Zone})
		switch {
		case !ok, mine, !slices.Contains(zones, c.Zone):
			continue
		case c.LeaseOwner != "" && c.LeaseOwner != s.c.Node && c.LeaseUntil.After(now):
			continue // another node delivers it
		case n >= s.c.MaxStreams:
			return
		}
		s.claim(ctx, w, c.Zone, now)
	}
}

// logScan logs a failed scan unless the node is stopping.
func (s *Service) logScan(ctx context.Context, what string, err error) {
	if ctx.Err() == nil {
		s.log.Warn("webhooks: scan: "+what, "err", err)
	}
}

// addCursor gives webhook id a cursor for zone zn at the zone's head.
func (s *Service) addCursor(ctx context.Context, id, zn string) {
	head, err := s.c.Events.Head(ctx, zn)
	if err == nil {
		err = s.c.Dir.AddWebhookCursor(ctx, store.WebhookCursor{WebhookID: id, Zone: zn, Seq: head})
	}
	if err != nil {
		s.logScan(ctx, "add cursor", err)
	}
}

// held reports whether this node runs key's stream, and how many it runs.
func (s *Service) held(key streamKey) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.streams[key]
	return ok, len(s.streams)
}

// updateStreams stops the streams of webhooks no longer enabled and hands
// the others their webhook's current row.
func (s *Service) updateStreams(enabled map[string]store.Webhook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, st := range s.streams {
		w, ok := enabled[key.webhook]
		if !ok {
			st.cancel()
			continue
		}
		if cur := st.hook.Load(); cur.w.UpdatedAt.Equal(w.UpdatedAt) && !(len(cur.secrets) > 1 && !s.c.Now().Before(w.PrevSecretUntil)) {
			continue // unchanged, and no rotated-out secret past its grace
		}
		h, err := s.openHook(w)
		if err != nil {
			s.log.Error("webhooks: secret cannot be opened: stopping its delivery", "webhook", w.ID, "err", err)
			st.cancel()
			continue
		}
		st.hook.Store(h)
		st.poke()
	}
}

// claim takes the lease of w's cursor in zone zn and starts its stream.
func (s *Service) claim(ctx context.Context, w store.Webhook, zn string, now time.Time) {
	h, err := s.openHook(w)
	if err != nil {
		s.log.Error("webhooks: secret cannot be opened (was the media key changed?): not delivering", "webhook", w.ID, "err", err)
		return
	}
	until := now.Add(s.c.LeaseTTL)
	c, ok, err := s.c.Dir.ClaimWebhookCursor(ctx, w.ID, zn, s.c.Node, until, now)
	if err != nil {
		s.logScan(ctx, "claim", err)
		return
	}
	if !ok {
		return
	}
	sctx, cancel := context.WithCancel(ctx)
	st := &stream{s: s, key: streamKey{w.ID, zn}, cancel: cancel, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	st.hook.Store(h)
	st.until.Store(until.UnixNano())
	s.mu.Lock()
	s.streams[st.key] = st
	s.mu.Unlock()
	s.log.Debug("webhooks: delivering", "webhook", w.ID, "zone", zn, "seq", c.Seq)
	go st.run(sctx, c)
}
