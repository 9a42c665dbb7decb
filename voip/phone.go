package voip

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalidPhone is matched (through [errors.Is]) by the errors of
// [NormalizePhone]: the input is neither a phone number nor an extension.
var ErrInvalidPhone = errors.New("voip: invalid phone number")

// maxExtensionLen is the longest all-digit string taken for an internal
// number (an extension, a queue, a group) rather than a phone number. The
// shortest national numbers in RU, UA, KZ and BY are longer.
const maxExtensionLen = 6

// maxPhoneLen caps the input NormalizePhone looks at. E.164 numbers have at
// most 15 digits; 64 bytes leave room for any formatting a human uses, and
// the cap keeps a garbage field from reaching the parser at full size.
const maxPhoneLen = 64

// NormalizePhone returns raw as an E.164 number ("+79121234567"), so that the
// same client is the same string whichever vendor and format it came from.
//
// raw may carry the usual formatting: spaces, dashes, dots, slashes and
// parentheses. A number without a country code is read as a number of
// defaultRegion, a two-letter ISO 3166 code ("RU", "UA", "KZ", "BY"; case does
// not matter), with that country's trunk prefix: "8 (912) 123-45-67" in RU,
// "0501234567" in UA, "8 029 123-45-67" in BY. A number that is not valid in
// defaultRegion but is all digits is then tried with a "+" in front, because
// vendors drop the "+" ("79121234567", "380501234567"), and likewise with a
// leading "00" international prefix replaced by "+".
//
// defaultRegion may be empty or unknown; then only numbers that carry their
// country code ("+7…", "380…") can be read, and others are an error.
//
// An internal number, up to six digits ("101", "001", "5000"), is returned
// as it is, only trimmed of surrounding whitespace, with a nil error. So
// NormalizePhone can be applied to every party field of an event.
//
// Anything else is an error that matches [ErrInvalidPhone] and quotes raw:
// an empty string, "anonymous" and other words, letters (vanity numbers are
// not supported), extensions such as "доб. 101", and numbers that are too
// short, too long or not valid in their country. Callers should keep the
// raw value in that case.
//
// Results, failures included, are kept in a small bounded cache shared by
// every caller: a number seen before costs a map lookup, not the phone
// number library's validation. NormalizePhone is safe for concurrent use.
func NormalizePhone(raw, defaultRegion string) (string, error) {
	if !cacheable(raw, defaultRegion) {
		return normalizePhone(raw, defaultRegion)
	}
	if r, ok := phoneResults.get(raw, defaultRegion); ok {
		return r.e164, r.err
	}
	e164, err := normalizePhone(raw, defaultRegion)
	phoneResults.put(raw, defaultRegion, phoneResult{e164, err})
	return e164, err
}

// normalizePhone is NormalizePhone without the cache.
func normalizePhone(raw, defaultRegion string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", invalidPhone(raw, "empty")
	}
	if len(s) > maxPhoneLen {
		return "", invalidPhone(raw, "too long")
	}
	digits, plus, ok := phoneDigits(s)
	if !ok {
		return "", invalidPhone(raw, "only digits, spaces, ()-./ and a leading + are allowed")
	}
	if !plus && len(digits) == len(s) && len(s) <= maxExtensionLen {
		return s, nil
	}

	if plus {
		if e164, ok := international(digits); ok {
			return e164, nil
		}
		return "", invalidPhone(raw, "not a valid number")
	}
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))
	home := phonenumbers.GetCountryCodeForRegion(region)
	if home != 0 && strings.HasPrefix(digits, strconv.Itoa(home)) {
		// "79121234567" in RU: the region's own number with the "+"
		// dropped, the commonest form vendors send. A national number that
		// merely starts like it fails here and is read below.
		if e164, ok := international(digits); ok {
			return e164, nil
		}
	}
	if e164, ok := parsePhone(s, region); ok {
		return e164, nil
	}
	// The vendor dropped the "+" of a foreign number, or wrote the "00"
	// prefix instead.
	if e164, ok := international(digits); ok {
		return e164, nil
	}
	if rest, ok := strings.CutPrefix(digits, "00"); ok {
		if e164, ok := international(rest); ok {
			return e164, nil
		}
	}
	if home == 0 {
		return "", invalidPhone(raw, fmt.Sprintf("no country code, and the default region %q is unknown", defaultRegion))
	}
	return "", invalidPhone(raw, "not a valid number in "+region+" or with a country code")
}

