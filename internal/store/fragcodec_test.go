package store

import (
	"reflect"
	"testing"
	"time"
)

func TestFragmentsRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frags []Fragment
	}{
		{"none", nil},
		{"contiguous", []Fragment{
			{Offset: 0, Size: 120000, Start: 0, Duration: 1001 * time.Millisecond, Key: true},
			{Offset: 120000, Size: 80000, Start: 1001 * time.Millisecond, Duration: 999 * time.Millisecond},
		}},
		{"gaps and jumps back", []Fragment{
			{Offset: 1 << 40, Size: 1, Start: time.Hour, Duration: 1},
			{Offset: 5, Size: 0, Start: 3, Duration: 0, Key: true},
		}},
		{"extremes", []Fragment{{Offset: 1<<63 - 1, Size: 1<<63 - 1, Start: 1<<63 - 1, Duration: 1<<63 - 1, Key: true}, {Offset: 0}}},
	} {
		b, err := encodeFragments(tc.frags)
		must(t, err)
		got, err := decodeFragments(b)
		must(t, err)
		if !reflect.DeepEqual(got, tc.frags) {
			t.Errorf("%s: round trip = %+v, want %+v", tc.name, got, tc.frags)
		}
	}
	// A typical 60 s segment of 1 s fragments stays small.
	var frags []Fragment
	for i := 0; i < 60; i++ {
		frags = append(frags, Fragment{Offset: int64(i) * 150000, Size: 150000, Start: time.Duration(i) * time.Second, Duration: time.Second, Key: true})
	}
	b, _ := encodeFragments(frags)
	if len(b) > 60*12 {
		t.Errorf("60 fragments encode to %d bytes, want at most 720", len(b))
	}
	if _, err := encodeFragments(make([]Fragment, MaxFragments+1)); err == nil {
		t.Error("encoding too many fragments succeeded")
	}
}

func TestDecodeFragmentsRejects(t *testing.T) {
	good, _ := encodeFragments([]Fragment{{Offset: 0, Size: 10, Duration: time.Second, Key: true}})
	for name, b := range map[string][]byte{
		"version":        {2, 1, 0, 0, 0, 0, 0},
		"no count":       {1},
		"zero count":     {1, 0},
		"huge count":     {1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0},
		"truncated":      good[:len(good)-1],
		"trailing bytes": append(append([]byte{}, good...), 0),
		"bad flags":      {1, 1, 2, 0, 0, 0, 0},
	} {
		if _, err := decodeFragments(b); err == nil {
			t.Errorf("%s: decode of %x succeeded", name, b)
		}
	}
}

// FuzzDecodeFragments checks that any stored bytes decode without panic or
// unbounded allocation, and that whatever decodes re-encodes to the same
// fragments. Run with: go test -fuzz FuzzDecodeFragments ./internal/store
func FuzzDecodeFragments(f *testing.F) {
	seed, _ := encodeFragments([]Fragment{
		{Offset: 0, Size: 1000, Duration: time.Second, Key: true},
		{Offset: 1000, Size: 500, Start: time.Second, Duration: time.Second},
	})
	f.Add(seed)
	f.Add([]byte{})
	f.Add([]byte{1, 1, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		frags, err := decodeFragments(b)
		if err != nil {
			return
		}
		if len(frags) > len(b) {
			t.Fatalf("%d fragments from %d bytes", len(frags), len(b))
		}
		again, err := encodeFragments(frags)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, err := decodeFragments(again)
		if err != nil || !reflect.DeepEqual(back, frags) {
			t.Fatalf("re-decode = %+v, %v; want %+v", back, err, frags)
		}
	})
}
