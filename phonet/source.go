package phonet

import "github.com/pbxkit/pbxkit/voip"

// voipSource is a Stream seen as a voip.Source: its call events converted,
// everything else left out.
type voipSource struct {
	s      *Stream
	events chan voip.Event
	done   chan struct{}
}

var _ voip.Source = (*voipSource)(nil)

// Source returns the stream as a voip.Source, whose Events carry the call
// events as voip.Event (pauses, click2call replies and unknown types are
// left out; read [Stream.Events] to see them). Its Notices, Err and Close
// are the stream's. Once Source is called, read its events rather than
// Stream.Events.
func (s *Stream) Source() voip.Source {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.src == nil {
		s.src = &voipSource{s: s, events: make(chan voip.Event), done: make(chan struct{})}
		go s.src.run()
	}
	return s.src
}

func (v *voipSource) run() {
	defer close(v.done)
	defer close(v.events)
	for ev := range v.s.ws.Events() {
		e, ok := ev.Voip()
		if !ok {
			continue
		}
		select {
		case v.events <- e:
		case <-v.s.closing:
			return
		case <-v.s.ctx.Done():
			return
		}
	}
}

func (v *voipSource) Events() <-chan voip.Event   { return v.events }
func (v *voipSource) Notices() <-chan voip.Notice { return v.s.Notices() }
func (v *voipSource) Err() error                  { return v.s.Err() }
func (v *voipSource) Close() error                { return v.s.Close() }
