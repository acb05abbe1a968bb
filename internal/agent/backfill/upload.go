package backfill

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/store"
)

// upload brings one segment to the cloud: it continues the upload in
// progress (asking the cloud how much it holds), or offers the segment
// anew, then sends its bytes chunk by chunk from the acknowledged offset,
// recording each acknowledged offset, until the cloud stores it. sent
// tells whether any bytes went out.
func (w *Worker) upload(ctx context.Context, s store.Segment) (sent bool, err error) {
	log := w.log.With("camera", s.CameraID, "start", s.Start, "bytes", s.Size)
	u, ok, err := w.resume(ctx, s)
	if err != nil {
		return false, err
	}
	if !ok {
		sum, err := w.hash(ctx, s)
		if errors.Is(err, blob.ErrNotFound) {
			return false, nil // dropped from the ring meanwhile: the drop is reported
		}
		if err != nil {
			return false, &localError{err}
		}
		init, err := w.init(ctx, s)
		if err != nil {
			return false, &localError{err}
		}
		offer, err := w.client.Create(ctx, s.CameraID, Segment{Start: s.Start, End: s.End, Size: s.Size, SHA256: sum, Init: init})
		var ref *RefusedError
		switch {
		case errors.Is(err, ErrNotMissing):
			w.stats.notMissing.Add(1)
			w.skipped(s)
			w.filled(ctx, s)
			log.Info("backfill: the cloud does not lack this segment (or it reaches outside the gap); skipped", "err", err)
			return false, nil
		case errors.As(err, &ref):
			return false, w.refuse(ctx, s, sum, ref)
		case err != nil:
			return false, err
		case offer.Stored:
			w.stats.alreadyStored.Add(1)
			w.skipped(s)
			w.filled(ctx, s)
			return false, nil
		}
		u = Upload{Camera: s.CameraID, Start: s.Start, SHA256: sum, ID: offer.ID, Acked: offer.Offset, Size: s.Size, Chunk: offer.Chunk}
		if err := w.state.SaveUpload(ctx, u); err != nil {
			return false, err
		}
	}
	for {
		if !w.cfg.Schedule.Open(time.Now()) || !w.up() {
			return sent, errPaused
		}
		// Once every byte is acknowledged with no "stored" (the completion
		// was cut off, or failed in the cloud: a store away), a chunk of 0
		// bytes completes it; offered again, the upload would come back
		// with every byte acknowledged, for ever.
		n := min(u.Chunk, u.Size-u.Acked)
		off, done, err := w.sendChunk(ctx, s.Key, u, n)
		sent = sent || n > 0
		var mis *OffsetMismatch
		var ref *RefusedError
		switch {
		case errors.As(err, &mis):
			log.Info("backfill: the cloud holds a different offset; continuing from it", "ours", u.Acked, "cloud", mis.Offset)
			off = mis.Offset
		case errors.Is(err, ErrUploadGone), errors.Is(err, blob.ErrNotFound):
			return sent, w.state.ForgetUpload(ctx, s.CameraID, s.Start)
		case errors.As(err, &ref):
			return sent, w.refuse(ctx, s, u.SHA256, ref)
		case err != nil:
			return sent, err
		case done:
			return sent, w.stored(ctx, s, log)
		case n == 0: // taken but not stored: offered anew next time
			return sent, w.state.ForgetUpload(ctx, s.CameraID, s.Start)
		}
		if off < 0 || off > u.Size {
			return sent, fmt.Errorf("backfill: the cloud acknowledged offset %d of a %d-byte upload", off, u.Size)
		}
		u.Acked = off
		if err := w.state.SaveUpload(ctx, u); err != nil {
			return sent, err
		}
	}
}

// stored records that the cloud stored s.
func (w *Worker) stored(ctx context.Context, s store.Segment, log *slog.Logger) error {
	w.stats.uploaded.Add(1)
	w.stats.uploadedBytes.Add(s.Size)
	w.filled(ctx, s)
	w.uploaded(s)
	log.Info("backfill: segment stored in the cloud", "duration", s.End.Sub(s.Start))
	return w.state.ForgetUpload(ctx, s.CameraID, s.Start)
}

