package phonet

import (
	"bytes"
	"time"
	"unicode/utf8"

	"github.com/pbxkit/pbxkit/internal/lenient"
)

// The wire types below are the lenient package's, with a fast path for the
// shape nearly every field has (a plain string, a plain integer). Anything
// else goes to lenient, which holds the rules. The fast path halves the
// cost of an event: lenient re-parses every value through encoding/json.
// encoding/json has validated each value before it calls UnmarshalJSON.

// text is a lenient.String.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' {
		inner := b[1 : n-1]
		if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			*t = text(bytes.TrimSpace(inner))
			return nil
		}
	}
	var s lenient.String
	err := s.UnmarshalJSON(b)
	*t = text(s)
	return err
}

// integer is a lenient.Int64.
type integer int64

func (n *integer) UnmarshalJSON(b []byte) error {
	if v, ok := plainDigits(b); ok {
		*n = integer(v)
		return nil
	}
	var v lenient.Int64
	err := v.UnmarshalJSON(b)
	*n = integer(v)
	return err
}

// instant is a lenient.Time.
type instant struct{ time.Time }

// maxPlainMillis is the end of the year 9999 in Unix ms; the fast path
// leaves anything near it to lenient, which knows the limits.
const maxPlainMillis = 253402300799999

func (t *instant) UnmarshalJSON(b []byte) error {
	if v, ok := plainDigits(b); ok && v > 0 && v <= maxPlainMillis {
		if v < 1e12 { // seconds, as lenient.Time reads them
			v *= 1000
		}
		if v <= maxPlainMillis {
			t.Time = time.UnixMilli(v).UTC()
			return nil
		}
	}
	var v lenient.Time
	err := v.UnmarshalJSON(b)
	t.Time = v.Time
	return err
}

// plainDigits reads 1 to 15 digits, bare or quoted (15 digits cannot
// overflow an int64).
func plainDigits(b []byte) (int64, bool) {
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' {
		b = b[1 : n-1]
	}
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}
