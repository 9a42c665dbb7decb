package newtel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/voip"
)

// EventName is the event of a PBX webhook ("Webhook-оповещения"), as sent.
type EventName string

// The PBX events known from public code (one source).
const (
	EventInboundCallStart  EventName = "inboundCallStart"
	EventInboundCallAnswer EventName = "inboundCallAnswer"
	EventInboundCallEnd    EventName = "inboundCallEnd"
	EventOutboundCallStart EventName = "outboundCallStart"
	EventOutboundCallEnd   EventName = "outboundCallEnd"
	EventRingingStart      EventName = "ringingStart"
	EventRingingEnd        EventName = "ringingEnd"
)

// Webhook is one PBX event webhook, {"event", "signature", "data"}, with
// the data fields typed. Fields an event does not carry are empty.
type Webhook struct {
	Name      EventName
	Signature string
	// CallID is data.vpbxId, the same for every event of a call.
	CallID string
	// Time is data.time, Unix seconds; zero when absent.
	Time time.Time
	// DNID is the dialled number: our DID inbound, the client outbound.
	DNID string
	// CLID is the caller: the client inbound.
	CLID string
	// ExternalCLID is the caller ID shown on an outbound call, InternalCLID
	// the extension that made it.
	ExternalCLID, InternalCLID string
	// RingingNumber is the extension that rings (ringing*), ActiveNumber the
	// one that answered (inboundCallAnswer).
	RingingNumber, ActiveNumber string
	// FirstAnswer (sent as fisrtAnswer or firstAnswer) and AllAnswer are the
	// extensions that answered.
	FirstAnswer string
	AllAnswer   []string
	// Status is "answered" or "no answer" on *End events, as sent.
	Status       string
	Duration     time.Duration
	RingDuration time.Duration
	// CallRecordLink is the recording of an answered call, on *End events.
	CallRecordLink string
	ReceivedAt     time.Time
	// Data is the data object exactly as received: what the signature
	// covers, if the guess about it is right.
	Data json.RawMessage
	// Raw is the whole body as received.
	Raw json.RawMessage
}

// envelopeWire is the outside of a webhook. The one public parser also
// takes event and signature from inside data, or a flat body without data,
// so this one does too.
type webhookEnvelope struct {
	Event     lenient.String  `json:"event"`
	Signature lenient.String  `json:"signature"`
	Data      json.RawMessage `json:"data"`
}

type webhookData struct {
	Event          lenient.String  `json:"event"`
	Signature      lenient.String  `json:"signature"`
	VpbxID         lenient.String  `json:"vpbxId"`
	Time           lenient.Time    `json:"time"`
	DNID           lenient.String  `json:"dnid"`
	CLID           lenient.String  `json:"clid"`
	Status         lenient.String  `json:"status"`
	Duration       lenient.Int64   `json:"duration"`
	RingDuration   lenient.Int64   `json:"ringduration"`
	FisrtAnswer    lenient.String  `json:"fisrtAnswer"` // sic, as the PBX spells it
	FirstAnswer    lenient.String  `json:"firstAnswer"`
	AllAnswer      json.RawMessage `json:"allAnswer"`
	ExternalCLID   lenient.String  `json:"externalClid"`
	InternalCLID   lenient.String  `json:"internalClid"`
	RingingNumber  lenient.String  `json:"ringingNumber"`
	ActiveNumber   lenient.String  `json:"activeNumber"`
	CallRecordLink lenient.String  `json:"callRecordLink"`
}

// ParseWebhook reads a PBX event webhook from r's body, at most
// voip.DefaultWebhookMaxBody bytes, and checks its signature with verify,
// which must not be nil: see VerifyWebhookSignature. A body that cannot be
// read or parsed, or is longer, matches voip.ErrMalformed; a failed
// verification voip.ErrUnverified. Unknown event names are accepted, for
// the events the PBX may add; Event and Call then report false.
//
// It is for a handler of your own; NewWebhookHandler does the same and
// drops the PBX's duplicates.
func ParseWebhook(r *http.Request, verify WebhookVerifier) (*Webhook, error) {
	body, err := readBody(r, "webhook")
	if err != nil {
		return nil, err
	}
	return parseWebhook(body, verify, time.Now())
}

// readBody reads the body of a request to ParseWebhook or ParseCallback
// (what names it in errors), capped at voip.DefaultWebhookMaxBody.
func readBody(r *http.Request, what string) ([]byte, error) {
	if r == nil || r.Body == nil {
		return nil, fmt.Errorf("newtel: %s: no request body: %w", what, voip.ErrMalformed)
	}
	const max = voip.DefaultWebhookMaxBody
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("newtel: %s: reading the body: %w: %w", what, err, voip.ErrMalformed)
	}
	if len(body) > max {
		return nil, fmt.Errorf("newtel: %s: the body is over %d bytes: %w", what, max, voip.ErrMalformed)
	}
	return body, nil
}

