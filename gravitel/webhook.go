package gravitel

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/voip"
)

// Command is the kind of a webhook: the cmd field.
type Command string

// The webhook commands. CmdRating is MegaFon's and Kcell's; it is accepted
// and passed through.
const (
	CmdHistory Command = "history"
	CmdEvent   Command = "event"
	CmdContact Command = "contact"
	CmdRating  Command = "rating"
)

var commands = []Command{CmdHistory, CmdEvent, CmdContact, CmdRating}

// EventType is the type of a cmd=event webhook, in upper case.
type EventType string

// The event types. EventTransferred is MegaFon's, not seen on Gravitel.
const (
	EventIncoming    EventType = "INCOMING"    // ringing at an employee
	EventAccepted    EventType = "ACCEPTED"    // the employee picked up
	EventCompleted   EventType = "COMPLETED"   // hung up after talking
	EventCancelled   EventType = "CANCELLED"   // the caller gave up, or another employee answered
	EventOutgoing    EventType = "OUTGOING"    // an employee is dialling a client
	EventTransferred EventType = "TRANSFERRED" // moved to another leg, SecondCallID
)

var eventTypes = []EventType{EventIncoming, EventAccepted, EventCompleted, EventCancelled, EventOutgoing, EventTransferred}

// Status is the outcome of a call in a cmd=history webhook, in the spelling
// below whatever case the PBX used. The raw word is in Webhook.RawStatus.
type Status string

// The statuses. StatusCancel and StatusNotFound are MegaFon's.
const (
	StatusSuccess      Status = "Success"
	StatusMissed       Status = "Missed"
	StatusBusy         Status = "Busy"
	StatusNotAvailable Status = "NotAvailable"
	StatusNotAllowed   Status = "NotAllowed"
	StatusCancel       Status = "Cancel"
	StatusNotFound     Status = "NotFound"
)

var statuses = []Status{StatusSuccess, StatusMissed, StatusBusy, StatusNotAvailable, StatusNotAllowed, StatusCancel, StatusNotFound}

// Webhook is one PBX → CRM request, every documented field typed. Fields a
// command does not carry are empty.
type Webhook struct {
	Cmd Command
	// EventType is set for cmd=event.
	EventType EventType
	// CallType is set for cmd=history: CallIn or CallOut.
	CallType CallType
	// Status is the canonical history status; empty when the word is not
	// one of the known ones. RawStatus is the word as sent.
	Status    Status
	RawStatus string

	CallID    string
	Phone     string // the client, E.164 digits as sent ("79161234567")
	Diversion string // our number the call came to
	// User is the employee as sent: "login@tenant.gravitel.ru" or "login".
	User          string
	Ext           string
	Telnum        string
	GroupRealName string
	Start         time.Time     // cmd=history, UTC
	Duration      time.Duration // cmd=history
	Link          string        // cmd=history: the recording, if any
	Rating        string        // cmd=rating
	// ZFlag is Gravitel's z-flag, meaning unknown, kept as sent.
	ZFlag string
	// Direction and SecondCallID are MegaFon's additions, kept as sent.
	Direction    string
	SecondCallID string
	// ReceivedAt is when the webhook was parsed; events carry no time.
	ReceivedAt time.Time
	// Raw is every field as received except crm_token, as a JSON object.
	Raw json.RawMessage
}

// Login is User without the "@tenant" part.
func (w *Webhook) Login() string {
	login, _, _ := strings.Cut(w.User, "@")
	return login
}

// UnknownValueError is a webhook whose cmd, type or another enum has a value
// this package does not know. It matches voip.ErrMalformed.
type UnknownValueError struct {
	Cmd   string // the cmd as sent
	Field string // "cmd", "type"
	Value string // as sent
}

func (e *UnknownValueError) Error() string {
	return fmt.Sprintf("gravitel: webhook cmd %s: unknown %s %s", excerpt(e.Cmd), e.Field, excerpt(e.Value))
}

func (e *UnknownValueError) Unwrap() error { return voip.ErrMalformed }

