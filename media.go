// Package camcloud holds the assets shipped inside the camcloud binary: the
// sample videos that simulated and demo cameras loop (see testdata/README.md
// for how they were made).
package camcloud

import _ "embed"

// SampleH264 is testdata/sample-h264.ts: 10 s of 720p25 H.264 (2 s GOP) with
// AAC audio in MPEG-TS.
//
//go:embed testdata/sample-h264.ts
var SampleH264 []byte

// SampleMovingH264 is testdata/sample-moving-h264.ts: 30 s of a still
// 512x288 15 fps H.264 test pattern that a box crosses during [12 s, 17 s],
// with AAC audio, in MPEG-TS; looped, it shows a motion event every 30 s.
//
//go:embed testdata/sample-moving-h264.ts
var SampleMovingH264 []byte

// Scene returns the built-in sample of a `camcloud sim --scene` name:
// "pattern" (SampleH264) or "moving" (SampleMovingH264).
func Scene(name string) ([]byte, bool) {
	switch name {
	case "pattern":
		return SampleH264, true
	case "moving":
		return SampleMovingH264, true
	}
	return nil, false
}
