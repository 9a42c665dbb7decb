package webitel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/voip"
)

// The event names of the engine socket this package reads into typed fields
// (engine model/websocket_message.go). Any other event (user_state,
// channel, notification, chat, …) is kept with its Name and Raw.
const (
	EventCall        = "call"
	EventAgentStatus = "agent_status"
	EventHello       = "hello"
	EventError       = "error"
)

// The call actions (CallEvent.Action) mod_grpc sends (src/Call.h). There is
// no unhold: an active follows a hold.
const (
	ActionRinging = "ringing"
	ActionActive  = "active"
	ActionBridge  = "bridge"
	ActionHold    = "hold"
	ActionDTMF    = "dtmf"
	ActionHangup  = "hangup"
)

// Event is one event frame of the engine socket:
// {"event":"call","data":{"call":{…}},"seq":5}. Seq is the engine's
// per-connection counter, from 0. Exactly one of Call, AgentStatus, Hello
// and Err is set for those events; other events carry only Name, Seq and
// Raw.
type Event struct {
	Name        string
	Seq         int64
	Call        *CallEvent
	AgentStatus *AgentStatus
	// Hello is the engine's greeting after authentication. Its session
	// token is never kept (and is masked in Raw).
	Hello *Hello
	// Err is the AppError of an "error" event, such as the session expiring
	// while connected (IDSessionExpired).
	Err *voip.APIError
	// ReceivedAt is when the frame was decoded, in UTC.
	ReceivedAt time.Time
	// Raw is the frame as sent, without the trailing newline or NUL bytes.
	Raw json.RawMessage

	// v is the event as voip.Event, worked out by the stream that read it
	// from what it knows of the call (whether it was answered, its
	// parties); vok says there is one, tracked that the stream did.
	v            voip.Event
	vok, tracked bool
}

// CallEvent is the engine's call event (engine model/call.go CallEvent) with
// the sub-event payload mod_grpc attached (mod_grpc src/Call.h). ID is the
// leg's uuid; AppID the FreeSWITCH node that owns it, which socket call
// control needs; UserID the user whose leg it is (the socket's own user);
// Action the sub-event: ringing, active, bridge, hold, hangup, dtmf, ….
// Fields a sub-event does not carry are zero.
type CallEvent struct {
	ID, AppID, UserID, Action, Direction, Cause string
	// At is the event's timestamp (ms, sent as a string), in UTC.
	At time.Time
	// From and To are the parties, on ringing (and To on bridge).
	From, To *Endpoint
	// SIP is the hangup's SIP status: 200 also when mod_grpc knows none, so
	// it cannot tell answered from not; see [Disposition].
	SIP int
	// DomainID is the tenant; CCAppID is set for contact-centre calls.
	DomainID, CCAppID string
	// ParentID is the other leg on ringing; BridgedID the leg bridged to
	// this one on bridge.
	ParentID, BridgedID string
	Destination         string
	// HangupBy is "A", "B" or "F"; HangupPhrase the SIP reason phrase.
	HangupBy, HangupPhrase string
	// Talk is the hangup's talk_sec.
	Talk time.Duration
	// RecordStart and RecordStop are set on the hangup of a recorded leg.
	RecordStart, RecordStop time.Time
	// Digit is a dtmf event's digit; Application an execute event's.
	Digit, Application string
	// Payload holds the call's user variables (usr_ prefix stripped).
	Payload map[string]string
}

// AgentStatus is a contact-centre agent's status change (call_center
// model/agent.go, passed through by the engine): Status is online, offline,
// pause or break_out.
type AgentStatus struct {
	AgentID, UserID, DomainID int64
	Status                    string
	StatusPayload             string // the pause reason ("lunch")
	StatusComment             string
	OnDemand                  bool
	At                        time.Time
}

// Hello is the engine's greeting (engine app/web_conn.go). PingInterval is
// how often the client is to send the application ping; zero when the
// engine asks for none.
type Hello struct {
	ServerNodeID, ServerVersion, SockID string
	ServerTime                          time.Time
	PingInterval                        time.Duration
	UserID, DomainID                    int64
	DomainName                          string
	// Expire is when the session ends.
	Expire time.Time
}

// DecodeError is a frame that cannot be read. It matches voip.ErrMalformed.
type DecodeError struct {
	What string // "frame", "call event", …
	Err  error
}

func (e *DecodeError) Error() string { return "webitel: malformed " + e.What + ": " + e.Err.Error() }

