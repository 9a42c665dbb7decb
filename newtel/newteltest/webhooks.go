package newteltest

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Webhooks posts the PBX's event webhooks («Webhook-оповещения») to a URL:
// {"event": …, "signature": …, "data": {…}} as JSON, the data encoded as
// PHP's json_encode does ("/" as "\/", non-ASCII as \uXXXX) and signed as
// the one public receiver guesses: hex SHA-1 of event, "\n", the data text,
// "\n", Key. Both are this emulator's choices, not confirmed facts.
type Webhooks struct {
	URL    string       // the receiver («Оповещения»)
	Key    string       // «Ключ для подписи данных»
	Client *http.Client // nil means http.DefaultClient
}

// Event is the name of a PBX webhook.
type Event string

// The events of the PBX, as the one public source names them.
const (
	InboundCallStart  Event = "inboundCallStart"
	InboundCallAnswer Event = "inboundCallAnswer"
	InboundCallEnd    Event = "inboundCallEnd"
	OutboundCallStart Event = "outboundCallStart"
	OutboundCallEnd   Event = "outboundCallEnd"
	RingingStart      Event = "ringingStart"
	RingingEnd        Event = "ringingEnd"
)

// Status is the outcome an *End webhook reports in data.status.
type Status string

// The outcomes of a played call.
const (
	StatusAnswered Status = "answered"
	StatusNoAnswer Status = "no answer"
)

// Field is one data member. Value is one of string, Status, int, int64,
// []string, time.Time (sent as Unix seconds) and time.Duration (sent as
// whole seconds). Order is kept, as the PBX's encoder would.
type Field struct {
	Name  string
	Value any
}

// Send posts one event with data in the given order. A Value of another
// type is an error, and nothing is sent.
func (h Webhooks) Send(ctx context.Context, event Event, data ...Field) error {
	d, err := encodeObject(data)
	if err != nil {
		return err
	}
	sum := sha1.Sum([]byte(string(event) + "\n" + string(d) + "\n" + h.Key))
	body := []byte(`{"event":`)
	body = appendPHPString(body, string(event))
	body = append(body, `,"signature":"`...)
	body = append(body, hex.EncodeToString(sum[:])...)
	body = append(body, `","data":`...)
	body = append(body, d...)
	body = append(body, '}')
	return post(ctx, h.Client, h.URL, body)
}

// encodeObject writes fields as a compact JSON object, PHP-style.
func encodeObject(fields []Field) ([]byte, error) {
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
		case Status:
			b = appendPHPString(b, string(v))
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case time.Time:
			b = strconv.AppendInt(b, v.Unix(), 10)
		case time.Duration:
			b = strconv.AppendInt(b, int64(v/time.Second), 10)
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
			return nil, fmt.Errorf("newteltest: field %q: a value of type %T cannot be sent", f.Name, f.Value)
		}
	}
	return append(b, '}'), nil
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
