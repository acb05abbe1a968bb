package camserver_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestBadInputDoesNotHurtOthers: while one camera records, the RTSP and
// RTMP ports get random bytes, truncated requests, a wrong secret, an
// unknown camera and an unsupported codec. Each is refused; the good
// camera's recording has no gap, and nothing is recorded for the others.
func TestBadInputDoesNotHurtOthers(t *testing.T) {
	t.Parallel()
	testenv.Tool(t, "ffprobe")
	n := startNode(t, t.TempDir())
	smp := testenv.Sample(t, "sample-h264.ts")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	good := n.camera("good", nil)
	victim := n.camera("victim", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = sim.Push(ctx, []string{good.Ingest.RTSP}, smp, log) }()
	time.Sleep(3 * time.Second)

	rtsp, rtmp := n.app.CamServer.RTSPAddr(), n.app.CamServer.RTMPAddr()
	junk := func(addr string, payload []byte) {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Errorf("dial %s: %v", addr, err)
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		_, _ = c.Write(payload)
		_, _ = io.Copy(io.Discard, io.LimitReader(c, 1<<16)) // until the server hangs up or the deadline
	}
	random := make([]byte, 64<<10)
	_, _ = rand.Read(random)
	wrongSecret := strings.Replace(victim.Ingest.RTSP, victim.Ingest.RTSP[strings.LastIndex(victim.Ingest.RTSP, "/")+1:], strings.Repeat("0", 32), 1)
	unknownCam := strings.Replace(victim.Ingest.RTSP, victim.ID, strings.Repeat("f", 32), 1)
	sdpMJPEG := "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\na=control:trackID=0\r\n"
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		for _, j := range []struct {
			addr string
			b    []byte
		}{
			{rtsp, random},
			{rtmp, random},
			{rtsp, []byte("ANNOUNCE rtsp://x/cam RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 500\r\n\r\nv=0\r\n")}, // truncated body
			{rtsp, []byte("OPTIONS * RTSP/1.0\r\nCSeq")},                                                      // truncated header
			{rtmp, []byte{0x03, 0, 0, 0}},                                                                     // truncated handshake
			{rtsp, []byte("ANNOUNCE " + victim.Ingest.RTSP + " RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: " + strconv.Itoa(len(sdpMJPEG)) + "\r\n\r\n" + sdpMJPEG)},
		} {
			wg.Add(1)
			go func() { defer wg.Done(); junk(j.addr, j.b) }()
		}
		// Wrong secret and unknown camera with a real publisher.
		wg.Add(2)
		go func() {
			defer wg.Done()
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			defer pcancel()
			_ = sim.PublishOnce(pctx, wrongSecret, smp, nil)
		}()
		go func() {
			defer wg.Done()
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			defer pcancel()
			_ = sim.PublishOnce(pctx, unknownCam, smp, nil)
		}()
	}
	wg.Wait()
	time.Sleep(8 * time.Second)
	cancel()
	n.stop()
	rows := n.segments(good.ID)
	if g := gaps(rows, 100*time.Millisecond); len(g) > 0 {
		t.Errorf("good camera has gaps while others misbehaved: %v", g)
	}
	checkRecording(t, n, good.ID, "h264", "aac")
	if r := n.segments(victim.ID); len(r) > 0 {
		t.Errorf("refused publishers were recorded: %d rows", len(r))
	}
}