// ErrInvalidToken is matched by the error of a webhook whose crm_token is
// missing or wrong, or when no CRM token was configured. It also matches
// voip.ErrUnverified.
var ErrInvalidToken = fmt.Errorf("gravitel: invalid crm_token: %w", voip.ErrUnverified)

// The exact replies the PBX expects on failures.
var (
	replyInvalidToken = func(err error) error {
		return &voip.WebhookError{Status: http.StatusUnauthorized, Message: msgInvalidToken, Err: err}
	}
	replyInvalidParameters = func(err error) error {
		return &voip.WebhookError{Status: http.StatusBadRequest, Message: msgInvalidParameters, Err: err}
	}
)

// ParseWebhook reads and verifies a webhook. The body is read up to
// voip.DefaultWebhookMaxBody. crmToken is the CRM key typed into the PBX
// cabinet; an empty one rejects every request.
//
// A wrong token is an error matching ErrInvalidToken (and
// voip.ErrUnverified); a body that cannot be read, a missing field or an
// unknown value matches voip.ErrMalformed. Both are *voip.WebhookError
// values carrying the reply the PBX expects.
func ParseWebhook(r *http.Request, crmToken string) (*Webhook, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, voip.DefaultWebhookMaxBody+1))
	if err != nil {
		return nil, replyInvalidParameters(fmt.Errorf("gravitel: read webhook body: %w: %w", err, voip.ErrMalformed))
	}
	if len(body) > voip.DefaultWebhookMaxBody {
		return nil, &voip.WebhookError{Status: http.StatusRequestEntityTooLarge, Message: "request body too large",
			Err: fmt.Errorf("gravitel: webhook body over %d bytes: %w", voip.DefaultWebhookMaxBody, voip.ErrMalformed)}
	}
	return parseWebhook(r.Header.Get("Content-Type"), body, crmToken, time.Now())
}

// parseWebhook is ParseWebhook on a body already read.
func parseWebhook(contentType string, body []byte, crmToken string, now time.Time) (*Webhook, error) {
	p := parser{w: &Webhook{ReceivedAt: now.UTC()}, raw: make([]byte, 1, len(body)+16)}
	p.raw[0] = '{'
	if err := p.read(contentType, body); err != nil {
		return nil, replyInvalidParameters(fmt.Errorf("gravitel: webhook body: %w: %w", err, voip.ErrMalformed))
	}
	// The token goes first, so that a sender without it learns nothing about
	// what else is wrong. An empty key matches nothing: fail closed.
	if crmToken == "" || !p.hasToken || subtle.ConstantTimeCompare([]byte(p.token), []byte(crmToken)) != 1 {
		return nil, replyInvalidToken(ErrInvalidToken)
	}
	if err := p.finish(); err != nil {
		return nil, replyInvalidParameters(err)
	}
	return p.w, nil
}

// parser reads a webhook body in one pass, without building a map: the
// token aside, each field goes into Raw and, when known, into w.
type parser struct {
	w        *Webhook
	cmd, typ string
	token    string
	hasToken bool
	raw      []byte
	err      error // the first field value that cannot be read
}

// read splits a form or JSON body into fields. The media type decides, and
// a body that starts with "{" is read as JSON whatever the header says.
func (p *parser) read(contentType string, body []byte) error {
	media, _, _ := strings.Cut(contentType, ";")
	trimmed := bytes.TrimSpace(body)
	if strings.EqualFold(strings.TrimSpace(media), "application/json") || bytes.HasPrefix(trimmed, []byte("{")) {
		return p.readJSON(trimmed)
	}
	return p.readForm(string(trimmed))
}

// readForm reads an application/x-www-form-urlencoded body, with the
// escaping rules of url.ParseQuery.
func (p *parser) readForm(s string) error {
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(name)
		if err != nil {
			return err
		}
		if value, err = url.QueryUnescape(value); err != nil {
			return err
		}
		p.add(name, value, nil)
	}
	return nil
}

// readJSON reads a JSON object body. Values may be strings, numbers or
// bools (ext arrives as 701 or "701"); other values are kept in Raw only.
func (p *parser) readJSON(body []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return err
	}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names) // a stable Raw
	for _, name := range names {
		var v lenient.String
		if json.Unmarshal(m[name], &v) != nil {
			v = ""
		}
		p.add(name, string(v), m[name])
	}
	return nil
}

