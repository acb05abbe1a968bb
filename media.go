// Package camcloud holds the assets shipped inside the camcloud binary: the
// sample video that simulated and demo cameras loop (see testdata/README.md
// for how it was made).
package camcloud

import _ "embed"

// SampleH264 is testdata/sample-h264.ts: 10 s of 720p25 H.264 (2 s GOP) with
// AAC audio in MPEG-TS.
//
//go:embed testdata/sample-h264.ts
var SampleH264 []byte
