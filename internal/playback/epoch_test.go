package playback

import "time"

// epoch is the wall-clock time the index rows of the unit tests start at.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