func parseWebhook(body []byte, verify WebhookVerifier, now time.Time) (*Webhook, error) {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return nil, malformed("the body is not a JSON object", nil)
	}
	var env webhookEnvelope
	if err := lenient.Unmarshal(b, &env); err != nil {
		return nil, malformed("", err)
	}
	data := bytes.TrimSpace(env.Data)
	if len(data) == 0 || string(data) == "null" {
		data = b // a flat body
	}
	if data[0] != '{' {
		return nil, malformed("data is not an object", nil)
	}
	var d webhookData
	if err := lenient.Unmarshal(data, &d); err != nil {
		return nil, malformed("data", err)
	}
	w := &Webhook{
		Name:      EventName(first(string(env.Event), string(d.Event))),
		Signature: first(string(env.Signature), string(d.Signature)),
		Data:      json.RawMessage(data), Raw: json.RawMessage(b), ReceivedAt: now.UTC(),
	}
	if w.Name == "" {
		return nil, malformed("no event name", nil)
	}
	if verify == nil {
		return nil, fmt.Errorf("newtel: ParseWebhook without a verifier: %w", voip.ErrUnverified)
	}
	if err := verify(string(w.Name), data, w.Signature); err != nil {
		return nil, err
	}
	if d.Duration < 0 || d.RingDuration < 0 || d.Duration > maxSeconds || d.RingDuration > maxSeconds {
		return nil, malformed("duration out of range", nil)
	}
	all, err := answerList(d.AllAnswer)
	if err != nil {
		return nil, malformed("allAnswer", err)
	}
	w.CallID, w.Time = string(d.VpbxID), d.Time.Time
	w.DNID, w.CLID, w.Status = string(d.DNID), string(d.CLID), string(d.Status)
	w.ExternalCLID, w.InternalCLID = string(d.ExternalCLID), string(d.InternalCLID)
	w.RingingNumber, w.ActiveNumber = string(d.RingingNumber), string(d.ActiveNumber)
	w.FirstAnswer, w.AllAnswer = first(string(d.FisrtAnswer), string(d.FirstAnswer)), all
	w.Duration, w.RingDuration = time.Duration(d.Duration)*time.Second, time.Duration(d.RingDuration)*time.Second
	w.CallRecordLink = string(d.CallRecordLink)
	return w, nil
}

// maxSeconds caps a duration: a year is garbage, not a call, and the cap
// keeps time.Duration from overflowing.
const maxSeconds = 366 * 24 * 3600

func malformed(what string, err error) error {
	switch {
	case err != nil && what != "":
		return fmt.Errorf("newtel: webhook %s: %w: %w", what, err, voip.ErrMalformed)
	case err != nil:
		return fmt.Errorf("newtel: webhook: %w: %w", err, voip.ErrMalformed)
	}
	return fmt.Errorf("newtel: webhook: %s: %w", what, voip.ErrMalformed)
}

// answerList reads allAnswer: an array of extensions (strings or numbers),
// or, leniently, one string of comma-separated ones.
func answerList(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '[' {
		var items []lenient.String
		if err := lenient.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			if it != "" {
				out = append(out, string(it))
			}
		}
		return out, nil
	}
	var s lenient.String
	if err := lenient.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	var out []string
	for _, part := range strings.Split(string(s), ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

// Event returns the webhook as a voip.Event: *CallStart is EventStart,
// inboundCallAnswer EventAnswer, *CallEnd EventEnd. ringingStart,
// ringingEnd and unknown events have no neutral form and report false.
func (w *Webhook) Event() (voip.Event, bool) {
	kind, dir, ok := w.kind()
	if !ok {
		return voip.Event{}, false
	}
	ev := voip.Event{Kind: kind, Vendor: Vendor, CallID: w.CallID, Direction: dir, At: w.Time, Raw: w.Raw}
	ev.Client, ev.Ext, ev.Line = w.parties(dir)
	if kind == voip.EventAnswer {
		ev.Ext = first(w.ActiveNumber, ev.Ext)
	}
	if ev.At.IsZero() {
		ev.At = w.ReceivedAt
	}
	if kind == voip.EventEnd {
		ev.Disposition, ev.RawStatus = disposition(w.Status), w.Status
	}
	return ev, true
}

// Call returns the record of a finished call from an *End event; other
// events report false. The PBX does not say when the call started or was
// answered: this package takes time as the end, StartedAt as time minus
// duration, and the answer as ringduration after the start. Unconfirmed.
func (w *Webhook) Call() (voip.Call, bool) {
	kind, dir, ok := w.kind()
	if !ok || kind != voip.EventEnd {
		return voip.Call{}, false
	}
	c := voip.Call{ID: w.CallID, Vendor: Vendor, Direction: dir, Duration: w.Duration,
		Disposition: disposition(w.Status), RawStatus: w.Status, RecordingURL: w.CallRecordLink, Raw: w.Raw}
	c.Client, c.Ext, c.Line = w.parties(dir)
	end := w.Time
	if end.IsZero() {
		end = w.ReceivedAt
	}
	c.StartedAt = end.Add(-w.Duration)
	if c.Disposition == voip.DispositionAnswered {
		c.AnsweredAt = c.StartedAt.Add(min(w.RingDuration, w.Duration))
		c.Talk = w.Duration - min(w.RingDuration, w.Duration)
	}
	return c, true
}

func (w *Webhook) kind() (voip.EventKind, voip.Direction, bool) {
	switch w.Name {
	case EventInboundCallStart:
		return voip.EventStart, voip.DirectionIn, true
	case EventInboundCallAnswer:
		return voip.EventAnswer, voip.DirectionIn, true
	case EventInboundCallEnd:
		return voip.EventEnd, voip.DirectionIn, true
	case EventOutboundCallStart:
		return voip.EventStart, voip.DirectionOut, true
	case EventOutboundCallEnd:
		return voip.EventEnd, voip.DirectionOut, true
	}
	return voip.EventUnknown, voip.DirectionUnknown, false
}

// parties maps the fields to client, operator and line: inbound the client
// is clid and the line dnid; outbound the client is dnid, the operator
// internalClid and the line externalClid.
func (w *Webhook) parties(dir voip.Direction) (client, ext, line string) {
	if dir == voip.DirectionOut {
		return phone(w.DNID), w.InternalCLID, phone(w.ExternalCLID)
	}
	return phone(w.CLID), first(w.FirstAnswer, w.RingingNumber), phone(w.DNID)
}

// phone is raw in E.164 when it reads as a number, else raw as sent.
func phone(raw string) string { return voip.Party(raw, "RU") }
