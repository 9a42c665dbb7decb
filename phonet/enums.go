package phonet

import (
	"strconv"

	"github.com/pbxkit/pbxkit/voip"
)

// EventType is the event field of a live message (lastEvent in the active
// calls list).
type EventType string

// The event types. Others are kept as sent.
const (
	EventDial    EventType = "call.dial"   // the call started ringing
	EventBridge  EventType = "call.bridge" // the call was answered
	EventHangup  EventType = "call.hangup" // the call or the talk ended
	EventError   EventType = "error"       // the socket reports an error, or refuses a click2call
	EventSuccess EventType = "success"     // the socket accepted a click2call
)

// Direction is lgDirection. The values are bit flags; 32 and 64 are not
// calls but an operator going away and coming back.
type Direction int

// The directions Phonet documents.
const (
	DirectionInternal Direction = 1  // внутренний звонок
	DirectionOut      Direction = 2  // исходящий звонок
	DirectionIn       Direction = 4  // входящий звонок
	DirectionAway     Direction = 32 // установка на паузу (нет на месте)
	DirectionBack     Direction = 64 // снятие с паузы (есть на месте)
)

// IsPresence reports whether d is an operator's pause on or off rather than
// a call.
func (d Direction) IsPresence() bool { return d == DirectionAway || d == DirectionBack }

// Voip returns the neutral direction of a call; pauses and unknown values
// are voip.DirectionUnknown.
func (d Direction) Voip() voip.Direction {
	switch d {
	case DirectionIn:
		return voip.DirectionIn
	case DirectionOut:
		return voip.DirectionOut
	case DirectionInternal:
		return voip.DirectionInternal
	}
	return voip.DirectionUnknown
}

// String returns "internal", "out", "in", "away", "back", or the number.
func (d Direction) String() string {
	switch d {
	case DirectionInternal:
		return "internal"
	case DirectionOut:
		return "out"
	case DirectionIn:
		return "in"
	case DirectionAway:
		return "away"
	case DirectionBack:
		return "back"
	}
	return strconv.Itoa(int(d))
}

// LegType says what a leg is.
type LegType int

// The leg types. A zero LegType means Phonet did not say.
const (
	LegUser  LegType = 1 // an employee
	LegGroup LegType = 2 // a group (department)
	LegIVR   LegType = 4 // an IVR scenario, which has no ext
)

// Disposition is a history record's outcome code.
type Disposition int

// The disposition codes, named as in the wearesho client.
const (
	TargetResponded     Disposition = 0
	TargetNotResponded  Disposition = 1
	DirectionOverloaded Disposition = 2
	InternalError       Disposition = 3
	TargetIsBusy        Disposition = 4
)

// Voip maps the code: 0 Answered, 1 NoAnswer, 2 and 3 Failed, 4 Busy,
// anything else Unknown. Phonet has no cancel code: a caller who hangs up
// before the answer is 1.
func (d Disposition) Voip() voip.Disposition {
	switch d {
	case TargetResponded:
		return voip.DispositionAnswered
	case TargetNotResponded:
		return voip.DispositionNoAnswer
	case DirectionOverloaded, InternalError:
		return voip.DispositionFailed
	case TargetIsBusy:
		return voip.DispositionBusy
	}
	return voip.DispositionUnknown
}
