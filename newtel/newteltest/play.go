package newteltest

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// InboundCall is a call from a client that PlayInbound plays.
type InboundCall struct {
	CallID string // vpbxId; generated when empty
	Client string // clid, the caller: "79161234567"
	DID    string // dnid, the number dialled; empty means DefaultLine
	// Ext is the extension that rings, and answers when Talk is not 0;
	// empty means "100".
	Ext string
	// Ring is how long Ext rings: until the answer, or until the caller
	// hangs up when Talk is 0.
	Ring time.Duration
	// Talk is how long the call lasts once answered; 0 plays a call that
	// nobody answers.
	Talk time.Duration
	// Record is the callRecordLink of an answered call; empty means a
	// recording served by this server, at URL + "/records/<CallID>.mp3".
	Record string
}

// timeline is when a played call's events happen, in the whole seconds the
// PBX sends.
type timeline struct {
	start, answer, end time.Time
	ring, talk         time.Duration
}

func newTimeline(ring, talk time.Duration) (timeline, error) {
	if ring < 0 || talk < 0 {
		return timeline{}, errors.New("newteltest: negative ring or talk time")
	}
	return timeline{ring: ring.Truncate(time.Second), talk: talk.Truncate(time.Second)}, nil
}

// from sets the times of a call that starts at start.
func (t timeline) from(start time.Time) timeline {
	t.start = start.Truncate(time.Second)
	t.answer = t.start.Add(t.ring)
	t.end = t.answer.Add(t.talk)
	return t
}

func (t timeline) answered() bool { return t.talk > 0 }

// outcome is the data.status, duration and ringduration of the *End event.
func (t timeline) outcome() []Field {
	status := StatusNoAnswer
	if t.answered() {
		status = StatusAnswered
	}
	return []Field{{"status", status}, {"duration", t.ring + t.talk}, {"ringduration", t.ring}}
}

// step is one webhook of a played call.
type step struct {
	event Event
	data  []Field
}

// PlayInbound sends the webhooks of an inbound call, in order:
// inboundCallStart and ringingStart at the start; when answered,
// inboundCallAnswer after Ring; ringingEnd after Ring; inboundCallEnd
// (status "answered" with the recording, or "no answer" without one) after
// Ring and Talk. The call ends at the server's clock, so its times are in
// the past and agree with each other: the end's time less its duration is
// the start, and the start plus its ringduration the answer. It returns the
// call id, and stops at the first webhook not answered 2xx.
func (s *Server) PlayInbound(ctx context.Context, h Webhooks, c InboundCall) (string, error) {
	if c.CallID == "" {
		c.CallID = "vpbx-" + strconv.FormatInt(randomInt(1_000_000_000), 10)
	}
	if c.DID == "" {
		c.DID = DefaultLine
	}
	if c.Ext == "" {
		c.Ext = "100"
	}
	t, err := newTimeline(c.Ring, c.Talk)
	if err != nil {
		return "", err
	}
	// Counted back from now: the whole call has happened when it is played.
	t = t.from(s.clock().Add(-t.ring - t.talk))
	base := func(at time.Time) []Field {
		return []Field{{"vpbxId", c.CallID}, {"time", at}, {"dnid", c.DID}, {"clid", c.Client}}
	}
	steps := []step{
		{InboundCallStart, base(t.start)},
		{RingingStart, append(base(t.start), Field{"ringingNumber", c.Ext})},
	}
	end := append(base(t.end), t.outcome()...)
	if t.answered() {
		steps = append(steps, step{InboundCallAnswer, append(base(t.answer), Field{"activeNumber", c.Ext})})
		end = append(end, Field{"fisrtAnswer", c.Ext}, Field{"allAnswer", []string{c.Ext}},
			Field{"callRecordLink", s.recordLink(c.CallID, c.Record)})
	}
	steps = append(steps,
		step{RingingEnd, append(base(t.answer), Field{"ringingNumber", c.Ext})},
		step{InboundCallEnd, end})
	for _, st := range steps {
		if err := h.Send(ctx, st.event, st.data...); err != nil {
			return c.CallID, err
		}
	}
	return c.CallID, nil
}

// PlayOutbound sends the webhooks of a call the server placed
// (call/start_simple_call; see Calls): outboundCallStart when it was placed,
// and outboundCallEnd ring and talk later, "answered" with the recording,
// or "no answer" without one when talk is 0. The vpbxId is the placed
// call's id, the client its DstNumber, the extension its SrcNumber, and the
// line its CallerID (empty: DefaultLine). The times agree with each other
// as PlayInbound's do, and likewise count back from the server's clock: the
// played call ends now, as in every pbxkit emulator, so that no event is
// dated in the future.
func (s *Server) PlayOutbound(ctx context.Context, h Webhooks, c PlacedCall, ring, talk time.Duration) error {
	t, err := newTimeline(ring, talk)
	if err != nil {
		return err
	}
	t = t.from(s.clock().Add(-t.ring - t.talk))
	line := c.CallerID
	if line == "" {
		line = DefaultLine
	}
	base := func(at time.Time) []Field {
		return []Field{{"vpbxId", c.CallID}, {"time", at}, {"dnid", c.DstNumber},
			{"externalClid", line}, {"internalClid", c.SrcNumber}}
	}
	if err := h.Send(ctx, OutboundCallStart, base(t.start)...); err != nil {
		return err
	}
	end := append(base(t.end), t.outcome()...)
	if t.answered() {
		end = append(end, Field{"callRecordLink", s.recordLink(c.CallID, "")})
	}
	return h.Send(ctx, OutboundCallEnd, end...)
}

// recordLink is link, or the recording this server serves for a call.
func (s *Server) recordLink(callID, link string) string {
	if link != "" {
		return link
	}
	return s.URL + "/records/" + callID + ".mp3"
}
