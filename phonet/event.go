package phonet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/voip"
)

// Event is one message of the live socket, one call event webhook, or one
// entry of the active calls list: they share a shape. Unknown event types
// are kept, with their Raw message, rather than dropped.
type Event struct {
	// Type is event (lastEvent in the active calls list).
	Type EventType
	// UUID is the call's (or leg's) id, kept as sent: 32 hex digits, dashed,
	// or Asterisk-style ("23-1453990999.41"). See [NormalizeUUID].
	UUID       string
	ParentUUID string
	// AccountDomain is the tenant host; webhooks only.
	AccountDomain string
	Direction     Direction
	// Leg is the employee side (or the group or IVR that took the call);
	// Leg2 the second employee of an internal call. Either may be nil.
	Leg, Leg2 *Leg
	// OtherLegs are the external party as each connected CRM knows it.
	OtherLegs []OtherLeg
	// DialAt, BridgeAt and ServerTime are zero when not sent; BridgeAt is
	// zero until the call is answered.
	DialAt, BridgeAt, ServerTime time.Time
	// TrunkNum and TrunkName are the company line; empty on internal calls.
	TrunkNum, TrunkName string
	// Message is the text of an error event.
	Message string
	// Subscriber is the socket subscription the event came from; empty for
	// webhooks and active calls.
	Subscriber string
	// ReceivedAt is when the message was decoded.
	ReceivedAt time.Time
	// Raw is the message as sent.
	Raw json.RawMessage
}

// Leg is an internal party: an employee, a group or an IVR scenario.
type Leg struct {
	ID          int64
	Type        LegType
	Ext         string // empty for an IVR scenario
	DisplayName string
}

// OtherLeg is the external party as one CRM knows it. ID, Name and
// CompanyName are empty when the CRM does not know the number.
type OtherLeg struct {
	ID          string // a number or a string on the wire
	Name        string
	Num         string
	CompanyName string
	URL         string // the CRM card, or the page that creates one
	Priority    int64
}

// Presence is an operator going away (pause on, lgDirection 32) or coming
// back (pause off, 64).
type Presence struct {
	Ext, Name string
	Away      bool
	At        time.Time
}

// wireEvent is the shared wire shape. Every field that has been seen in two
// types, or may plausibly be, is lenient.
type wireEvent struct {
	Event         text           `json:"event"`
	LastEvent     text           `json:"lastEvent"`
	UUID          text           `json:"uuid"`
	ParentUUID    text           `json:"parentUuid"`
	AccountDomain text           `json:"accountDomain"`
	LgDirection   integer        `json:"lgDirection"`
	Leg           *wireLeg       `json:"leg"`
	Leg2          *wireLeg       `json:"leg2"`
	OtherLegs     []wireOtherLeg `json:"otherLegs"`
	DialAt        instant        `json:"dialAt"`
	BridgeAt      instant        `json:"bridgeAt"`
	ServerTime    instant        `json:"serverTime"`
	TrunkNum      text           `json:"trunkNum"`
	TrunkName     text           `json:"trunkName"`
	Message       text           `json:"message"`
	// The client-card lookup's fields: a webhook without event.
	OtherLegNum text `json:"otherLegNum"`
}

type wireLeg struct {
	ID          integer `json:"id"`
	Type        integer `json:"type"`
	Ext         text    `json:"ext"`
	DisplayName text    `json:"displayName"`
}

type wireOtherLeg struct {
	ID          text    `json:"id"`
	Name        text    `json:"name"`
	Num         text    `json:"num"`
	CompanyName text    `json:"companyName"`
	URL         text    `json:"url"`
	Priority    integer `json:"priority"`
}

// DecodeError is a message that cannot be read. It matches
// voip.ErrMalformed.
type DecodeError struct {
	What string // "event", "webhook", "history record"…
	Err  error
}

func (e *DecodeError) Error() string {
	return "phonet: malformed " + e.What + ": " + e.Err.Error()
}

// Unwrap exposes voip.ErrMalformed and the cause.
func (e *DecodeError) Unwrap() []error { return []error{voip.ErrMalformed, e.Err} }

// ParseEvent reads one event message: a socket frame, a JSON webhook body or
// an active calls entry. It never panics; a message that is not a JSON
// object, or whose fields have impossible types, is a *DecodeError.
func ParseEvent(data []byte) (*Event, error) {
	return parseEvent(data, time.Now())
}

func parseEvent(data []byte, now time.Time) (*Event, error) {
	var w wireEvent
	if err := decodeEvent(data, &w); err != nil {
		return nil, &DecodeError{What: "event", Err: err}
	}
	ev := w.event()
	ev.ReceivedAt = now.UTC()
	ev.Raw = data
	return ev, nil
}

// decodeEvent decodes an event message into w: by decodeEventFast when the
// message has the plain shape, else by unmarshalObject.
func decodeEvent(data []byte, w *wireEvent) error {
	if decodeEventFast(bytes.TrimSpace(data), w) {
		return nil
	}
	*w = wireEvent{} // what the fast path read before it gave up
	return unmarshalObject(data, w)
}

// unmarshalObject decodes a JSON object into v; anything else is an error
// rather than a silently empty value.
func unmarshalObject(data []byte, v any) error {
	b := bytes.TrimSpace(data)
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("not a JSON object: %s", excerpt(b))
	}
	return lenient.Unmarshal(b, v)
}

// excerpt quotes the start of b for an error.
func excerpt(b []byte) string {
	const n = 48
	if len(b) > n {
		return fmt.Sprintf("%q…", b[:n])
	}
	return fmt.Sprintf("%q", b)
}

