package testenv

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// HookDelivery is one request a HookReceiver got.
type HookDelivery struct {
	// The event as its JSON body says.
	ID       string
	Seq      int64
	Type     string
	CameraID string
	OrgID    string
	Time     time.Time
	End      *time.Time
	Ongoing  bool
	// Received is when it arrived; Status what the receiver answered.
	Received time.Time
	Status   int
	// SignatureOK says whether its Camcloud-Signature verified against
	// the receiver's secret, checked by code of its own (crypto/hmac, as
	// docs/api.md tells receivers to), not the webhooks package's.
	SignatureOK bool
	Header      http.Header
	Body        []byte
}

// Key names one delivered event version: a ranged event is delivered
// when it opens and again when it ends, with the same id and a new seq.
func (d HookDelivery) Key() string { return d.ID + "/" + strconv.FormatInt(d.Seq, 10) }

// HookReceiver is a webhook endpoint on 127.0.0.1 for tests. It records
// every request and answers what Answer returns (200 unless set; it may
// block, to hold a delivery in flight).
type HookReceiver struct {
	URL string

	mu     sync.Mutex
	secret string
	answer func(HookDelivery) int
	got    []HookDelivery
}

// NewHookReceiver starts a receiver until the test ends.
func NewHookReceiver(t testing.TB) *HookReceiver {
	h := &HookReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(srv.Close)
	h.URL = srv.URL + "/hook"
	return h
}

// SetSecret sets the secret signatures are checked against.
func (h *HookReceiver) SetSecret(s string) {
	h.mu.Lock()
	h.secret = s
	h.mu.Unlock()
}

// SetAnswer sets what the receiver answers a delivery (its status); nil
// answers 200.
func (h *HookReceiver) SetAnswer(fn func(HookDelivery) int) {
	h.mu.Lock()
	h.answer = fn
	h.mu.Unlock()
}

func (h *HookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var ev struct {
		ID       string     `json:"id"`
		Seq      int64      `json:"seq"`
		Type     string     `json:"type"`
		CameraID string     `json:"camera_id"`
		OrgID    string     `json:"org_id"`
		Time     time.Time  `json:"time"`
		End      *time.Time `json:"end"`
		Ongoing  bool       `json:"ongoing"`
	}
	_ = json.Unmarshal(body, &ev)
	h.mu.Lock()
	secret, answer := h.secret, h.answer
	h.mu.Unlock()
	d := HookDelivery{ID: ev.ID, Seq: ev.Seq, Type: ev.Type, CameraID: ev.CameraID, OrgID: ev.OrgID, Time: ev.Time, End: ev.End,
		Ongoing: ev.Ongoing, Received: time.Now(), Header: r.Header.Clone(), Body: body,
		SignatureOK: VerifyHookSignature(r.Header.Get("Camcloud-Signature"), body, secret)}
	d.Status = http.StatusOK
	if answer != nil {
		d.Status = answer(d)
	}
	h.mu.Lock()
	h.got = append(h.got, d)
	h.mu.Unlock()
	w.WriteHeader(d.Status)
}

// VerifyHookSignature checks a Camcloud-Signature header as docs/api.md
// describes it: "t=<unix>,v1=<hex>", some v1 being the HMAC-SHA256 of
// "<t>.<body>" keyed by the secret.
func VerifyHookSignature(header string, body []byte, secret string) bool {
	var ts string
	var sigs []string
	for _, p := range strings.Split(header, ",") {
		if v, ok := strings.CutPrefix(p, "t="); ok {
			ts = v
		} else if v, ok := strings.CutPrefix(p, "v1="); ok {
			sigs = append(sigs, v)
		}
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil || secret == "" {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + string(body)))
	want := hex.EncodeToString(m.Sum(nil))
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

// All returns every request received, in arrival order.
func (h *HookReceiver) All() []HookDelivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]HookDelivery(nil), h.got...)
}

// Accepted returns the deliveries answered 2xx, in arrival order.
func (h *HookReceiver) Accepted() []HookDelivery {
	var out []HookDelivery
	for _, d := range h.All() {
		if d.Status >= 200 && d.Status < 300 {
			out = append(out, d)
		}
	}
	return out
}

// Tally counts the accepted deliveries by Key: how many distinct event
// versions arrived, and how many arrived more than once (duplicates).
func (h *HookReceiver) Tally() (byKey map[string]int, duplicates int) {
	byKey = map[string]int{}
	acc := h.Accepted()
	for _, d := range acc {
		byKey[d.Key()]++
	}
	return byKey, len(acc) - len(byKey)
}

// WaitAccepted waits until n distinct event versions were accepted.
func (h *HookReceiver) WaitAccepted(t testing.TB, n int, within time.Duration) {
	t.Helper()
	Eventually(t, within, fmt.Sprintf("%d webhook deliveries", n), func() bool { k, _ := h.Tally(); return len(k) >= n })
}

// SetStatus makes the receiver answer every delivery with status.
func (h *HookReceiver) SetStatus(status int) {
	h.SetAnswer(func(HookDelivery) int { return status })
}

// MotionLike drives motion-like activity on cams for d: each camera has
// an episode every 20 s on average (the first within 20 s, then 10-30 s
// after the last one ended) lasting 2-8 s, and post is called at its
// start (end nil) and at its end, from one goroutine per camera, as a
// motion detector's open and close would be. It returns when d is over
// and every episode begun has ended.
func MotionLike(cams []string, d time.Duration, post func(cam string, start time.Time, end *time.Time)) {
	began := time.Now()
	var wg sync.WaitGroup
	for _, cam := range cams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := time.Duration(mrand.Int64N(int64(20 * time.Second)))
			for {
				time.Sleep(time.Until(began.Add(next)))
				if time.Since(began) > d {
					return
				}
				start := time.Now().UTC()
				post(cam, start, nil)
				time.Sleep(2*time.Second + time.Duration(mrand.Int64N(int64(6*time.Second))))
				end := time.Now().UTC()
				post(cam, start, &end)
				next = time.Since(began) + 10*time.Second + time.Duration(mrand.Int64N(int64(20*time.Second)))
			}
		}()
	}
	wg.Wait()
}

// Percentiles returns the 50th, 95th and 99th percentiles and the
// maximum of ds, rounded to the millisecond.
func Percentiles(ds []time.Duration) [4]time.Duration {
	var out [4]time.Duration
	if len(ds) == 0 {
		return out
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	for i, q := range []float64{0.50, 0.95, 0.99, 1} {
		out[i] = s[min(len(s)-1, int(q*float64(len(s))))].Round(time.Millisecond)
	}
	return out
}

// Lag is how long after its event a delivery arrived: after the event's
// end for the version that ended it, else after its time.
func (d HookDelivery) Lag() time.Duration {
	at := d.Time
	if d.End != nil {
		at = *d.End
	}
	return d.Received.Sub(at)
}
