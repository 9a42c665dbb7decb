package gravitel

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/voip"
)

// Event returns a cmd=event webhook as a voip.Event, or false for any other
// webhook and for TRANSFERRED, which has no neutral form.
//
// INCOMING is Start/In and OUTGOING Start/Out; ACCEPTED is Answer; COMPLETED
// is End with Answered, since the PBX sends it after a talk; CANCELLED is
// End with Cancel. The PBX gives no direction after the start: it is In
// unless a MegaFon-style direction field says otherwise. The handler of
// NewWebhookHandler, which remembers the call's OUTGOING, reports the events
// of an outgoing call as Out.
// RawStatus is the type.
func (w *Webhook) Event() (voip.Event, bool) {
	if w.Cmd != CmdEvent {
		return voip.Event{}, false
	}
	ev := voip.Event{
		Vendor: Vendor, CallID: w.CallID, Direction: voip.DirectionIn, Client: phone(w.Phone),
		Ext: w.ext(), Line: phone(w.Diversion), RawStatus: string(w.EventType), At: w.ReceivedAt, Raw: w.Raw,
	}
	switch w.EventType {
	case EventIncoming:
		ev.Kind = voip.EventStart
	case EventOutgoing:
		ev.Kind, ev.Direction = voip.EventStart, voip.DirectionOut
	case EventAccepted:
		ev.Kind = voip.EventAnswer
	case EventCompleted:
		ev.Kind, ev.Disposition = voip.EventEnd, voip.DispositionAnswered
	case EventCancelled:
		ev.Kind, ev.Disposition = voip.EventEnd, voip.DispositionCancel
	default:
		return voip.Event{}, false
	}
	if d, ok := direction(w.Direction); ok {
		ev.Direction = d
	}
	return ev, true
}

// Call returns a cmd=history webhook as a voip.Call, or false for any other
// webhook. The webhook gives one duration: it is Duration, and Talk too when
// the call was answered, since the PBX does not split ringing from talk here
// (the history command does).
func (w *Webhook) Call() (voip.Call, bool) {
	if w.Cmd != CmdHistory {
		return voip.Call{}, false
	}
	c := voip.Call{
		ID: w.CallID, Vendor: Vendor, Direction: voip.DirectionIn, Client: phone(w.Phone), Ext: w.ext(),
		Line: phone(w.Diversion), StartedAt: w.Start, Duration: w.Duration,
		Disposition: disposition(w.Status), RawStatus: w.RawStatus, RecordingURL: w.Link, Raw: w.Raw,
	}
	if w.CallType == CallOut {
		c.Direction = voip.DirectionOut
	}
	if c.Disposition == voip.DispositionAnswered {
		c.Talk = w.Duration
	}
	return c, true
}

// ext is the employee as voip sees them: the extension, or the login when
// the PBX sent none.
func (w *Webhook) ext() string {
	if w.Ext != "" {
		return w.Ext
	}
	return w.Login()
}

// disposition maps a history status as the ELMA365 article's Gravitel module
// does: Success → Answered, Busy → Busy, Missed → Cancel, NotAvailable →
// NoAnswer, NotAllowed → Unknown. MegaFon's Cancel is Cancel and NotFound is
// Failed. The vendor's word is always kept in RawStatus, because the
// protocol does not define these outcomes.
func disposition(s Status) voip.Disposition {
	switch s {
	case StatusSuccess:
		return voip.DispositionAnswered
	case StatusBusy:
		return voip.DispositionBusy
	case StatusMissed, StatusCancel:
		return voip.DispositionCancel
	case StatusNotAvailable:
		return voip.DispositionNoAnswer
	case StatusNotFound:
		return voip.DispositionFailed
	}
	return voip.DispositionUnknown
}

// direction reads MegaFon's direction field.
func direction(s string) (voip.Direction, bool) {
	switch strings.ToLower(s) {
	case "in":
		return voip.DirectionIn, true
	case "out":
		return voip.DirectionOut, true
	case "internal":
		return voip.DirectionInternal, true
	}
	return voip.DirectionUnknown, false
}

// region is the default region of numbers without a country code: the
// protocol's PBXs are Russian first.
const region = "RU"

// phone is a party field in E.164 when it is a number, as sent otherwise.
func phone(raw string) string { return voip.Party(raw, region) }

// Call returns the record as a voip.Call. Duration is wait plus talk, and
// AnsweredAt is start plus wait when there was a talk. The history gives no
// status: a record with talk time is Answered, "missed" maps like the
// webhook's Missed, and the rest is Unknown. RawStatus is the type.
func (r Record) Call() voip.Call {
	c := voip.Call{
		ID: r.UID, Vendor: Vendor, Direction: voip.DirectionIn, Client: phone(r.Client),
		Ext: strings.SplitN(r.Account, "@", 2)[0], Line: phone(r.Via), StartedAt: r.Start,
		Duration: r.Wait + r.Duration, Talk: r.Duration, RawStatus: string(r.Type), RecordingURL: r.RecordURL,
	}
	switch {
	case r.Type == CallOut:
		c.Direction = voip.DirectionOut
	case r.Type == CallMissed:
		c.Disposition = disposition(StatusMissed)
	}
	if r.Duration > 0 && r.Type != CallMissed {
		c.Disposition = voip.DispositionAnswered
		c.AnsweredAt = r.Start.Add(r.Wait)
	}
	c.Raw, _ = json.Marshal(recordJSON{r.UID, string(r.Type), r.Client, r.Account, r.Via,
		r.Start.Format(time.RFC3339Nano), int(r.Wait / time.Second), int(r.Duration / time.Second), r.RecordURL, r.Extra})
	return c
}

// recordJSON is a history line as JSON, for voip.Call.Raw.
type recordJSON struct {
	UID      string `json:"uid"`
	Type     string `json:"type"`
	Client   string `json:"client"`
	Account  string `json:"account"`
	Via      string `json:"via"`
	Start    string `json:"start"`
	Wait     int    `json:"wait"`
	Duration int    `json:"duration"`
	Record   string `json:"record"`
	// Extra is Record.Extra: the columns of other names.
	Extra map[string]string `json:"extra,omitempty"`
}
