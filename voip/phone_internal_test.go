package voip

import (
	"strings"
	"testing"
)

// FuzzInternationalMatchesParse: the fast path agrees with the library's own
// Parse on every digit string it is given.
func FuzzInternationalMatchesParse(f *testing.F) {
	for _, seed := range []string{"79121234567", "77011234567", "380501234567", "375291234567", "78005553535",
		"390612345678", "4930123456", "12025550123", "7", "70", "999999999999999", "3801", "440000000000"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, digits string) {
		if digits == "" || len(digits) > 20 || strings.Trim(digits, "0123456789") != "" {
			return
		}
		got, gotOK := international(digits)
		want, wantOK := parsePhone("+"+digits, "")
		if gotOK != wantOK || got != want {
			t.Fatalf("international(%q) = %q, %v; Parse says %q, %v", digits, got, gotOK, want, wantOK)
		}
	})
}
