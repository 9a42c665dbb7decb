package lenient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// kind is the shape of one JSON value, as far as these types care.
type kind int8

const (
	kindNull kind = iota
	kindString
	kindNumber
	kindBool
	kindComposite // an object or an array
)

// classify reads one JSON value. It returns the unquoted text of a string,
// trimmed of surrounding whitespace, and the literal text of a number or a
// bool. encoding/json only ever passes a single valid value, but UnmarshalJSON
// is exported and may be called with anything, so the value is checked here.
func classify(b []byte) (kind, string, error) {
	if k, text, ok := plain(b); ok {
		return k, text, nil
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 0, "", fmt.Errorf("lenient: empty input is not a JSON value")
	}
	switch c := b[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, "", fmt.Errorf("lenient: invalid JSON string %s: %w", excerpt(b), err)
		}
		return kindString, strings.TrimSpace(s), nil
	case c == '-' || isDigit(c):
		if json.Valid(b) {
			return kindNumber, string(b), nil
		}
	case string(b) == "null":
		return kindNull, "", nil
	case string(b) == "true" || string(b) == "false":
		return kindBool, string(b), nil
	case (c == '{' || c == '[') && json.Valid(b):
		return kindComposite, "", nil
	}
	return 0, "", fmt.Errorf("lenient: invalid JSON value %s", excerpt(b))
}

// plain reads the two shapes nearly every vendor value has, a string with no
// escapes and a short unsigned integer, without encoding/json: decoding an
// event is mostly this, and the general path costs twice as much. Anything
// else, or anything doubtful, is left to classify's general path.
func plain(b []byte) (kind, string, bool) {
	n := len(b)
	switch {
	case n >= 2 && b[0] == '"' && b[n-1] == '"':
		inner := b[1 : n-1]
		for _, c := range inner {
			// An escape, a quote or a control character needs the full
			// JSON rules.
			if c == '\\' || c == '"' || c < 0x20 {
				return 0, "", false
			}
		}
		if !utf8.Valid(inner) {
			return 0, "", false
		}
		return kindString, string(bytes.TrimSpace(inner)), true
	case n >= 1 && n <= 15 && isDigit(b[0]) && (b[0] != '0' || n == 1):
		for _, c := range b[1:] {
			if !isDigit(c) {
				return 0, "", false
			}
		}
		return kindNumber, string(b), true
	}
	return 0, "", false
}

// maxExcerpt is how much of a bad input an error message quotes: enough to
// recognise it, not so much that one bad field floods a log line.
const maxExcerpt = 64

// excerpt quotes b for an error message, cut to maxExcerpt bytes on a rune
// boundary.
func excerpt[T ~string | ~[]byte](b T) string {
	if len(b) <= maxExcerpt {
		return strconv.Quote(string(b))
	}
	n := maxExcerpt
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return strconv.Quote(string(b[:n])) + "…"
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// decimal is a number held exactly: its value is ±digits × 10^exp. digits has
// no leading zeros, and is empty for zero.
type decimal struct {
	neg    bool
	digits string
	exp    int
}

// expLimit caps a parsed exponent. Any exponent this large already puts a
// nonzero value out of every range used here, and the cap keeps the
// arithmetic on exponents from overflowing, even where int is 32 bits.
const expLimit = 100_000_000

// parseDecimal parses a decimal number: an optional sign, digits with an
// optional fraction, and an optional exponent. It is laxer than JSON (a "+"
// sign, leading zeros, "5." and ".5" pass) because it also reads numbers that
// vendors put in strings, where JSON's grammar does not apply.
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		d.neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[start:i]
	var frac string
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		frac = s[start:i]
	}
	if intPart == "" && frac == "" {
		return decimal{}, false
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		negExp := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			negExp = s[i] == '-'
			i++
		}
		start = i
		for i < len(s) && isDigit(s[i]) {
			if exp < expLimit {
				exp = exp*10 + int(s[i]-'0')
			}
			i++
		}
		if i == start {
			return decimal{}, false
		}
		if negExp {
			exp = -exp
		}
	}
	if i != len(s) {
		return decimal{}, false
	}
	d.digits = strings.TrimLeft(intPart+frac, "0")
	d.exp = exp - len(frac)
	if d.digits == "" {
		return decimal{}, true // -0 and 0e5 are plain zero
	}
	return d, true
}

// scaled returns the integer part of d × 10^shift (truncated toward zero),
// whether that dropped nonzero digits (exact is false), and whether it fits
// in an int64 (ok is false when it does not).
func (d decimal) scaled(shift int) (v int64, exact, ok bool) {
	if d.digits == "" {
		return 0, true, true
	}
	e := d.exp + shift
	var intDigits string
	exact = true
	switch {
	case e >= 0:
		// Without leading zeros, more than 19 digits is at least 1e19,
		// beyond any int64; checking first avoids building a huge string.
		if len(d.digits)+e > 19 {
			return 0, false, false
		}
		intDigits = d.digits + strings.Repeat("0", e)
	case -e >= len(d.digits):
		return 0, false, true // a nonzero value below 1
	default:
		cut := len(d.digits) + e
		intDigits = d.digits[:cut]
		exact = strings.Trim(d.digits[cut:], "0") == ""
	}
	if len(intDigits) > 19 {
		return 0, exact, false
	}
	u, err := strconv.ParseUint(intDigits, 10, 64)
	switch {
	case err != nil:
		return 0, exact, false
	case d.neg && u == 1<<63:
		return math.MinInt64, exact, true
	case u > math.MaxInt64:
		return 0, exact, false
	case d.neg:
		return -int64(u), exact, true
	}
	return int64(u), exact, true
}