// add takes one field. raw is its JSON text when the body was JSON.
func (p *parser) add(name, value string, raw json.RawMessage) {
	if name == "crm_token" {
		if !p.hasToken {
			p.token, p.hasToken = value, true
		}
		return
	}
	if len(p.raw) > 1 {
		p.raw = append(p.raw, ',')
	}
	p.raw = appendJSONString(p.raw, name)
	p.raw = append(p.raw, ':')
	if raw != nil {
		p.raw = append(p.raw, raw...)
	} else {
		p.raw = appendJSONString(p.raw, value)
	}
	if v := strings.TrimSpace(value); v != "" {
		p.assign(name, v)
	}
}

// assign sets the field name of w. Of repeated fields the first non-empty
// one wins, as with http.Request.FormValue.
func (p *parser) assign(name, v string) {
	w := p.w
	switch name {
	case "cmd":
		setOnce(&p.cmd, v)
	case "type":
		setOnce(&p.typ, v)
	case "status":
		setOnce(&w.RawStatus, v)
	case "callid":
		setOnce(&w.CallID, v)
	case "phone":
		setOnce(&w.Phone, v)
	case "diversion":
		setOnce(&w.Diversion, v)
	case "user":
		setOnce(&w.User, v)
	case "ext":
		setOnce(&w.Ext, v)
	case "telnum":
		setOnce(&w.Telnum, v)
	case "groupRealName":
		setOnce(&w.GroupRealName, v)
	case "link":
		setOnce(&w.Link, v)
	case "rating":
		setOnce(&w.Rating, v)
	case "z-flag":
		setOnce(&w.ZFlag, v)
	case "direction":
		setOnce(&w.Direction, v)
	case "second_callid":
		setOnce(&w.SecondCallID, v)
	case "start":
		if w.Start.IsZero() {
			t, err := parseTime(v)
			p.fail("start", err)
			w.Start = t
		}
	case "duration":
		if w.Duration == 0 {
			d, err := parseSeconds(v)
			p.fail("duration", err)
			w.Duration = d
		}
	}
}

// fail keeps the first field error.
func (p *parser) fail(name string, err error) {
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("gravitel: webhook %s: %w: %w", name, err, voip.ErrMalformed)
	}
}

// finish checks the command and the fields it requires.
func (p *parser) finish() error {
	w := p.w
	w.Raw = append(p.raw, '}')
	if p.err != nil {
		return p.err
	}
	cmd, ok := matchFold(commands, p.cmd)
	if !ok {
		return &UnknownValueError{Cmd: p.cmd, Field: "cmd", Value: p.cmd}
	}
	w.Cmd = cmd
	switch cmd {
	case CmdEvent:
		if w.EventType, ok = matchFold(eventTypes, p.typ); !ok {
			return &UnknownValueError{Cmd: p.cmd, Field: "type", Value: p.typ}
		}
	case CmdHistory:
		if w.CallType, ok = matchFold([]CallType{CallIn, CallOut, CallMissed}, p.typ); !ok {
			return &UnknownValueError{Cmd: p.cmd, Field: "type", Value: p.typ}
		}
		w.Status, _ = matchFold(statuses, w.RawStatus)
	}
	if w.CallID == "" && cmd != CmdRating {
		return fmt.Errorf("gravitel: webhook cmd %s without callid: %w", p.cmd, voip.ErrMalformed)
	}
	return nil
}

func setOnce(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// matchFold finds s among the known values, ignoring case.
func matchFold[T ~string](known []T, s string) (T, bool) {
	for _, k := range known {
		if strings.EqualFold(string(k), s) {
			return k, true
		}
	}
	return "", false
}

// appendJSONString appends s as a JSON string without HTML escaping;
// invalid UTF-8 becomes U+FFFD. It is hand-written because encoding/json
// would cost more than parsing the whole webhook.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, `\u202`...)
			b = strconv.AppendInt(b, int64(r&0xf), 16)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