// Unwrap exposes voip.ErrMalformed and the cause.
func (e *DecodeError) Unwrap() []error { return []error{voip.ErrMalformed, e.Err} }

// ParseEvent reads one event frame of the engine socket. Leading and
// trailing whitespace and NUL bytes are ignored (the engine ends every frame
// with "\n", and sends four NULs as a Cloudflare keep-alive). It never
// panics: a keep-alive, a reply ({"status","seq_reply"}), anything that is
// not a JSON object and fields of impossible types are a *DecodeError.
//
// Without the stream's memory of the call, Voip on the result maps ringing
// to Start, active and bridge to Answer (hold and resume included) and a
// hangup to End, answered when it had talk time.
func ParseEvent(data []byte) (*Event, error) {
	f, err := parseFrame(data, time.Now())
	if err != nil {
		return nil, err
	}
	if f.event == nil {
		return nil, &DecodeError{What: "frame", Err: fmt.Errorf("a reply (seq_reply %d), not an event", f.seqReply)}
	}
	if f.sessionToken != "" {
		f.event.Raw = json.RawMessage(redact.New(f.sessionToken).String(string(f.event.Raw)))
	}
	return f.event, nil
}

// frame is one decoded frame: an event, or a reply to a request.
type frame struct {
	event *Event

	seqReply int64
	status   string          // OK or FAIL, as sent
	ok       bool            // status OK
	data     json.RawMessage // a reply's data, decoded by whoever asked
	err      *appError       // a reply's error

	// sessionToken is hello's session token: a secret, kept only to be
	// registered with the redactor.
	sessionToken string
}

// keepAlive reports whether a frame is empty once whitespace and NULs are
// dropped: the Cloudflare keep-alive (engine app/web_conn.go).
func keepAlive(b []byte) bool { return len(trimFrame(b)) == 0 }

// trimFrame drops what surrounds a frame's JSON: the "\n" the engine ends
// every frame with, whitespace and NUL bytes.
func trimFrame(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n\x00")
}

// parseFrame decodes a frame. The engine writes the event name first
// ({"event": "call", "data": …, "seq": n}, engine
// model/websocket_message.go), so the name is read off the front and the
// whole frame is decoded once, into the envelope of that event's payload.
// A frame in another order (or whose name a later duplicate changes) is
// decoded with its data kept raw, which is then decoded by the name. Names
// match without regard to case and the last duplicate wins, as
// encoding/json would have it.
func parseFrame(data []byte, now time.Time) (*frame, error) {
	b := trimFrame(data)
	if len(b) == 0 || b[0] != '{' {
		return nil, &DecodeError{What: "frame", Err: fmt.Errorf("not a JSON object: %s", frameExcerpt(b))}
	}
	name, _ := leadingEvent(b)
	var (
		env     envelope[json.RawMessage]
		payload any
		err     error
	)
	switch name {
	case EventCall:
		payload, err = decodeAs[wireCallData](b, name, &env)
	case EventAgentStatus:
		payload, err = decodeAs[wireAgentStatus](b, name, &env)
	case EventHello:
		payload, err = decodeAs[wireHello](b, name, &env)
	case EventError:
		payload, err = decodeAs[wireErrorEvent](b, name, &env)
	default:
		err = errRedo
	}
	if err == errRedo {
		env = envelope[json.RawMessage]{}
		if err = lenient.Unmarshal(b, &env); err == nil {
			payload, err = decodePayload(env.Data, string(env.Event))
		}
	}
	if err != nil {
		return nil, &DecodeError{What: "frame", Err: err}
	}
	f := &frame{}
	if env.Event == "" {
		if env.SeqReply <= 0 && env.Status == "" {
			return nil, &DecodeError{What: "frame", Err: errors.New("neither an event nor a reply")}
		}
		f.seqReply, f.status, f.err, f.data = int64(env.SeqReply), string(env.Status), env.Error, env.Data
		f.ok = strings.EqualFold(f.status, "OK")
		return f, nil
	}
	ev := &Event{Name: string(env.Event), Seq: int64(env.Seq), ReceivedAt: now.UTC(), Raw: json.RawMessage(b)}
	switch p := payload.(type) {
	case *wireCallData:
		if p.Call != nil {
			ev.Call = p.Call.event()
		}
	case *wireAgentStatus:
		ev.AgentStatus = p.status()
	case *wireHello:
		ev.Hello = p.hello()
		if p.Session != nil {
			f.sessionToken = string(p.Session.Token)
		}
	case *wireErrorEvent:
		if p.Error != nil {
			ev.Err = p.Error.apiError()
		}
	}
	f.event = ev
	return f, nil
}