func (w *wireEvent) event() *Event {
	ev := &Event{
		Type: EventType(w.Event), UUID: string(w.UUID), ParentUUID: string(w.ParentUUID),
		AccountDomain: string(w.AccountDomain), Direction: Direction(w.LgDirection),
		Leg: w.Leg.leg(), Leg2: w.Leg2.leg(),
		DialAt: w.DialAt.Time, BridgeAt: w.BridgeAt.Time, ServerTime: w.ServerTime.Time,
		TrunkNum: string(w.TrunkNum), TrunkName: string(w.TrunkName), Message: string(w.Message),
	}
	if ev.Type == "" {
		ev.Type = EventType(w.LastEvent)
	}
	if len(w.OtherLegs) > 0 {
		ev.OtherLegs = make([]OtherLeg, len(w.OtherLegs))
		for i, o := range w.OtherLegs {
			ev.OtherLegs[i] = OtherLeg{ID: string(o.ID), Name: string(o.Name), Num: string(o.Num),
				CompanyName: string(o.CompanyName), URL: string(o.URL), Priority: int64(o.Priority)}
		}
	}
	return ev
}

func (l *wireLeg) leg() *Leg { return l.legIn(nil) }

// legIn is leg, with the Leg taken from slab while it has room, so that a
// page of records makes its legs in one allocation; a nil or full slab
// makes one of its own.
func (l *wireLeg) legIn(slab *[]Leg) *Leg {
	if l == nil || (l.ID == 0 && l.Type == 0 && l.Ext == "" && l.DisplayName == "") {
		return nil
	}
	v := Leg{ID: int64(l.ID), Type: LegType(l.Type), Ext: string(l.Ext), DisplayName: string(l.DisplayName)}
	if slab == nil || len(*slab) == cap(*slab) {
		return new(v)
	}
	*slab = append(*slab, v)
	return &(*slab)[len(*slab)-1]
}

// legSlab is room for the legs of n records, each of which has at most
// two. The records of a page share it: a Record the caller keeps keeps
// the page's legs (at most 100 × 48 bytes) alive with it.
func legSlab(n int) []Leg { return make([]Leg, 0, 2*n) }

// IsCall reports whether e is a call event: dial, bridge or hangup, not a
// pause, a click2call reply, an error or an unknown type.
func (e *Event) IsCall() bool {
	switch e.Type {
	case EventDial, EventBridge, EventHangup:
		return !e.Direction.IsPresence()
	}
	return false
}

// Client returns the external party's number as sent: the first of
// OtherLegs that has one.
func (e *Event) Client() string {
	for _, o := range e.OtherLegs {
		if o.Num != "" {
			return o.Num
		}
	}
	return ""
}

// Presence returns e as an operator's pause on or off, or false when e is
// not one.
func (e *Event) Presence() (Presence, bool) {
	if !e.Direction.IsPresence() {
		return Presence{}, false
	}
	p := Presence{Away: e.Direction == DirectionAway, At: e.at()}
	if e.Leg != nil {
		p.Ext, p.Name = e.Leg.Ext, e.Leg.DisplayName
	}
	return p, true
}

// Voip returns a call event as a voip.Event, or false for anything else
// (see [Event.IsCall]).
//
// call.dial is Start, call.bridge Answer, call.hangup End. Hangup carries no
// outcome: it is Answered when the call was bridged and Unknown otherwise;
// the history record has the real one. CallID is the uuid as
// [NormalizeUUID] gives it, so that socket, webhook and history ids match.
// At is the event's own time (dialAt, bridgeAt, serverTime), else the time
// it was received.
func (e *Event) Voip() (voip.Event, bool) {
	if !e.IsCall() {
		return voip.Event{}, false
	}
	v := voip.Event{
		Vendor: Vendor, CallID: NormalizeUUID(e.UUID), ParentCallID: NormalizeUUID(e.ParentUUID),
		Direction: e.Direction.Voip(), Client: phone(e.Client()), Line: phone(e.TrunkNum),
		RawStatus: string(e.Type), At: e.at(), Raw: e.Raw,
	}
	if e.Leg != nil {
		v.Ext = e.Leg.Ext
	}
	switch e.Type {
	case EventDial:
		v.Kind = voip.EventStart
	case EventBridge:
		v.Kind = voip.EventAnswer
	default:
		v.Kind = voip.EventEnd
		if !e.BridgeAt.IsZero() {
			v.Disposition = voip.DispositionAnswered
		}
	}
	return v, true
}

// at is the time of the event.
func (e *Event) at() time.Time {
	var t time.Time
	switch e.Type {
	case EventDial:
		t = e.DialAt
	case EventBridge:
		t = e.BridgeAt
	}
	for _, c := range []time.Time{t, e.ServerTime, e.ReceivedAt} {
		if !c.IsZero() {
			return c
		}
	}
	return time.Time{}
}

// NormalizeUUID returns a uuid of 32 hex digits, with or without dashes, as
// 32 lower-case hex digits, so that the dashed ids of the history match the
// plain ones of events. Any other id (Asterisk-style, say) is only trimmed.
func NormalizeUUID(s string) string {
	s = strings.TrimSpace(s)
	if len(s) != 32 && len(s) != 36 {
		return s
	}
	var b [32]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' && len(s) == 36:
			continue
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		case 'A' <= c && c <= 'F':
			c += 'a' - 'A'
		default:
			return s
		}
		if n == len(b) {
			return s
		}
		b[n] = c
		n++
	}
	if n != len(b) {
		return s
	}
	return string(b[:])
}
