package live

import (
	"errors"
	"log/slog"
	"sync"

	"github.com/pion/rtp"

	"github.com/camcloud/camcloud/internal/hub"
)

// rtpFeed packetises one published stream once for all of its WebRTC
// viewers: one hub reader, one packetiser per sent track and codec, and
// the packets of each unit handed to every viewer by pointer (pion copies
// the header per PeerConnection and encrypts from the shared payload).
// Before it, every viewer had its own hub reader and packetised every
// unit again. Each viewer still has its own bounded queue: one that falls
// behind loses its queue, not anyone else's packets, and starts again at
// the next keyframe.
type rtpFeed struct {
	s      *Service
	stream *hub.Stream
	reader *hub.Reader
	log    *slog.Logger

	mu     sync.Mutex
	packs  map[packKey]*feedPack
	subs   map[*feedSub]struct{}
	closed bool
}

// feedReaderBuf is the hub queue of a feed (units): several seconds of
// audio and video, as the HLS muxer's.
const feedReaderBuf = hlsReaderBuf

// packKey names one way of sending one hub track: its ID and the RTP
// codec it goes out as (G.711 may go as PCMU to one viewer and PCMA to
// another).
type packKey struct {
	track int
	mime  string
}

// feedPack is the packetiser of one packKey and how many viewers use it.
type feedPack struct {
	pack  packetizer
	users int
}

// feedItem is one unit and its packets for each packKey in use then.
type feedItem struct {
	unit *hub.Unit
	pkts map[packKey][]*rtp.Packet
}

// feedSub is one viewer's queue.
type feedSub struct {
	ch       chan *feedItem
	keys     []packKey
	overflow bool // set (under the feed's lock) when ch was closed for falling behind
}

// feedFor returns the running feed of stream, starting one when there is
// none (or the one there belongs to an ended publish).
func (s *Service) feedFor(stream *hub.Stream) (*rtpFeed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errServiceClosed
	}
	if f := s.feeds[stream.CameraID]; f != nil && f.stream == stream && !f.isClosed() {
		return f, nil
	}
	r, err := stream.NewLiveReader(feedReaderBuf)
	if err != nil {
		return nil, err
	}
	f := &rtpFeed{s: s, stream: stream, reader: r, packs: map[packKey]*feedPack{}, subs: map[*feedSub]struct{}{},
		log: s.log.With("camera", stream.CameraID, "proto", "webrtc")}
	if old := s.feeds[stream.CameraID]; old != nil {
		go old.close()
	}
	s.feeds[stream.CameraID] = f
	go f.run()
	return f, nil
}

// subscribe adds a viewer sending plans; its queue holds buf items. The
// packetiser of a plan is used when the feed does not run one for that
// track and codec yet.
func (f *rtpFeed) subscribe(plans []rtcPlan, buf int) (*feedSub, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, hub.ErrClosed
	}
	sub := &feedSub{ch: make(chan *feedItem, buf)}
	for _, p := range plans {
		k := packKey{track: p.hubID, mime: p.cap.MimeType}
		fp := f.packs[k]
		if fp == nil {
			fp = &feedPack{pack: p.pack}
			f.packs[k] = fp
		}
		fp.users++
		sub.keys = append(sub.keys, k)
	}
	f.subs[sub] = struct{}{}
	return sub, nil
}

// unsubscribe removes a viewer; the feed ends with its last viewer.
func (f *rtpFeed) unsubscribe(sub *feedSub) {
	f.mu.Lock()
	if _, ok := f.subs[sub]; ok {
		delete(f.subs, sub)
		close(sub.ch)
	}
	for _, k := range sub.keys {
		if fp := f.packs[k]; fp != nil {
			if fp.users--; fp.users <= 0 {
				delete(f.packs, k)
			}
		}
	}
	sub.keys = nil
	last := len(f.subs) == 0
	f.mu.Unlock()
	if last {
		f.close()
	}
}

// run packetises each unit once and queues it for every viewer.
func (f *rtpFeed) run() {
	defer f.close()
	errs := 0
	for u := range f.reader.C() {
		f.mu.Lock()
		item := &feedItem{unit: u}
		for k, fp := range f.packs {
			if k.track != u.Track {
				continue
			}
			pkts, err := fp.pack.packetize(u)
			if err != nil {
				if errs++; errs <= 5 {
					f.log.Warn("RTP packetization failed", "track", u.Track, "err", err)
				}
				continue
			}
			if item.pkts == nil {
				item.pkts = make(map[packKey][]*rtp.Packet, 1)
			}
			item.pkts[k] = pkts
		}
		if item.pkts != nil {
			for sub := range f.subs {
				select {
				case sub.ch <- item:
				default:
					delete(f.subs, sub)
					sub.overflow = true
					close(sub.ch)
				}
			}
		}
		f.mu.Unlock()
	}
	if errors.Is(f.reader.Err(), hub.ErrOverflow) {
		// The feed itself fell behind (the whole process is starved):
		// its viewers start again on a new feed at the next keyframe.
		f.s.m.skips.Inc()
		f.log.Warn("WebRTC feed fell behind the stream")
		f.mu.Lock()
		for sub := range f.subs {
			sub.overflow = true
		}
		f.mu.Unlock()
	}
}

func (f *rtpFeed) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// join subscribes a viewer of stream to the stream's feed, starting one
// when needed (a feed closed by its last viewer meanwhile is replaced).
func (s *Service) join(stream *hub.Stream, plans []rtcPlan) (*rtpFeed, *feedSub, error) {
	for {
		f, err := s.feedFor(stream)
		if err != nil {
			return nil, nil, err
		}
		sub, err := f.subscribe(plans, whepReaderBuf)
		if err == nil {
			return f, sub, nil
		}
		select {
		case <-stream.Done():
			return nil, nil, hub.ErrClosed
		default:
		}
	}
}

// overflowed reports whether sub's queue was closed for falling behind
// (rather than for the stream's end).
func (f *rtpFeed) overflowed(sub *feedSub) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return sub.overflow
}

// close ends the feed and every viewer's queue once.
func (f *rtpFeed) close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	for sub := range f.subs {
		close(sub.ch)
	}
	f.subs = nil
	f.mu.Unlock()
	f.reader.Close()
	f.s.mu.Lock()
	if f.s.feeds[f.stream.CameraID] == f {
		delete(f.s.feeds, f.stream.CameraID)
	}
	f.s.mu.Unlock()
}
