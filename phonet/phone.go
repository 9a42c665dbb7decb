package phonet

import (
	"strings"

	"github.com/pbxkit/pbxkit/voip"
)

// region is the default region of numbers without a country code: Phonet
// is a Ukrainian PBX.
const region = "UA"

// phone brings a number to E.164, keeping it as sent when it cannot be read.
//
// The Ukrainian shapes Phonet sends take a fast path, because
// voip.NormalizePhone costs three times the decoding of a whole event:
// "+380XXXXXXXXX" and "380XXXXXXXXX"; "0XXXXXXXXX" with the trunk prefix;
// and the nine-digit national number ("567850550", the seed article's
// trunk). The national significant number of Ukraine is nine digits that
// never start with 0, so these are unambiguous; a test checks that they
// agree with voip.NormalizePhone.
func phone(raw string) string {
	s := strings.TrimSpace(raw)
	if s == "" {
		return ""
	}
	if nsn, ok := uaNational(s); ok {
		return "+380" + nsn
	}
	if n, err := voip.NormalizePhone(s, region); err == nil {
		return n
	}
	return s
}

// uaNational returns the nine-digit national number of the Ukrainian
// shapes the fast path takes.
func uaNational(s string) (string, bool) {
	var nsn string
	switch d := strings.TrimPrefix(s, "+"); {
	case len(d) == 12 && strings.HasPrefix(d, "380"):
		nsn = d[3:]
	case len(d) != len(s):
		return "", false // a "+" before anything but 380
	case len(d) == 10 && d[0] == '0':
		nsn = d[1:]
	case len(d) == 9:
		nsn = d
	default:
		return "", false
	}
	if !allDigits(nsn) || nsn[0] == '0' {
		return "", false
	}
	return nsn, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
