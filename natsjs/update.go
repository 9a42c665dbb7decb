package natsjs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/pbxkit/pbxkit/voip"
)

// storedUpdate is the stored form of an update: the JSON of voip.Event or
// voip.Call (they carry their JSON tags), one of the two set. A message
// holds one of them: Publish splits an update that carries both.
type storedUpdate struct {
	Event *voip.Event `json:"event,omitempty"`
	Call  *voip.Call  `json:"call,omitempty"`
}

// encodeUpdate is the stored form of u. An update with an event only (the
// many) is written by appendEvent, at a fraction of json.Marshal's cost;
// the decoder reads both alike.
func encodeUpdate(u voip.Update) ([]byte, error) {
	if u.Event != nil && u.Call == nil {
		b := make([]byte, 0, 256+len(u.Event.Raw))
		b = append(b, `{"event":`...)
		b, err := appendEvent(b, u.Event)
		if err != nil {
			return nil, err
		}
		return append(b, '}'), nil
	}
	return json.Marshal(storedUpdate{Event: u.Event, Call: u.Call})
}

// appendEvent appends the JSON of ev as json.Marshal writes it, field by
// field in the order of voip.Event's tags, except for Raw, which is
// checked and copied as it is (json.Marshal compacts it and escapes <, >
// and &): the same JSON value.
func appendEvent(b []byte, ev *voip.Event) ([]byte, error) {
	kind, dir, disp := ev.Kind.String(), ev.Direction.String(), ev.Disposition.String()
	for _, w := range [...]string{kind, dir, disp} {
		// An enum out of range prints as "Type(n)", which MarshalText
		// refuses.
		if strings.IndexByte(w, '(') >= 0 {
			return nil, fmt.Errorf("invalid enum %s", w)
		}
	}
	var at []byte
	if y := ev.At.Year(); ev.At.Location() == time.UTC && y >= 0 && y <= 9999 {
		var buf [40]byte
		at = append(ev.At.AppendFormat(append(buf[:0], '"'), time.RFC3339Nano), '"')
	} else {
		var err error
		if at, err = ev.At.MarshalJSON(); err != nil {
			return nil, err
		}
	}
	b = append(b, `{"kind":`...)
	b = appendString(b, kind)
	b = append(b, `,"vendor":`...)
	b = appendString(b, ev.Vendor)
	b = appendField(b, "call_id", ev.CallID)
	b = appendField(b, "parent_call_id", ev.ParentCallID)
	b = append(b, `,"direction":`...)
	b = appendString(b, dir)
	b = appendField(b, "client", ev.Client)
	b = appendField(b, "ext", ev.Ext)
	b = appendField(b, "line", ev.Line)
	b = append(b, `,"disposition":`...)
	b = appendString(b, disp)
	b = appendField(b, "raw_status", ev.RawStatus)
	b = append(b, `,"at":`...)
	b = append(b, at...)
	if len(ev.Raw) > 0 {
		// Copied as it is, once checked: compacting and escaping it as
		// json.Marshal does would double the cost of a publish.
		if !jsontext.Value(ev.Raw).IsValid(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)) {
			return nil, errors.New("event raw: not a JSON value")
		}
		b = append(b, `,"raw":`...)
		b = append(b, ev.Raw...)
	}
	return append(b, '}'), nil
}

// appendField appends ,"name":"s" unless s is empty (omitempty).
func appendField(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, s)
}