// errRedo says a frame is to be decoded by the general path.
var errRedo = errors.New("decode again")

// decodeAs decodes b, whose leading name is name, into the envelope of the
// payload T in one pass, and copies the envelope to env. It returns errRedo
// when the name the decoder settles on is another (a duplicate or
// differently cased name later in the frame).
func decodeAs[T any](b []byte, name string, env *envelope[json.RawMessage]) (any, error) {
	var w envelope[*T]
	if err := lenient.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	if string(w.Event) != name {
		return nil, errRedo
	}
	env.Event, env.Seq, env.SeqReply, env.Status, env.Error = w.Event, w.Seq, w.SeqReply, w.Status, w.Error
	if w.Data == nil {
		return nil, nil
	}
	return w.Data, nil
}

// leadingEvent reads the event name when it is the frame's first field, a
// plain string: {"event": "call", …}. It reports false otherwise.
func leadingEvent(b []byte) (string, bool) {
	i := 1
	skip := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	skip()
	if !bytes.HasPrefix(b[i:], []byte(`"event"`)) {
		return "", false
	}
	i += len(`"event"`)
	skip()
	if i >= len(b) || b[i] != ':' {
		return "", false
	}
	i++
	skip()
	if i >= len(b) || b[i] != '"' {
		return "", false
	}
	i++
	end := bytes.IndexByte(b[i:], '"')
	if end < 0 || bytes.IndexByte(b[i:i+end], '\\') >= 0 {
		return "", false
	}
	return string(b[i : i+end]), true
}

// decodePayload decodes an event's raw data into the payload type of the
// event name. The data of other events, and of replies, stays raw.
func decodePayload(raw json.RawMessage, name string) (any, error) {
	var v any
	switch name {
	case EventCall:
		v = new(wireCallData)
	case EventAgentStatus:
		v = new(wireAgentStatus)
	case EventHello:
		v = new(wireHello)
	case EventError:
		v = new(wireErrorEvent)
	default:
		return raw, nil
	}
	if len(raw) == 0 {
		return nil, nil
	}
	return v, lenient.Unmarshal(raw, v)
}

// excerpt quotes the start of b for an error.
func frameExcerpt(b []byte) string {
	const n = 48
	if len(b) > n {
		return fmt.Sprintf("%q…", b[:n])
	}
	return fmt.Sprintf("%q", b)
}

// envelope is a frame's envelope, T its data: an event
// {"event","data","seq"} or a reply {"status","seq_reply","data","error"}
// (engine model/websocket_message.go).
type envelope[T any] struct {
	Event    lenient.String `json:"event"`
	Seq      lenient.Int64  `json:"seq"`
	SeqReply lenient.Int64  `json:"seq_reply"`
	Status   lenient.String `json:"status"`
	Data     T              `json:"data"`
	Error    *appError      `json:"error"`
}

type wireCallData struct {
	Call *wireCall `json:"call"`
}

// wireCall is engine model/call.go CallEvent: timestamp is a float64 with
// a ",string" tag, domain_id and user_id strings; data the payload.
type wireCall struct {
	ID        lenient.String  `json:"id"`
	Event     lenient.String  `json:"event"`
	Timestamp lenient.Time    `json:"timestamp"`
	DomainID  lenient.String  `json:"domain_id"`
	UserID    lenient.String  `json:"user_id"`
	AppID     lenient.String  `json:"app_id"`
	CCAppID   lenient.String  `json:"cc_app_id"`
	Data      *wireCallFields `json:"data"`
}

// wireCallFields is the sub-event payload mod_grpc builds (src/Call.h):
// the fields of every sub-event in one struct, zero where absent.
type wireCallFields struct {
	Direction    lenient.String            `json:"direction"`
	Destination  lenient.String            `json:"destination"`
	From         *wireEndpoint             `json:"from"`
	To           *wireEndpoint             `json:"to"`
	ParentID     lenient.String            `json:"parent_id"`
	BridgedID    lenient.String            `json:"bridged_id"`
	Cause        lenient.String            `json:"cause"`
	SIP          lenient.Int64             `json:"sip"`
	HangupBy     lenient.String            `json:"hangup_by"`
	HangupPhrase lenient.String            `json:"hangup_phrase"`
	TalkSec      lenient.Int64             `json:"talk_sec"`
	RecordStart  lenient.Time              `json:"record_start"`
	RecordStop   lenient.Time              `json:"record_stop"`
	Digit        lenient.String            `json:"digit"`
	Application  lenient.String            `json:"application"`
	Payload      map[string]lenient.String `json:"payload"`
}

