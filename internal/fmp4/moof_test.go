package fmp4

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// testTracks is a fragment of 25 video samples of 3600 and 3 audio samples
// of 1024.
func testTracks() []*Track {
	v := &Track{ID: 1, BaseTime: 900000, LengthPrefixed: true}
	for i := range 25 {
		v.Add(3600, 0, i > 0, [][]byte{{1, 2, 3, byte(i)}})
	}
	a := &Track{ID: 2, BaseTime: 480000}
	for range 3 {
		a.Add(1024, 0, false, [][]byte{{9, 9}})
	}
	return []*Track{v, a}
}

func TestParseAndRewriteMoof(t *testing.T) {
	frag := AppendFragment(nil, 7, testTracks())
	moofLen := int(binary.BigEndian.Uint32(frag))
	moof := frag[:moofLen]
	m, err := ParseMoof(moof)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Trafs) != 2 || m.Trafs[0].TrackID != 1 || m.Trafs[0].Base != 900000 || m.Trafs[0].Dur != 25*3600 ||
		m.Trafs[1].TrackID != 2 || m.Trafs[1].Base != 480000 || m.Trafs[1].Dur != 3*1024 {
		t.Fatalf("ParseMoof = %+v", m.Trafs)
	}
	m.SetSeq(moof, 9)
	if err := m.SetBase(moof, 0, 1<<40); err != nil {
		t.Fatal(err)
	}
	back, err := ParseMoof(moof)
	if err != nil || back.Trafs[0].Base != 1<<40 || back.Trafs[1].Base != 480000 {
		t.Fatalf("after rewriting: %+v, %v", back.Trafs, err)
	}
	if want := AppendFragment(nil, 9, testTracks()); bytes.Equal(frag, want) {
		t.Fatal("the rewrite changed nothing")
	}
	// A moof with anything after it, or not a moof, is refused.
	for name, b := range map[string][]byte{"moof+mdat": frag, "mdat": frag[moofLen:], "torn": moof[:moofLen-1]} {
		if _, err := ParseMoof(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestCopierRewritesMoofOnly(t *testing.T) {
	frag := AppendFragment(nil, 1, testTracks())
	var out bytes.Buffer
	var c Copier
	err := c.Copy(&out, bytes.NewReader(frag), int64(len(frag)), func(moof []byte) error {
		m, err := ParseMoof(moof)
		if err != nil {
			return err
		}
		m.SetSeq(moof, 5)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := AppendFragment(nil, 5, testTracks()); !bytes.Equal(out.Bytes(), want) {
		t.Fatal("copied fragment is not the original with the new sequence number")
	}
	if err := c.Copy(&out, bytes.NewReader(frag), int64(len(frag))+1, func([]byte) error { return nil }); err == nil {
		t.Error("a size other than the boxes' was accepted")
	}
}
