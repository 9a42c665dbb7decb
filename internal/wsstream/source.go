package wsstream

import "github.com/pbxkit/pbxkit/voip"

// source is a Stream seen as a voip.Source (see Stream.Source).
type source[T any] struct {
	s      *Stream[T]
	conv   func(T) (voip.Event, bool)
	close  func() error
	events chan voip.Event
}

func (v *source[T]) Events() <-chan voip.Event   { return v.events }
func (v *source[T]) Notices() <-chan voip.Notice { return v.s.notices }
func (v *source[T]) Err() error                  { return v.s.Err() }
func (v *source[T]) Close() error                { return v.close() }

// Source returns the stream as a voip.Source whose Events carry the events
// conv turns into voip.Event (false leaves one out), and whose Notices and
// Err are the stream's; Close is closeFn (the vendor's, which may have more
// to stop), or the stream's Close when closeFn is nil. Every call returns
// the first call's source.
//
// The reader converts each event and delivers it straight to the source's
// channel, by the Policy, with the same drops and notices as Events: no
// goroutine and no hand-off per event. Once Source is called, read its
// events rather than Events: the events not yet read there move to it,
// first and in order, and nothing more arrives there. With Block, call
// Source before reading Events stops: the reader may be waiting to hand
// Events an event, and the move waits for it.
func (s *Stream[T]) Source(conv func(T) (voip.Event, bool), closeFn func() error) voip.Source {
	s.srcMu.Lock()
	defer s.srcMu.Unlock()
	if s.src != nil {
		return s.src
	}
	if closeFn == nil {
		closeFn = s.Close
	}
	src := &source[T]{s: s, conv: conv, close: closeFn, events: make(chan voip.Event, cap(s.events))}
	s.src = src
	// The reader hands events over under srcMu until src is published, so
	// none can slip in behind the ones moved here; they fit, src being as
	// large as the queue.
	for moved := false; !moved; {
		select {
		case ev, ok := <-s.events:
			if !ok {
				moved = true
				break
			}
			if v, ok := conv(ev); ok {
				src.events <- v
			}
		default:
			moved = true
		}
	}
	if s.finished {
		close(src.events) // the stream has stopped: nothing more comes
		return src
	}
	s.srcLive.Store(src)
	return src
}

// push hands one event of the reader to the consumer: Events, or the
// Source once there is one.
func (s *Stream[T]) push(ev T) {
	if src := s.srcLive.Load(); src != nil {
		if v, ok := src.conv(ev); ok {
			deliver(s, src.events, v)
		}
		return
	}
	s.srcMu.Lock()
	defer s.srcMu.Unlock()
	if src := s.src; src != nil {
		// Source has just moved the queue: after it.
		if v, ok := src.conv(ev); ok {
			deliver(s, src.events, v)
		}
		return
	}
	deliver(s, s.events, ev)
}
