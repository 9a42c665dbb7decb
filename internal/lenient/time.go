package lenient

import (
	"fmt"
	"strconv"
	"time"
)

// Time is a point in time that a vendor sends as a Unix timestamp or, less
// often, as an RFC 3339 string.
//
// It embeds [time.Time] rather than being a defined type over it, so that
// the wire struct's field has all of time.Time's methods (t.TS.Before,
// t.TS.IsZero, which also makes the `omitzero` tag work) and t.TS.Time is
// the plain value to copy into the voip model.
//
// It accepts:
//   - a number, or a string holding one, integer or decimal. A value below
//     1e12 is Unix seconds and may have a fraction (1682943253,
//     1682943253.5); anything larger is Unix milliseconds (1682943253855).
//     1e12 seconds would be the year 33658 and 1e12 milliseconds is
//     2001-09-09, so the two ranges cannot be confused for real call data;
//   - an RFC 3339 string ("2023-05-01T15:14:13+03:00"), as a courtesy;
//   - 0, "0", null and "" as the zero Time, which means "not set": vendors
//     send 0 for "not answered yet".
//
// A negative value, one after the year 9999, or anything else is an error
// that quotes the input. The result is always in UTC and has millisecond
// precision: finer digits are truncated, because no vendor has more and
// MarshalJSON could not write them back. An instant that falls on the Unix
// epoch reads as the zero Time, like 0 does.
type Time struct {
	time.Time
}

// maxMillis is 9999-12-31T23:59:59.999Z in Unix milliseconds, the last
// instant RFC 3339 and time.Time's own MarshalJSON can write. Anything later
// is a garbage value, not a date.
const maxMillis = 253402300799999

// secondsBelow is the boundary between Unix seconds and Unix milliseconds.
const secondsBelow = 1e12

// UnmarshalJSON implements [encoding/json.Unmarshaler].
func (t *Time) UnmarshalJSON(b []byte) error {
	if v, ok := plainInteger(b); ok {
		// Read in place, as fromDecimal would read its digits.
		ms := v
		if v < secondsBelow {
			ms = v * 1000
		}
		r, err := fromMillis(ms, b)
		if err == nil {
			*t = r
		}
		return err
	}
	k, text, err := classify(b)
	if err != nil {
		return err
	}
	switch {
	case k == kindNull, k == kindString && text == "":
		*t = Time{}
		return nil
	case k != kindString && k != kindNumber:
		return fmt.Errorf("lenient: cannot read %s as a time", excerpt(b))
	}
	if d, ok := parseDecimal(text); ok {
		v, err := fromDecimal(d, b)
		if err == nil {
			*t = v
		}
		return err
	}
	// Only a string can get here: a JSON number always parses as a decimal.
	p, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		return fmt.Errorf("lenient: cannot read %s as a Unix or RFC 3339 time", excerpt(b))
	}
	v, err := fromMillis(p.UnixMilli(), b)
	if err == nil {
		*t = v
	}
	return err
}

// fromDecimal reads a Unix timestamp in seconds or milliseconds.
func fromDecimal(d decimal, input []byte) (Time, error) {
	if d.neg && d.digits != "" {
		return Time{}, fmt.Errorf("lenient: time %s is before 1970", excerpt(input))
	}
	whole, _, ok := d.scaled(0)
	if !ok {
		return Time{}, fmt.Errorf("lenient: time %s is after the year 9999", excerpt(input))
	}
	ms := whole
	if whole < secondsBelow {
		// Below 1e12 seconds, the milliseconds fit in an int64.
		ms, _, _ = d.scaled(3)
	}
	return fromMillis(ms, input)
}

// fromMillis turns Unix milliseconds into a Time, checking the range.
func fromMillis(ms int64, input []byte) (Time, error) {
	switch {
	case ms < 0:
		return Time{}, fmt.Errorf("lenient: time %s is before 1970", excerpt(input))
	case ms > maxMillis:
		return Time{}, fmt.Errorf("lenient: time %s is after the year 9999", excerpt(input))
	case ms == 0:
		return Time{}, nil
	}
	return Time{time.UnixMilli(ms).UTC()}, nil
}

// MarshalJSON implements [encoding/json.Marshaler]. It writes null for the
// zero Time (and for the Unix epoch, which reads back as zero) and Unix
// milliseconds otherwise, truncated to the millisecond.
//
// An instant before 2001-09-09T01:46:40Z has fewer than 1e12 milliseconds,
// which UnmarshalJSON would take for seconds; it is written in seconds
// instead, with a fraction when needed (999999999.5), so that every Time
// reads back as itself. A Time before 1970 or after the year 9999 is an
// error, because UnmarshalJSON would reject what it wrote.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	// Check the range on the calendar before taking UnixMilli, which wraps
	// around for instants millions of years away.
	switch u := t.UTC(); {
	case u.Year() < 1970:
		return nil, fmt.Errorf("lenient: cannot write %s: before 1970", u.Format(time.RFC3339Nano))
	case u.Year() > 9999:
		return nil, fmt.Errorf("lenient: cannot write %s: after the year 9999", u.Format(time.RFC3339Nano))
	}
	ms := t.UnixMilli()
	switch {
	case ms == 0:
		return []byte("null"), nil
	case ms >= secondsBelow:
		return strconv.AppendInt(nil, ms, 10), nil
	}
	out := strconv.AppendInt(nil, ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		out = append(out, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
		for out[len(out)-1] == '0' {
			out = out[:len(out)-1]
		}
	}
	return out, nil
}
