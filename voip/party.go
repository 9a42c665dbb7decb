package voip

import "strings"

// Party brings one party field of a vendor's message (a caller, a callee, a
// trunk) to E.164 when it is a phone number, and otherwise returns it as
// sent, trimmed: an extension, "anonymous", a SIP URI or a number that does
// not read stays what the vendor said. It never fails, which is what a
// parser of network input wants; use [NormalizePhone] where a bad number
// must be an error.
//
// Whatever NormalizePhone reads, Party returns the same. Digit strings of
// the shapes the CIS PBXs send take a fast path that checks their shape but
// not their number range, because parsing with full validation costs more
// than decoding the whole event around them: 7 + 10 digits (Russia,
// Kazakhstan; not 70…), 380 + 9 (Ukraine), 375 + 9 (Belarus), 373 + 8
// (Moldova), with or without "+"; and in defaultRegion "UA", a national
// number of nine digits with or without the trunk 0.
func Party(raw, defaultRegion string) string {
	s := strings.TrimSpace(raw)
	if s == "" {
		return ""
	}
	if e164, ok := cisShape(s, defaultRegion); ok {
		return e164
	}
	if e164, err := NormalizePhone(s, defaultRegion); err == nil {
		return e164
	}
	return s
}

// cisShape is Party's fast path: it returns "+" and the international
// digits of s when s has one of the shapes Party's doc lists.
func cisShape(s, region string) (string, bool) {
	d, plus := strings.CutPrefix(s, "+")
	if !allDigits(d) {
		return "", false
	}
	switch {
	case len(d) == 11 && d[0] == '7' && d[1] != '0',
		len(d) == 12 && (strings.HasPrefix(d, "380") || strings.HasPrefix(d, "375")) && d[3] != '0',
		len(d) == 11 && strings.HasPrefix(d, "373") && d[3] != '0':
		return "+" + d, true
	case plus || !strings.EqualFold(region, "UA"):
		return "", false
	case len(d) == 10 && d[0] == '0' && d[1] != '0':
		return "+380" + d[1:], true
	case len(d) == 9 && d[0] != '0':
		return "+380" + d, true
	}
	return "", false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
