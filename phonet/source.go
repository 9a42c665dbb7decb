package phonet

import "github.com/pbxkit/pbxkit/voip"

// voipSource is a Stream or a Hub seen as a voip.Source: its call events
// converted, everything else left out. One goroutine converts; it ends
// when the events end or the owner stops.
type voipSource struct {
	in      <-chan *Event
	notices <-chan voip.Notice
	err     func() error
	close   func() error
	stop    <-chan struct{} // the owner is stopping: nobody reads any more
	events  chan voip.Event
	done    chan struct{}
}

var _ voip.Source = (*voipSource)(nil)

func newVoipSource(in <-chan *Event, notices <-chan voip.Notice, err, closeFn func() error, stop <-chan struct{}) *voipSource {
	v := &voipSource{in: in, notices: notices, err: err, close: closeFn, stop: stop,
		events: make(chan voip.Event), done: make(chan struct{})}
	go v.run()
	return v
}

// Source returns the stream as a voip.Source, whose Events carry the call
// events as voip.Event (pauses, click2call replies and unknown types are
// left out; read [Stream.Events] to see them). Its Notices, Err and Close
// are the stream's. Once Source is called, read its events rather than
// Stream.Events.
func (s *Stream) Source() voip.Source {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.src == nil {
		s.src = newVoipSource(s.ws.Events(), s.Notices(), s.Err, s.Close, s.ctx.Done())
	}
	return s.src
}

// Source returns the Hub as a voip.Source: the call events of every
// manager as voip.Event (pauses, click2call replies and unknown types are
// left out), the Hub's notices (each naming its Subscriber), Err and
// Close. Once Source is called, read its events rather than Hub.Events.
func (h *Hub) Source() voip.Source {
	h.srcOnce.Do(func() {
		src := newVoipSource(h.events, h.notices, h.Err, h.Close, h.ctx.Done())
		h.mu.Lock()
		h.src = src
		h.mu.Unlock()
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.src
}

func (v *voipSource) run() {
	defer close(v.done)
	defer close(v.events)
	for ev := range v.in {
		e, ok := ev.Voip()
		if !ok {
			continue
		}
		select {
		case v.events <- e:
		case <-v.stop:
			return
		}
	}
}

func (v *voipSource) Events() <-chan voip.Event   { return v.events }
func (v *voipSource) Notices() <-chan voip.Notice { return v.notices }
func (v *voipSource) Err() error                  { return v.err() }

// Close stops the owner and waits for the converter.
func (v *voipSource) Close() error {
	err := v.close()
	<-v.done
	return err
}
