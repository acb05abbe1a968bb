package live

import (
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestWHEPViewersShareOneFeedAndGetEveryFrame: several WebRTC viewers of
// one camera, one of them stalled (it never reads), are fed from one
// packetisation of the stream; every viewer that reads gets every video
// frame from its first keyframe on with no RTP sequence gap, and a
// recorder's reader gets every unit. So it is with a port per viewer and
// with one shared port (Deps.ICEUDP).
func TestWHEPViewersShareOneFeedAndGetEveryFrame(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		d    Deps
	}{
		{"a port per viewer", Deps{}},
		{"one shared port", Deps{ICEUDP: "127.0.0.1:0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.d.IdleTimeout, c.d.MaxSessionsPerToken = 10*time.Second, 10
			viewersShareOneFeed(t, c.d)
		})
	}
}

func viewersShareOneFeed(t *testing.T, d Deps) {
	e := newEnvDeps(t, d)
	if d.ICEUDP != "" && e.svc.rtc.mux == nil {
		t.Fatalf("the shared UDP port %s was not opened", d.ICEUDP)
	}
	var mu sync.Mutex
	var videoPTS []int64
	var units atomic.Int64
	st, _ := publish(t, e.hub, "cam", "sample-h264.ts", func(u *hub.Unit) {
		units.Add(1)
		if u.Track == 1 {
			mu.Lock()
			videoPTS = append(videoPTS, u.PTS)
			mu.Unlock()
		}
	})
	rec, err := st.NewReader(100000)
	if err != nil {
		t.Fatal(err)
	}
	var recorded atomic.Int64
	go func() {
		for range rec.C() {
			recorded.Add(1)
		}
	}()
	whep := e.base + "/live/v1/cam/whep?token=" + url.QueryEscape(e.token("cam", "live", time.Minute))
	const readers = 4
	var viewers []*whepClient
	for range readers {
		viewers = append(viewers, newWHEPClient(t, whep, false, true))
	}
	stalled := newWHEPClient(t, whep, false, false)
	for _, c := range append(viewers, stalled) {
		if c.status != 201 {
			t.Fatalf("WHEP: %d %s", c.status, c.body)
		}
	}
	testenv.Eventually(t, 15*time.Second, "every viewer to connect", func() bool {
		for _, c := range append(viewers, stalled) {
			if c.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
				return false
			}
		}
		return true
	})
	got := make([][]rtpArrival, readers)
	for i, c := range viewers {
		got[i] = c.waitPackets(t, 1, 15*time.Second)
	}
	off := feedVideoOffset(t, e.svc, "cam")
	e.svc.mu.Lock()
	feeds := len(e.svc.feeds)
	f := e.svc.feeds["cam"]
	e.svc.mu.Unlock()
	f.mu.Lock()
	packs, subs := len(f.packs), len(f.subs)
	f.mu.Unlock()
	if feeds != 1 || packs != 1 || subs != readers+1 {
		t.Fatalf("%d feeds, %d packetisers, %d viewers on the feed; want 1, 1 (video), %d", feeds, packs, subs, readers+1)
	}

	time.Sleep(4 * time.Second) // the stalled viewer's socket fills meanwhile
	mu.Lock()
	want := append([]int64(nil), videoPTS...)
	mu.Unlock()
	wantUnits := units.Load()
	// What was written by then arrives, however late on a busy machine.
	check := func(i int) string {
		c := viewers[i]
		for drained := false; !drained; {
			select {
			case p := <-c.packets:
				got[i] = append(got[i], p)
			default:
				drained = true
			}
		}
		// Retransmissions (NACK) may come out of order: every sequence
		// number from the first to the last must have arrived.
		frames := map[int64]bool{}
		seqs := map[int]bool{}
		lo, hi := 0, 0
		for _, p := range got[i] {
			d := int(int16(p.seq - got[i][0].seq))
			seqs[d] = true
			lo, hi = min(lo, d), max(hi, d)
			if p.marker {
				frames[int64(p.ts-off)] = true
			}
		}
		first := -1
		for k, pts := range want {
			if frames[pts] {
				first = k
				break
			}
		}
		if first < 0 {
			return fmt.Sprintf("viewer %d received none of the %d frames written", i, len(want))
		}
		missing := 0
		for _, pts := range want[first:] {
			if !frames[pts] {
				missing++
			}
		}
		switch {
		case len(seqs) != hi-lo+1:
			return fmt.Sprintf("viewer %d: %d RTP packets of %d never arrived", i, hi-lo+1-len(seqs), hi-lo+1)
		case missing > 0 || len(want)-first < 50:
			return fmt.Sprintf("viewer %d: %d of the %d frames since its first are missing", i, missing, len(want)-first)
		}
		return ""
	}
	var why string
	for deadline := time.Now().Add(30 * time.Second); ; {
		why = ""
		for i := range viewers {
			if w := check(i); w != "" {
				why = w
			}
		}
		if why == "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if why != "" {
		t.Error(why)
	}
	if recorded.Load() < wantUnits {
		t.Errorf("the recorder's reader got %d units of %d written", recorded.Load(), wantUnits)
	}
}

// TestRTPFeedDropsOnlyTheSlowViewer: a viewer whose queue is full loses
// its queue (and is told it overflowed, to start again at a keyframe);
// a viewer that keeps up gets every unit; the publisher never waits.
func TestRTPFeedDropsOnlyTheSlowViewer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10*time.Second)
	smp := testenv.Sample(t, "sample-h264.ts")
	st := e.hub.Publish("cam", smp.Tracks)
	defer st.Close()
	plans := func() []rtcPlan {
		p, _, err := planTracks(st.Tracks, map[string]bool{"video/h264": true})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	f, slow, err := e.svc.join(st, plans())
	if err != nil {
		t.Fatal(err)
	}
	_, fast, err := e.svc.join(st, plans())
	if err != nil {
		t.Fatal(err)
	}
	var got atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for it := range fast.ch {
			if len(it.pkts) > 0 {
				got.Add(1)
			}
		}
	}()
	// More video than a viewer's queue holds, less than the feed's reader.
	video := 0
	for k := 0; video < whepReaderBuf+50; k++ {
		for _, u := range smp.Loop(k) {
			if video == whepReaderBuf+50 {
				break
			}
			st.Write(u)
			if u.Track == 1 {
				video++
				// The fast viewer keeps up: it has each unit before the
				// next is written (on a loaded machine a reader goroutine
				// may otherwise not run while hundreds are written).
				testenv.Eventually(t, 10*time.Second, "the fast viewer to get the video unit", func() bool { return got.Load() == int64(video) })
			}
		}
	}
	if !f.overflowed(slow) {
		t.Fatalf("the slow viewer was not told it fell behind (%d queued, %d video written)", len(slow.ch), video)
	}
	n := 0
	for range slow.ch { // closed: this ends
		n++
	}
	if n != whepReaderBuf {
		t.Fatalf("the slow viewer's queue held %d items, want its bound %d", n, whepReaderBuf)
	}
	st.Close()
	<-done
}
