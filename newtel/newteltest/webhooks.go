package newteltest

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// Webhooks posts the PBX's event webhooks ("Webhook-оповещения") to a URL:
// {"event": …, "signature": …, "data": {…}} as JSON, the data encoded as
// PHP's json_encode does ("/" as "\/", non-ASCII as \uXXXX) and signed as
// the one public receiver guesses: hex SHA-1 of event, "\n", the data text,
// "\n", Key. Both are this emulator's choices, not confirmed facts.
type Webhooks struct {
	URL    string       // the receiver («Оповещения»)
	Key    string       // «Ключ для подписи данных»
	Client *http.Client // nil means http.DefaultClient
}

// Field is one data member; Value is a string, an int, an int64 or a
// []string. Order is kept, as the PBX's encoder would.
type Field struct {
	Name  string
	Value any
}

// Send posts one event with data in the given order.
func (h Webhooks) Send(ctx context.Context, event string, data ...Field) error {
	d := encodeObject(data)
	sum := sha1.Sum([]byte(event + "\n" + string(d) + "\n" + h.Key))
	body := []byte(`{"event":`)
	body = appendPHPString(body, event)
	body = append(body, `,"signature":"`...)
	body = append(body, hex.EncodeToString(sum[:])...)
	body = append(body, `","data":`...)
	body = append(body, d...)
	body = append(body, '}')
	return post(ctx, h.Client, h.URL, body)
}

// InboundCall is a call from a client that the emulator plays.
type InboundCall struct {
	CallID string // vpbxId; generated when empty
	Client string // clid: "79161234567"
	DID    string // dnid: our number
	Ext    string // the extension that answers; empty for a missed call
	Ring   time.Duration
	Talk   time.Duration
	// Record is the recording link sent on the end when the call was
	// answered; empty means one on this server.
	Record string
}

// step is one webhook of a played call.
type step struct {
	event string
	data  []Field
}

// PlayInbound sends the webhooks of an inbound call: inboundCallStart,
// ringingStart, inboundCallAnswer (when answered), ringingEnd and
// inboundCallEnd, with times counted back from now. It returns the call id.
func (s *Server) PlayInbound(ctx context.Context, h Webhooks, c InboundCall) (string, error) {
	if c.CallID == "" {
		c.CallID = "vpbx-" + strconv.FormatInt(randomInt(1_000_000_000), 10)
	}
	ring := c.Ring
	if ring == 0 {
		ring = 7 * time.Second
	}
	ext := c.Ext
	if ext == "" {
		ext = "100"
	}
	s.mu.Lock()
	end := s.now().Truncate(time.Second)
	s.mu.Unlock()
	start := end.Add(-ring - c.Talk)
	base := func(at time.Time) []Field {
		return []Field{{"vpbxId", c.CallID}, {"time", at.Unix()}, {"dnid", c.DID}, {"clid", c.Client}}
	}
	steps := []step{
		{"inboundCallStart", base(start)},
		{"ringingStart", append(base(start), Field{"ringingNumber", ext})},
	}
	final := append(base(end), Field{"status", "no answer"},
		Field{"duration", int64(ring / time.Second)}, Field{"ringduration", int64(ring / time.Second)})
	if c.Ext != "" {
		link := c.Record
		if link == "" {
			link = s.URL + "/records/" + c.CallID + ".mp3"
		}
		steps = append(steps, step{"inboundCallAnswer", append(base(start.Add(ring)), Field{"activeNumber", ext})})
		final = append(base(end), Field{"status", "answered"}, Field{"duration", int64((ring + c.Talk) / time.Second)},
			Field{"ringduration", int64(ring / time.Second)}, Field{"fisrtAnswer", ext}, Field{"allAnswer", []string{ext}},
			Field{"callRecordLink", link})
	}
	steps = append(steps,
		step{"ringingEnd", append(base(start.Add(ring)), Field{"ringingNumber", ext})},
		step{"inboundCallEnd", final})
	for _, st := range steps {
		if err := h.Send(ctx, st.event, st.data...); err != nil {
			return c.CallID, err
		}
	}
	return c.CallID, nil
}

// PlayOutbound sends the webhooks of a call the emulator placed with
// call/start_simple_call: outboundCallStart and outboundCallEnd, answered
// after ring and talking for talk. The vpbxId is the placed call's id.
func (s *Server) PlayOutbound(ctx context.Context, h Webhooks, c PlacedCall, ring, talk time.Duration) error {
	s.mu.Lock()
	end := s.now().Truncate(time.Second)
	s.mu.Unlock()
	start := end.Add(-ring - talk)
	line := c.CallerID
	if line == "" {
		line = "74951502837"
	}
	base := func(at time.Time) []Field {
		return []Field{{"vpbxId", c.CallID}, {"time", at.Unix()}, {"dnid", c.DstNumber},
			{"externalClid", line}, {"internalClid", c.SrcNumber}}
	}
	if err := h.Send(ctx, "outboundCallStart", base(start)...); err != nil {
		return err
	}
	final := append(base(end), Field{"status", "answered"}, Field{"duration", int64((ring + talk) / time.Second)},
		Field{"ringduration", int64(ring / time.Second)}, Field{"callRecordLink", s.URL + "/records/" + c.CallID + ".mp3"})
	return h.Send(ctx, "outboundCallEnd", final...)
}

// encodeObject writes fields as a compact JSON object, PHP-style.
func encodeObject(fields []Field) []byte {
	b := []byte{'{'}
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPHPString(b, f.Name)
		b = append(b, ':')
		switch v := f.Value.(type) {
		case string:
			b = appendPHPString(b, v)
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case []string:
			b = append(b, '[')
			for j, s := range v {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendPHPString(b, s)
			}
			b = append(b, ']')
		default:
			b = append(b, "null"...)
		}
	}
	return append(b, '}')
}

// appendPHPString writes s as json_encode does by default: "/" escaped,
// every character from U+007F as \uXXXX (UTF-16 pairs above U+FFFF).
func appendPHPString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	esc := func(b []byte, r rune) []byte {
		return append(b, '\\', 'u', hexd[r>>12&15], hexd[r>>8&15], hexd[r>>4&15], hexd[r&15])
	}
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"', r == '\\', r == '/':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r < 0x20:
			b = esc(b, r)
		case r < 0x7f:
			b = append(b, byte(r))
		case r > 0xffff:
			r -= 0x10000
			b = esc(esc(b, 0xd800+r>>10), 0xdc00+r&0x3ff)
		default:
			b = esc(b, r)
		}
	}
	return append(b, '"')
}
