package webitel

import (
	"github.com/pbxkit/pbxkit/voip"
)

// Voip returns a call event as a voip.Event, or false for anything else
// (agent status, other events, and call sub-events that are not a phase:
// hold, dtmf, a second active…).
//
// For an event a Stream delivered the mapping uses what the stream knew of
// the call: ringing is Start; the first active or bridge is Answer (an
// active after a hold is the resume, not a second answer); hangup is End
// with [Disposition] of the cause and whether the call was answered;
// Direction, Client (E.164 when it is a phone number) and Ext come from
// the call's ringing. For an event from [ParseEvent], which knows nothing
// of the call, every active and bridge is Answer and a hangup is answered
// when it had talk time.
func (e *Event) Voip() (voip.Event, bool) {
	if e.tracked {
		return e.v, e.vok
	}
	c := e.Call
	if c == nil || c.ID == "" {
		return voip.Event{}, false
	}
	var st callState
	st.parties(c.Direction, c.From, c.To)
	v := voip.Event{Vendor: Vendor, CallID: c.ID, ParentCallID: c.ParentID, RawStatus: c.Action, At: c.At,
		Raw: e.Raw, Direction: st.dir, Client: st.client, Ext: st.ext}
	if v.At.IsZero() {
		v.At = e.ReceivedAt
	}
	switch c.Action {
	case ActionRinging:
		v.Kind = voip.EventStart
	case ActionActive, ActionBridge:
		v.Kind = voip.EventAnswer
		if c.Action == ActionBridge {
			v.Client, v.Ext = "", ""
			if c.To != nil {
				v.Client = voip.Party(c.To.Number, phoneRegion)
			}
		}
	case ActionHangup:
		v.Kind, v.RawStatus = voip.EventEnd, c.Cause
		v.Disposition = Disposition(c.Cause, c.Talk > 0)
	default:
		return voip.Event{}, false
	}
	return v, true
}

// Source returns the stream as a voip.Source, whose Events carry the call
// events as voip.Event (see [Event.Voip]; agent status and other events are
// left out: read [Stream.Events] to see them). Its Notices, Err and Close
// are the stream's; a notice with Gap says events may be missing. Once
// Source is called, read its events rather than Stream.Events: the events
// not yet read from Stream.Events move to it. The socket's reader converts
// each event and delivers it straight to the source: no goroutine and no
// hand-off per event.
func (s *Stream) Source() voip.Source { return s.ws.Source((*Event).Voip, s.Close) }
