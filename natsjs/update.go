package natsjs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pbxkit/pbxkit/voip"
)

// storedUpdate is the stored form of an update: the JSON of voip.Event or
// voip.Call (they carry their JSON tags), one of the two set. A message
// holds one of them: Publish splits an update that carries both.
type storedUpdate struct {
	Event *voip.Event `json:"event,omitempty"`
	Call  *voip.Call  `json:"call,omitempty"`
}

// encodeUpdate is the stored form of u.
func encodeUpdate(u voip.Update) ([]byte, error) {
	return json.Marshal(storedUpdate{Event: u.Event, Call: u.Call})
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
	h := sha256.New()
	part := func(s string) {
		_, _ = h.Write([]byte(s))
		_, _ = h.Write([]byte{0})
	}
	part(tenant)
	var vendor string
	if ev != nil {
		vendor = ev.Vendor
		part(ev.Vendor)
		part(ev.Kind.String())
		part(ev.CallID)
		part(ev.ParentCallID)
		part(ev.Ext)
		part(ev.RawStatus)
	} else {
		vendor = c.Vendor
		part(c.Vendor)
		part(kindCall)
		part(c.ID)
		part("")
		part(c.Ext)
		part(c.RawStatus)
	}
	var sum [sha256.Size]byte
	return token(vendor) + "-" + hex.EncodeToString(h.Sum(sum[:0])[:16])
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
