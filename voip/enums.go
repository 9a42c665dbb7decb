package voip

import (
	"fmt"
	"strings"
)

// Direction tells which side started a call, seen from the company.
type Direction int8

// The directions. DirectionUnknown is the zero value: the vendor did not say.
const (
	DirectionUnknown  Direction = iota
	DirectionIn                 // a client called the company
	DirectionOut                // the company called a client
	DirectionInternal           // one extension called another
)

var directionWords = [...]string{"unknown", "in", "out", "internal"}

// String returns "unknown", "in", "out" or "internal".
func (d Direction) String() string { return word(directionWords[:], int(d), "Direction") }

// MarshalText implements [encoding.TextMarshaler].
func (d Direction) MarshalText() ([]byte, error) {
	return marshalWord(directionWords[:], int(d), "Direction")
}

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts the words
// String returns, in any case.
func (d *Direction) UnmarshalText(b []byte) error {
	i, err := unmarshalWord(directionWords[:], b, "Direction")
	if err == nil {
		*d = Direction(i)
	}
	return err
}

// Disposition is the coarse outcome of a call. The vendor's own status word is
// always kept next to it (Event.RawStatus, Call.RawStatus), because vendors
// disagree on what counts as missed.
type Disposition int8

// The dispositions. DispositionUnknown is the zero value: absent or not recognised.
const (
	DispositionUnknown  Disposition = iota
	DispositionAnswered             // somebody talked
	DispositionBusy                 // the called party was busy
	DispositionCancel               // the caller hung up before an answer
	DispositionNoAnswer             // nobody answered in time
	DispositionFailed               // network, number or PBX failure: congestion, invalid number, forbidden…
)

var dispositionWords = [...]string{"unknown", "answered", "busy", "cancel", "noanswer", "failed"}

// String returns "unknown", "answered", "busy", "cancel", "noanswer" or "failed".
func (d Disposition) String() string { return word(dispositionWords[:], int(d), "Disposition") }

// MarshalText implements [encoding.TextMarshaler].
func (d Disposition) MarshalText() ([]byte, error) {
	return marshalWord(dispositionWords[:], int(d), "Disposition")
}

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts the words
// String returns, in any case.
func (d *Disposition) UnmarshalText(b []byte) error {
	i, err := unmarshalWord(dispositionWords[:], b, "Disposition")
	if err == nil {
		*d = Disposition(i)
	}
	return err
}

// EventKind is the phase of a live call that an [Event] reports.
type EventKind int8

// The event kinds. EventUnknown is the zero value and never comes out of a
// vendor package.
const (
	EventUnknown EventKind = iota
	EventStart             // ringing or dialling
	EventAnswer            // the call was answered
	EventEnd               // the call ended
)

var eventKindWords = [...]string{"unknown", "start", "answer", "end"}

// String returns "unknown", "start", "answer" or "end".
func (k EventKind) String() string { return word(eventKindWords[:], int(k), "EventKind") }

// MarshalText implements [encoding.TextMarshaler].
func (k EventKind) MarshalText() ([]byte, error) {
	return marshalWord(eventKindWords[:], int(k), "EventKind")
}

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts the words
// String returns, in any case.
func (k *EventKind) UnmarshalText(b []byte) error {
	i, err := unmarshalWord(eventKindWords[:], b, "EventKind")
	if err == nil {
		*k = EventKind(i)
	}
	return err
}

// word is the String of the three enums: an out-of-range value prints as
// "Type(n)", like the stringer tool, so a bad value is visible in logs.
func word(words []string, i int, typ string) string {
	if i >= 0 && i < len(words) {
		return words[i]
	}
	return fmt.Sprintf("%s(%d)", typ, i)
}

func marshalWord(words []string, i int, typ string) ([]byte, error) {
	if i < 0 || i >= len(words) {
		return nil, fmt.Errorf("voip: invalid %s %d", typ, i)
	}
	return []byte(words[i]), nil
}

func unmarshalWord(words []string, b []byte, typ string) (int, error) {
	s := strings.TrimSpace(string(b))
	for i, w := range words {
		if strings.EqualFold(s, w) {
			return i, nil
		}
	}
	if s == "" {
		return 0, nil
	}
	return 0, fmt.Errorf("voip: unknown %s %q", typ, s)
}
