package voip

import (
	"encoding/json"
	"time"
)

// Event is one live moment of a call: it starts ringing, it is answered, it
// ends. Events drive pop-ups in a CRM; the finished-call record is a [Call].
//
// Parties are relative to the company, whatever the direction: Client is the
// outside party, Ext the operator, Line the company's number.
type Event struct {
	Kind   EventKind `json:"kind"`
	Vendor string    `json:"vendor"`
	// CallID is the vendor's id of the call (or of this leg of it).
	CallID string `json:"call_id,omitempty"`
	// ParentCallID links a leg to the call it belongs to, where the vendor
	// has legs (Phonet, Webitel).
	ParentCallID string    `json:"parent_call_id,omitempty"`
	Direction    Direction `json:"direction"`
	// Client is the external party, in E.164 when it is a phone number.
	Client string `json:"client,omitempty"`
	// Ext is the operator's internal number, or the group that rang.
	Ext string `json:"ext,omitempty"`
	// Line is the company's number: the DID or trunk the call came through.
	Line string `json:"line,omitempty"`
	// Disposition and RawStatus are set on EventEnd when the vendor says how
	// the call ended. RawStatus is the vendor's own word, kept as sent.
	Disposition Disposition `json:"disposition"`
	RawStatus   string      `json:"raw_status,omitempty"`
	// At is when the event happened, in UTC. When the vendor sends no time it
	// is the time the event was received.
	At time.Time `json:"at"`
	// Raw is the vendor's original message, for fields the model lacks.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// Call is the record of a finished call (a CDR).
type Call struct {
	ID        string    `json:"id"`
	Vendor    string    `json:"vendor"`
	Direction Direction `json:"direction"`
	Client    string    `json:"client,omitempty"`
	Ext       string    `json:"ext,omitempty"`
	Line      string    `json:"line,omitempty"`
	StartedAt time.Time `json:"started_at"`
	// AnsweredAt is zero when the call was never answered.
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	// Duration is the whole call, ringing included; Talk runs from the answer.
	// In JSON both are seconds.
	Duration    time.Duration `json:"duration"`
	Talk        time.Duration `json:"talk"`
	Disposition Disposition   `json:"disposition"`
	RawStatus   string        `json:"raw_status,omitempty"`
	// RecordingURL is the link the vendor gave, if any. Links are often empty
	// at first, temporary, or need credentials: see [Provider.CallLink].
	RecordingURL string          `json:"recording_url,omitempty"`
	Raw          json.RawMessage `json:"raw,omitempty"`
}

// Answered reports whether the call was answered.
func (c Call) Answered() bool { return !c.AnsweredAt.IsZero() || c.Disposition == DispositionAnswered }

// Member is a user of the PBX: an operator with an extension. ID is the
// vendor's id of the user; Ext is the number that appears in events, which
// is what a CRM maps to its own users.
type Member struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Ext   string `json:"ext,omitempty"`
	Email string `json:"email,omitempty"`
}

// Update is what one webhook delivery carries: a live event, a finished-call
// record, or both.
type Update struct {
	Event *Event
	Call  *Call
}