// appendString appends s as a JSON string, escaped as json.Marshal does:
// quotes, backslashes and control bytes, <, > and & (HTML-safe), U+2028
// and U+2029, and invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// DecodeUpdate reads the stored form of an update, a message of the
// stream: a JSON object with "event" (a voip.Event) or "call" (a
// voip.Call). It is lenient: unknown fields are ignored, and so are enum
// words it does not know, which read as the enum's unknown value, so that
// a message written by a newer pbxkit still reads. Anything else (not
// JSON, neither event nor call, a field of the wrong type) is an *Error
// matching ErrMalformed. It never panics.
func DecodeUpdate(data []byte) (voip.Update, error) {
	var s struct {
		Event json.RawMessage `json:"event"`
		Call  json.RawMessage `json:"call"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return voip.Update{}, malformed(err)
	}
	var u voip.Update
	if len(s.Event) > 0 && string(s.Event) != "null" {
		ev, err := decodeEvent(s.Event)
		if err != nil {
			return voip.Update{}, malformed(fmt.Errorf("event: %w", err))
		}
		u.Event = ev
	}
	if len(s.Call) > 0 && string(s.Call) != "null" {
		var c voip.Call
		if err := json.Unmarshal(lenientEnums(s.Call, "direction", "disposition"), &c); err != nil {
			return voip.Update{}, malformed(fmt.Errorf("call: %w", err))
		}
		u.Call = &c
	}
	if u.Event == nil && u.Call == nil {
		return voip.Update{}, malformed(fmt.Errorf("neither event nor call"))
	}
	return u, nil
}

func decodeEvent(raw json.RawMessage) (*voip.Event, error) {
	var ev voip.Event
	if err := json.Unmarshal(lenientEnums(raw, "kind", "direction", "disposition"), &ev); err != nil {
		return nil, err
	}
	return &ev, nil
}

// lenientEnums drops the enum fields named whose word the voip package
// does not know, so that they read as unknown rather than failing the
// whole message. Only an object is rewritten; anything else is returned
// as it is, for json.Unmarshal to refuse.
func lenientEnums(raw json.RawMessage, names ...string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	changed := false
	for _, name := range names {
		v, ok := m[name]
		if !ok {
			continue
		}
		var word string
		if json.Unmarshal(v, &word) != nil || !knownWord(name, word) {
			delete(m, name)
			changed = true
		}
	}
	if !changed {
		return raw
	}
	out, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return out
}

func knownWord(name, word string) bool {
	var err error
	switch name {
	case "kind":
		var k voip.EventKind
		err = k.UnmarshalText([]byte(word))
	case "direction":
		var d voip.Direction
		err = d.UnmarshalText([]byte(word))
	default:
		var d voip.Disposition
		err = d.UnmarshalText([]byte(word))
	}
	return err == nil
}

func malformed(err error) error {
	return &Error{Op: "decode update", Kind: ErrMalformed, Err: err}
}

// kindCall is the subject's last token for a call record.
const kindCall = "call"

// msgID is the Nats-Msg-Id of an event or a call record: the vendor's
// identity of it, so that the same event published twice, from two
// replicas or from a webhook delivered again, has one id. It is made of
// the tenant, the vendor, what it is (the event's kind, or "call"), the
// call id, the parent call id, the extension (the leg) and the vendor's
// raw status word, and never of times: a webhook without a time of its
// own is stamped when it is received. Direction and disposition are left
// out too, being derived by the handler rather than said by the vendor.
func msgID(tenant string, ev *voip.Event, c *voip.Call) string {
	var vendor string
	var parts [7]string
	if ev != nil {
		vendor = ev.Vendor
		parts = [7]string{tenant, ev.Vendor, ev.Kind.String(), ev.CallID, ev.ParentCallID, ev.Ext, ev.RawStatus}
	} else {
		vendor = c.Vendor
		parts = [7]string{tenant, c.Vendor, kindCall, c.ID, "", c.Ext, c.RawStatus}
	}
	// Each part ends with a NUL, so that no two lists of parts read the
	// same; the hash is written in place, without a buffer.
	h := sha256.New()
	nul := []byte{0}
	for _, p := range parts {
		_, _ = io.WriteString(h, p)
		_, _ = h.Write(nul)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	vt := token(vendor)
	id := make([]byte, 0, len(vt)+1+32)
	id = append(id, vt...)
	id = append(id, '-')
	id = hex.AppendEncode(id, sum[:16])
	return string(id)
}

// token makes s a single subject token: letters, digits, '-' and '_'
// stay, any other byte becomes "=XX"; empty is "_".
func token(s string) string {
	if s == "" {
		return "_"
	}
	ok := true
	for i := range len(s) {
		if !tokenByte(s[i]) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	const hexDigits = "0123456789ABCDEF"
	for i := range len(s) {
		c := s[i]
		if tokenByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('=')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func tokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
