package record

// fragmentBuffers recycles the buffers fragments are assembled in, so that
// memory grows with the number of cameras writing a fragment at the same
// instant rather than with the number of cameras. A bounded free list is
// used rather than a sync.Pool, which every garbage collection empties.
type fragmentBuffers struct{ free chan *[]byte }

// Bounds of the free list.
const (
	freeFragmentBuffers = 4
	maxPooledBuffer     = 4 << 20 // larger buffers (a huge fragment) are not kept
)

func newFragmentBuffers() *fragmentBuffers {
	return &fragmentBuffers{free: make(chan *[]byte, freeFragmentBuffers)}
}

func (p *fragmentBuffers) get() *[]byte {
	select {
	case b := <-p.free:
		return b
	default:
		b := []byte(nil)
		return &b
	}
}

func (p *fragmentBuffers) put(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	select {
	case p.free <- b:
	default:
	}
}