func (w *wireCall) event() *CallEvent {
	e := &CallEvent{
		ID: string(w.ID), AppID: string(w.AppID), UserID: string(w.UserID), Action: string(w.Event),
		At: w.Timestamp.Time, DomainID: string(w.DomainID), CCAppID: string(w.CCAppID),
	}
	d := w.Data
	if d == nil {
		return e
	}
	e.Direction, e.Cause, e.Destination = string(d.Direction), string(d.Cause), string(d.Destination)
	e.From, e.To = d.From.endpoint(), d.To.endpoint()
	e.SIP = int(max(min(d.SIP, 999), 0))
	e.ParentID, e.BridgedID = string(d.ParentID), string(d.BridgedID)
	e.HangupBy, e.HangupPhrase = string(d.HangupBy), string(d.HangupPhrase)
	if d.TalkSec > 0 && d.TalkSec < 1<<31 {
		e.Talk = time.Duration(d.TalkSec) * time.Second
	}
	e.RecordStart, e.RecordStop = d.RecordStart.Time, d.RecordStop.Time
	e.Digit, e.Application = string(d.Digit), string(d.Application)
	if len(d.Payload) > 0 {
		e.Payload = make(map[string]string, len(d.Payload))
		for k, v := range d.Payload {
			e.Payload[k] = string(v)
		}
	}
	return e
}

type wireAgentStatus struct {
	AgentID       lenient.Int64  `json:"agent_id"`
	UserID        lenient.Int64  `json:"user_id"`
	DomainID      lenient.Int64  `json:"domain_id"`
	Timestamp     lenient.Time   `json:"timestamp"`
	Status        lenient.String `json:"status"`
	StatusPayload lenient.String `json:"status_payload"`
	StatusComment lenient.String `json:"status_comment"`
	OnDemand      lenient.String `json:"on_demand"`
}

func (w *wireAgentStatus) status() *AgentStatus {
	return &AgentStatus{
		AgentID: int64(w.AgentID), UserID: int64(w.UserID), DomainID: int64(w.DomainID),
		Status: string(w.Status), StatusPayload: string(w.StatusPayload), StatusComment: string(w.StatusComment),
		OnDemand: w.OnDemand == "true", At: w.Timestamp.Time,
	}
}

type wireHello struct {
	ServerNodeID  lenient.String `json:"server_node_id"`
	ServerVersion lenient.String `json:"server_version"`
	ServerTime    lenient.Time   `json:"server_time"`
	SockID        lenient.String `json:"sock_id"`
	PingInterval  lenient.Int64  `json:"ping_interval"`
	Session       *wireSession   `json:"session"`
}

type wireSession struct {
	UserID     lenient.Int64  `json:"user_id"`
	DomainID   lenient.Int64  `json:"domain_id"`
	DomainName lenient.String `json:"domain_name"`
	Expire     lenient.Time   `json:"expire"`
	Token      lenient.String `json:"token"`
}

// maxPingInterval bounds hello's ping_interval (ms): a larger one is taken
// as none rather than as a duration that overflows.
const maxPingInterval = int64(24 * time.Hour / time.Millisecond)

func (w *wireHello) hello() *Hello {
	h := &Hello{ServerNodeID: string(w.ServerNodeID), ServerVersion: string(w.ServerVersion),
		ServerTime: w.ServerTime.Time, SockID: string(w.SockID)}
	if ms := int64(w.PingInterval); ms > 0 && ms <= maxPingInterval {
		h.PingInterval = time.Duration(ms) * time.Millisecond
	}
	if s := w.Session; s != nil {
		h.UserID, h.DomainID, h.DomainName, h.Expire = int64(s.UserID), int64(s.DomainID), string(s.DomainName), s.Expire.Time
	}
	return h
}

// wireErrorEvent is the "error" event: {"sock_id","error":{AppError}}.
type wireErrorEvent struct {
	Error *appError `json:"error"`
}

// apiError is a socket AppError as a *voip.APIError (see parseAppError).
func (w *appError) apiError() *voip.APIError {
	b, _ := json.Marshal(w) // cannot fail: strings and an integer
	e := parseAppError(b, 0)
	e.Vendor = Vendor
	return e
}
