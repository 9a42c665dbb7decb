package lenient

import (
	"fmt"
	"strconv"
)

// Int64 is an int64 that a vendor may send as a JSON number or as a string.
//
// It accepts an integer (42), a number with no fractional part (42.0, 4.2e1),
// a string holding either (" 42 ", "1682943253855"), and null or "" as 0. A
// fraction, a value outside the int64 range, or anything else is an error
// that quotes the input; out-of-range errors match [strconv.ErrRange].
//
// Ids are the main use: vendors send 64-bit ids as strings because
// JavaScript's numbers lose digits above 2^53.
type Int64 int64

// UnmarshalJSON implements [encoding/json.Unmarshaler].
func (n *Int64) UnmarshalJSON(b []byte) error {
	if v, ok := plainInteger(b); ok {
		*n = Int64(v)
		return nil
	}
	k, text, err := classify(b)
	if err != nil {
		return err
	}
	switch {
	case k == kindNull, k == kindString && text == "":
		*n = 0
		return nil
	case k != kindString && k != kindNumber:
		return fmt.Errorf("lenient: cannot read %s as an integer", excerpt(b))
	}
	d, ok := parseDecimal(text)
	if !ok {
		return fmt.Errorf("lenient: cannot read %s as an integer", excerpt(b))
	}
	v, exact, ok := d.scaled(0)
	switch {
	case !ok:
		return fmt.Errorf("lenient: %s is out of range for an int64: %w", excerpt(b), strconv.ErrRange)
	case !exact:
		return fmt.Errorf("lenient: %s is not an integer", excerpt(b))
	}
	*n = Int64(v)
	return nil
}

// MarshalJSON implements [encoding/json.Marshaler]. It writes a plain JSON
// number.
func (n Int64) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, int64(n), 10), nil
}

// plainInteger reads the commonest shapes, a JSON integer of at most 15
// digits, bare or quoted (an int64 sent as a string: ids, Unix
// milliseconds), in place: the general path makes a string of it first,
// an allocation per field of every event. Anything else (a sign, spaces,
// leading zeros, a fraction) is left to it.
func plainInteger(b []byte) (int64, bool) {
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' {
		b = b[1 : n-1]
	}
	if len(b) == 0 || len(b) > 15 || b[0] == '0' && len(b) > 1 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}