// phoneDigits returns the digits of s, whether s starts with "+", and false
// if s holds anything but digits and the formatting people put in numbers.
// Letters are refused here rather than passed on: phonenumbers would read
// them as a vanity number's keypad digits, and "anonymous" is not one.
func phoneDigits(s string) (digits string, plus, ok bool) {
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case '0' <= r && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			plus = true
		case r == ' ', r == '\t', r == '\u00a0', r == '-', r == '(', r == ')', r == '.', r == '/':
		default:
			return "", false, false
		}
	}
	return b.String(), plus, true
}

// international reads digits as a country calling code and a national
// number, and returns "+digits" if that is a valid number. It skips
// phonenumbers.Parse, which spends most of its 20 µs looking for extensions
// and prefixes that phoneDigits has already ruled out: vendors send numbers
// this way far more often than any other, so this path is the one that
// counts. Calling codes are prefix-free, so the first known one is the one.
func international(digits string) (string, bool) {
	if digits == "" || digits[0] == '0' {
		return "", false // no calling code starts with 0
	}
	for n := 1; n <= 3 && n < len(digits); n++ {
		cc, err := strconv.Atoi(digits[:n])
		if err != nil || phonenumbers.GetRegionCodeForCountryCode(cc) == phonenumbers.UNKNOWN_REGION {
			continue
		}
		national := digits[n:]
		if national[0] == '0' || len(national) > 17 {
			// Leading zeros are part of the number in some countries
			// (Italy); let the library handle them.
			return parsePhone("+"+digits, "")
		}
		nn, err := strconv.ParseUint(national, 10, 64)
		if err != nil {
			return parsePhone("+"+digits, "")
		}
		cc32 := int32(cc)
		num := &phonenumbers.PhoneNumber{CountryCode: &cc32, NationalNumber: &nn}
		if p := nationalPrefix(cc32); p != nil && p.MatchString(national) {
			// Parse may strip a national prefix written after the country
			// code ("+375 8 10…" is read as "+375 10…"): its rules decide.
			return parsePhone("+"+digits, "")
		}
		if !phonenumbers.IsValidNumber(num) {
			// Parse may still save it ("+7 8 700…": a trunk prefix after the
			// country code); the slow path is for the rare odd number.
			return parsePhone("+"+digits, "")
		}
		return "+" + digits, true
	}
	return "", false
}

// nationalPrefix returns the pattern of the national prefix that
// phonenumbers.Parse tries to strip from the start of a number after the
// calling code cc ("8" for +7, "0|80?" for +375), anchored, or nil if the
// country has none. The patterns come from the library's own metadata and
// are compiled once per calling code.
func nationalPrefix(cc int32) *regexp.Regexp {
	if p, ok := prefixPatterns.Load(cc); ok {
		return p.(*regexp.Regexp)
	}
	var p *regexp.Regexp
	if src := nationalPrefixSources()[cc]; src != "" {
		p, _ = regexp.Compile("^(?:" + src + ")") // the library compiles the same text; a failure leaves the fast path
	}
	prefixPatterns.Store(cc, p)
	return p
}

// prefixPatterns caches nationalPrefix's answers: derived from the
// library's constant metadata, never configuration.
var prefixPatterns sync.Map // int32 → *regexp.Regexp

// nationalPrefixSources maps each calling code to the national prefix for
// parsing of its main region, the region Parse reads the code as.
var nationalPrefixSources = sync.OnceValue(func() map[int32]string {
	out := map[int32]string{}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return out
	}
	for _, m := range coll.GetMetadata() {
		cc := m.GetCountryCode()
		if main := phonenumbers.GetRegionCodeForCountryCode(int(cc)); m.GetId() != main {
			continue
		}
		out[cc] = m.GetNationalPrefixForParsing()
	}
	return out
})

// parsePhone parses s in region and returns its E.164 form if it is a valid
// number.
func parsePhone(s, region string) (string, bool) {
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// invalidPhone builds the error for raw, quoting at most maxPhoneLen bytes
// of it so that a garbage field does not flood a log line.
func invalidPhone(raw, reason string) error {
	q := raw
	if len(q) > maxPhoneLen {
		n := maxPhoneLen
		for n > 0 && !utf8.RuneStart(q[n]) {
			n--
		}
		q = q[:n]
	}
	quoted := strconv.Quote(q)
	if len(q) < len(raw) {
		quoted += "…"
	}
	return fmt.Errorf("%w %s: %s", ErrInvalidPhone, quoted, reason)
}
