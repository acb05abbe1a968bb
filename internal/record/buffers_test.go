package record

import "testing"

func TestFragmentBuffersBounded(t *testing.T) {
	p := newFragmentBuffers()
	var held []*[]byte
	for range freeFragmentBuffers + 4 {
		b := p.get()
		*b = append(*b, 1, 2, 3)
		held = append(held, b)
	}
	for _, b := range held {
		p.put(b)
	}
	if n := len(p.free); n != freeFragmentBuffers {
		t.Fatalf("free list holds %d buffers, want at most %d", n, freeFragmentBuffers)
	}
	if b := p.get(); len(*b) != 0 || cap(*b) == 0 {
		t.Fatalf("recycled buffer: len %d cap %d, want empty with room", len(*b), cap(*b))
	}
	huge := make([]byte, 0, maxPooledBuffer+1)
	p = newFragmentBuffers()
	p.put(&huge)
	if len(p.free) != 0 {
		t.Fatal("an oversized buffer was kept")
	}
}
