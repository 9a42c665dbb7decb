package voip_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pbxkit/pbxkit/voip"
)

func TestParty(t *testing.T) {
	t.Parallel()
	cases := []struct{ raw, region, want string }{
		{"79161234567", "RU", "+79161234567"},
		{" +7 (916) 123-45-67 ", "RU", "+79161234567"},
		{"8 916 123 45 67", "RU", "+79161234567"},
		{"77011234567", "", "+77011234567"},
		{"380501234567", "RU", "+380501234567"},
		{"0501234567", "UA", "+380501234567"},
		{"567850550", "UA", "+380567850550"},
		{"375291234567", "", "+375291234567"},
		{"37369123456", "", "+37369123456"},
		{"101", "RU", "101"},
		{"001", "UA", "001"},
		{"anonymous", "RU", "anonymous"},
		{"sip:101@pbx", "RU", "sip:101@pbx"},
		{"  ", "RU", ""},
		{"123456789012345678", "RU", "123456789012345678"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, voip.Party(tc.raw, tc.region), "%q in %s", tc.raw, tc.region)
	}
}

// FuzzPartyAgreesWithNormalizePhone: whatever NormalizePhone reads, Party
// returns the same, fast path or not; and Party never panics.
func FuzzPartyAgreesWithNormalizePhone(f *testing.F) {
	for _, seed := range []string{"79161234567", "+77011234567", "380501234567", "0501234567", "567850550",
		"375291234567", "37369123456", "8 800 555 35 35", "101", "anonymous", "70123456789", "380012345678"} {
		f.Add(seed, "RU")
		f.Add(seed, "UA")
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		got := voip.Party(raw, region)
		if want, err := voip.NormalizePhone(raw, region); err == nil && got != want {
			t.Fatalf("Party(%q, %q) = %q; NormalizePhone says %q", raw, region, got, want)
		}
	})
}
