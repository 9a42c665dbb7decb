package newtel

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/pbxkit/pbxkit/voip"
)

// WebhookVerifier checks the signature of a PBX event webhook: event is the
// event name, data the data object exactly as received, signature the value
// sent. It returns nil to accept the webhook, or an error matching
// voip.ErrUnverified. The signing algorithm is not publicly documented, so
// a verifier that matches what your account really sends can replace the
// default, VerifyWebhookSignature.
type WebhookVerifier func(event string, data []byte, signature string) error

// ErrWebhookSignature is matched by the errors of VerifyWebhookSignature. It
// also matches voip.ErrUnverified.
var ErrWebhookSignature = fmt.Errorf("newtel: webhook signature does not verify: %w", voip.ErrUnverified)

// VerifyWebhookSignature is the default verifier, EXPERIMENTAL: it accepts a
// signature that matches any of the candidate schemes that public code
// guesses, and is to be checked against a real webhook. key is the
// «Ключ для подписи данных» of the cabinet's «Webhook-оповещения».
//
// A candidate is the lowercase hex SHA-1 (the guess of the one public
// receiver) or SHA-256 (as in the API's own tokens) of
//
//	event + "\n" + dataText + "\n" + key
//
// where dataText is the data object as received, or re-encoded, field order
// kept, without spaces in the escaping of PHP's json_encode ("/" as "\/",
// non-ASCII as \uXXXX) or of JavaScript's JSON.stringify, each with and
// without data's own signature member.
//
// It fails closed: with an empty key, or a webhook without a signature,
// every webhook is refused.
func VerifyWebhookSignature(key string) WebhookVerifier {
	return func(event string, data []byte, signature string) error {
		if key == "" {
			return fmt.Errorf("%w: no webhook key is configured", ErrWebhookSignature)
		}
		got, err := hex.DecodeString(strings.TrimSpace(signature))
		if err != nil || (len(got) != sha1.Size && len(got) != sha256.Size) {
			return fmt.Errorf("%w: missing, or not a SHA-1 or SHA-256 hex digest", ErrWebhookSignature)
		}
		newHash := sha1.New
		if len(got) == sha256.Size {
			newHash = sha256.New
		}
		for _, text := range signedTexts(data) {
			if subtle.ConstantTimeCompare(got, webhookDigest(newHash, event, text, key)) == 1 {
				return nil
			}
		}
		return ErrWebhookSignature
	}
}

// SkipWebhookVerification accepts every webhook. It is for an account whose
// signature matches no candidate of VerifyWebhookSignature, behind other
// protection: an unguessable URL, an IP allow-list. Anyone who can reach the
// URL can then post events.
func SkipWebhookVerification() WebhookVerifier {
	return func(string, []byte, string) error { return nil }
}

func webhookDigest(newHash func() hash.Hash, event string, data []byte, key string) []byte {
	h := newHash()
	_, _ = io.WriteString(h, event)
	_, _ = h.Write([]byte{'\n'})
	_, _ = h.Write(data)
	_, _ = h.Write([]byte{'\n'})
	_, _ = io.WriteString(h, key)
	return h.Sum(nil)
}

// escaping is how a candidate re-encodes strings.
type escaping int8

const (
	escapeJS  escaping = iota // JSON.stringify: only quotes, backslashes and controls
	escapePHP                 // json_encode's default: also "/" and everything from U+007F
)

// signedTexts are the candidate texts of data, duplicates removed.
func signedTexts(data []byte) [][]byte {
	out := [][]byte{bytes.TrimSpace(data)}
	for _, esc := range []escaping{escapePHP, escapeJS} {
		for _, drop := range []string{"", "signature"} {
			t, err := reencode(data, esc, drop)
			if err != nil {
				continue
			}
			dup := false
			for _, o := range out {
				dup = dup || bytes.Equal(o, t)
			}
			if !dup {
				out = append(out, t)
			}
		}
	}
	return out
}

// reencode writes the JSON value data compactly in the given escaping, its
// object members in the order received, without the top-level member named
// drop. Numbers keep their literal text.
func reencode(data []byte, esc escaping, drop string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		object, wantKey bool
		n               int
	}
	var stack []frame
	out := make([]byte, 0, len(data)+len(data)/8)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) != 0 || len(out) == 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(stack) == 0 && len(out) > 0 {
			return nil, errors.New("newtel: more than one JSON value")
		}
		top := len(stack) - 1
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			out = append(out, byte(d))
			stack = stack[:top]
			if top > 0 && stack[top-1].object {
				stack[top-1].wantKey = true
			}
			continue
		}
		if top >= 0 && stack[top].object && stack[top].wantKey {
			key, _ := tok.(string)
			if top == 0 && drop != "" && key == drop {
				if err := skipValue(dec); err != nil {
					return nil, err
				}
				continue
			}
			if stack[top].n > 0 {
				out = append(out, ',')
			}
			stack[top].n++
			stack[top].wantKey = false
			out = appendString(out, key, esc)
			out = append(out, ':')
			continue
		}
		if top >= 0 && !stack[top].object {
			if stack[top].n > 0 {
				out = append(out, ',')
			}
			stack[top].n++
		}
		switch v := tok.(type) {
		case json.Delim:
			out = append(out, byte(v))
			stack = append(stack, frame{object: v == '{', wantKey: v == '{'})
			continue
		case string:
			out = appendString(out, v, esc)
		case json.Number:
			out = append(out, v...)
		case bool:
			if v {
				out = append(out, "true"...)
			} else {
				out = append(out, "false"...)
			}
		case nil:
			out = append(out, "null"...)
		default:
			return nil, errors.New("newtel: unexpected JSON token")
		}
		if top >= 0 && stack[top].object {
			stack[top].wantKey = true
		}
	}
}

// skipValue consumes one value from dec.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// appendString appends s as a JSON string in the given escaping. Control
// characters and escapes are written as both PHP and JavaScript do: \n, \t,
// \u001f, with lowercase hex.
func appendString(b []byte, s string, esc escaping) []byte {
	const hexDigits = "0123456789abcdef"
	u4 := func(b []byte, r rune) []byte {
		return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
	}
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r < 0x20:
			b = u4(b, r)
		case esc == escapePHP && r == '/':
			b = append(b, '\\', '/')
		case esc == escapePHP && r >= 0x7f:
			if r > 0xffff {
				r -= 0x10000
				b = u4(b, 0xd800+(r>>10))
				b = u4(b, 0xdc00+(r&0x3ff))
			} else {
				b = u4(b, r)
			}
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