// resume returns the upload in progress of s with the offset the cloud
// holds now; ok false when there is none to continue.
func (w *Worker) resume(ctx context.Context, s store.Segment) (Upload, bool, error) {
	u, ok, err := w.state.Upload(ctx, s.CameraID, s.Start)
	if err != nil || !ok {
		return Upload{}, false, err
	}
	if u.Size != s.Size {
		return Upload{}, false, w.state.ForgetUpload(ctx, s.CameraID, s.Start)
	}
	off, length, err := w.client.Head(ctx, u.ID)
	switch {
	case errors.Is(err, ErrUploadGone):
		return Upload{}, false, w.state.ForgetUpload(ctx, s.CameraID, s.Start)
	case err != nil:
		return Upload{}, false, err
	case length != u.Size || off > u.Size:
		return Upload{}, false, w.state.ForgetUpload(ctx, s.CameraID, s.Start)
	}
	if off != u.Acked {
		w.log.Debug("backfill: resuming at the cloud's offset", "camera", s.CameraID, "start", s.Start, "saved", u.Acked, "cloud", off)
	}
	u.Acked = off
	return u, true, nil
}

// sendChunk sends n bytes of u from its acknowledged offset, paced (none
// when n is 0: the chunk that completes an upload whose bytes the cloud
// holds).
func (w *Worker) sendChunk(ctx context.Context, key string, u Upload, n int64) (int64, bool, error) {
	if n == 0 {
		return w.client.Patch(ctx, u.ID, u.Acked, bytes.NewReader(nil), 0)
	}
	rc, err := w.blobs.GetRange(ctx, key, u.Acked, n)
	if err != nil {
		return 0, false, err
	}
	defer rc.Close()
	body := &countingReader{r: w.pacer.Reader(ctx, rc), n: &w.stats.sentBytes}
	return w.client.Patch(ctx, u.ID, u.Acked, body, n)
}

// hash is the SHA-256 of the segment's object, in hex.
func (w *Worker) hash(ctx context.Context, s store.Segment) (string, error) {
	rc, err := w.blobs.Get(ctx, s.Key)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return "", err
	}
	if n != s.Size {
		return "", fmt.Errorf("backfill: segment %s holds %d bytes, its index row says %d", s.Key, n, s.Size)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// init reads the init segment s needs.
func (w *Worker) init(ctx context.Context, s store.Segment) ([]byte, error) {
	rc, err := w.blobs.Get(ctx, s.InitKey)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxInit+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxInit {
		return nil, fmt.Errorf("backfill: init segment %s is larger than %d bytes", s.InitKey, MaxInit)
	}
	return b, nil
}

// refuse records a segment the cloud refused for good and says so.
func (w *Worker) refuse(ctx context.Context, s store.Segment, sum string, ref *RefusedError) error {
	w.stats.refused.Add(1)
	w.log.Error("backfill: the cloud refused a segment; it is not sent again", "camera", s.CameraID, "start", s.Start, "end", s.End,
		"bytes", s.Size, "status", ref.Status, "code", ref.Code, "reason", ref.Message)
	if err := w.state.Refuse(ctx, s.CameraID, s.Start, sum, fmt.Sprintf("%d %s: %s", ref.Status, ref.Code, ref.Message)); err != nil {
		return err
	}
	return w.state.ForgetUpload(ctx, s.CameraID, s.Start)
}

// localError is a segment the agent cannot read from its own ring
// buffer (a damaged file, a missing init segment): that segment is left
// alone, the others go on.
type localError struct{ err error }

func (e *localError) Error() string { return "backfill: reading the local segment: " + e.err.Error() }
func (e *localError) Unwrap() error { return e.err }

// countingReader counts the bytes read through it into n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	k, err := c.r.Read(b)
	c.n.Add(int64(k))
	return k, err
}
