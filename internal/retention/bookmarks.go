package retention

import (
	"context"
	"fmt"
	"time"
)

// expireBookmarks deletes a camera's bookmarks that ended before cutoff,
// with the recordings they marked.
func (s *Sweeper) expireBookmarks(ctx context.Context, cameraID string, cutoff time.Time) error {
	if _, err := s.c.Index.DeleteBookmarks(ctx, cameraID, cutoff); err != nil {
		return fmt.Errorf("camera %s: expired bookmarks: %w", cameraID, err)
	}
	return nil
}

// orphanBookmarks deletes every bookmark of the cameras that no longer
// exist (known: the zone's cameras).
func (s *Sweeper) orphanBookmarks(ctx context.Context, known map[string]bool, now time.Time) error {
	ids, err := s.c.Index.BookmarkCameras(ctx)
	if err != nil {
		return fmt.Errorf("list cameras with bookmarks: %w", err)
	}
	for _, id := range ids {
		if !known[id] {
			if err := s.expireBookmarks(ctx, id, now.Add(100*365*24*time.Hour)); err != nil {
				return err
			}
		}
	}
	return nil
}
