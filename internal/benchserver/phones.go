package benchserver

import (
	"fmt"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// PhoneCount is how many distinct numbers a call benchmark cycles through:
// more than a small cache of normalised numbers holds.
const PhoneCount = 1 << 14

// Phones returns n distinct numbers in the national format people type,
// "+7 916 000-00-00", so that a cache of normalised numbers cannot make the
// SDK's side free: a click-to-call rarely dials the same client twice in a
// row.
func Phones(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+7 916 %03d-%02d-%02d", i/10000%1000, i/100%100, i%100)
	}
	return out
}

// WirePhone is a hand-written client's normalisation: phonenumbers' Parse,
// IsValidNumber and Format, the calls a Go programmer writes to refuse what
// the SDK refuses and send what it sends (E.164 digits without "+").
func WirePhone(tb testing.TB, raw string) string {
	num, err := phonenumbers.Parse(raw, "RU")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		tb.Fatal(raw, err)
	}
	return phonenumbers.Format(num, phonenumbers.E164)[1:]
}
