package voip

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// phoneTests is shared by the table test and the fuzz seeds.
var phoneTests = []struct {
	name    string
	raw     string
	region  string
	want    string
	wantErr string // a substring of the error; "" means success
}{
	// Russia: the 8 trunk prefix, a dropped +, 8-800 numbers.
	{name: "RU trunk prefix", raw: "8 (912) 123-45-67", region: "RU", want: "+79121234567"},
	{name: "RU dropped plus", raw: "79121234567", region: "RU", want: "+79121234567"},
	{name: "RU E.164", raw: "+79121234567", region: "RU", want: "+79121234567"},
	{name: "RU ten digits", raw: "9121234567", region: "RU", want: "+79121234567"},
	{name: "RU formatted with plus", raw: "+7 (912) 123-45-67", region: "", want: "+79121234567"},
	{name: "RU toll-free", raw: "8 800 555-35-35", region: "RU", want: "+78005553535"},
	{name: "RU toll-free E.164", raw: "+78005553535", region: "UA", want: "+78005553535"},
	{name: "RU Moscow landline", raw: "8 (495) 123-45-67", region: "RU", want: "+74951234567"},
	{name: "RU dotted", raw: "8.912.123.45.67", region: "RU", want: "+79121234567"},
	{name: "RU padded", raw: "\t 8 912 123 45 67 \n", region: "RU", want: "+79121234567"},
	{name: "RU no-break spaces", raw: "8\u00a0912\u00a0123-45-67", region: "RU", want: "+79121234567"},
	{name: "RU lower-case region", raw: "89121234567", region: "ru", want: "+79121234567"},
	{name: "RU dropped plus, UA region", raw: "79121234567", region: "UA", want: "+79121234567"},
	{name: "RU dropped plus, no region", raw: "79121234567", region: "", want: "+79121234567"},
	{name: "RU old international prefix", raw: "8 10 380 50 123 45 67", region: "RU", want: "+380501234567"},

	// Ukraine: the 0 trunk prefix, +380.
	{name: "UA trunk prefix", raw: "0501234567", region: "UA", want: "+380501234567"},
	{name: "UA formatted", raw: "050 123-45-67", region: "UA", want: "+380501234567"},
	{name: "UA dropped plus, RU region", raw: "380501234567", region: "RU", want: "+380501234567"},
	{name: "UA dropped plus, UA region", raw: "380501234567", region: "UA", want: "+380501234567"},
	{name: "UA dropped plus, no region", raw: "380501234567", region: "", want: "+380501234567"},
	{name: "UA dropped plus, unknown region", raw: "380501234567", region: "XX", want: "+380501234567"},
	{name: "UA E.164", raw: "+380 (50) 123-45-67", region: "RU", want: "+380501234567"},
	{name: "UA 00 prefix", raw: "00380501234567", region: "UA", want: "+380501234567"},
	{name: "UA 00 prefix, RU region", raw: "00380501234567", region: "RU", want: "+380501234567"},
	{name: "UA Kyiv landline", raw: "044 123 45 67", region: "UA", want: "+380441234567"},

	// Kazakhstan shares +7 with Russia.
	{name: "KZ E.164", raw: "+7 (701) 123-45-67", region: "RU", want: "+77011234567"},
	{name: "KZ trunk prefix", raw: "8 701 123 45 67", region: "KZ", want: "+77011234567"},
	{name: "KZ dropped plus", raw: "77011234567", region: "", want: "+77011234567"},

	// Belarus: +375 and the "8 0" trunk prefix.
	{name: "BY E.164", raw: "+375 29 123-45-67", region: "RU", want: "+375291234567"},
	{name: "BY trunk prefix", raw: "8 029 123-45-67", region: "BY", want: "+375291234567"},
	{name: "BY dropped plus", raw: "375291234567", region: "RU", want: "+375291234567"},

	// Internal numbers pass through, trimmed.
	{name: "extension", raw: "101", region: "RU", want: "101"},
	{name: "extension with leading zeros", raw: "001", region: "RU", want: "001"},
	{name: "four-digit group", raw: "5000", region: "UA", want: "5000"},
	{name: "one digit", raw: "0", region: "RU", want: "0"},
	{name: "six digits", raw: "123456", region: "RU", want: "123456"},
	{name: "padded extension", raw: " 101 ", region: "", want: "101"},
	{name: "extension without region", raw: "101", region: "", want: "101"},

	// Everything else is an error.
	{name: "empty", raw: "", region: "RU", wantErr: `"": empty`},
	{name: "blank", raw: "   ", region: "RU", wantErr: "empty"},
	{name: "anonymous", raw: "anonymous", region: "RU", wantErr: `"anonymous": only digits`},
	{name: "Anonymous", raw: "Anonymous", region: "RU", wantErr: "only digits"},
	{name: "unknown", raw: "unknown", region: "UA", wantErr: "only digits"},
	{name: "vanity", raw: "8-800-FLOWERS", region: "RU", wantErr: "only digits"},
	{name: "extension suffix", raw: "+7 912 123-45-67 доб. 101", region: "RU", wantErr: "only digits"},
	{name: "star code", raw: "*101", region: "RU", wantErr: "only digits"},
	{name: "sip uri", raw: "sip:101@pbx.example", region: "RU", wantErr: "only digits"},
	{name: "plus in the middle", raw: "7+9121234567", region: "RU", wantErr: "only digits"},
	{name: "two pluses", raw: "++79121234567", region: "RU", wantErr: "only digits"},
	{name: "plus extension", raw: "+101", region: "RU", wantErr: "not a valid number"},
	{name: "seven digits", raw: "1234567", region: "RU", wantErr: "not a valid number in RU"},
	{name: "too short national", raw: "8912123456", region: "RU", wantErr: "not a valid number"},
	{name: "too long national", raw: "8912123456789", region: "RU", wantErr: "not a valid number"},
	{name: "twenty digits", raw: "12345678901234567890", region: "RU", wantErr: "not a valid number"},
	{name: "too long input", raw: strings.Repeat("1", 65), region: "RU", wantErr: "too long"},
	{name: "trunk prefix without region", raw: "89121234567", region: "", wantErr: `default region "" is unknown`},
	{name: "trunk prefix, unknown region", raw: "0501234567", region: "XX", wantErr: `default region "XX" is unknown`},
	{name: "invalid E.164", raw: "+7 000 000-00-00", region: "RU", wantErr: "not a valid number"},
	{name: "unassigned country code", raw: "+999 123 456 789", region: "RU", wantErr: "not a valid number"},
	{name: "only formatting", raw: "()--", region: "RU", wantErr: "not a valid number"},
	{name: "only plus", raw: "+", region: "RU", wantErr: "not a valid number"},
}

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	for _, tt := range phoneTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizePhone(tt.raw, tt.region)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrInvalidPhone)
				assert.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)

			// Normalising is idempotent: the output reads as itself.
			again, err := NormalizePhone(got, tt.region)
			require.NoError(t, err)
			assert.Equal(t, got, again)
		})
	}
}

func TestNormalizePhoneErrorQuotesAnExcerpt(t *testing.T) {
	t.Parallel()
	raw := strings.Repeat("я", 100)
	_, err := NormalizePhone(raw, "RU")
	require.ErrorIs(t, err, ErrInvalidPhone)
	assert.Contains(t, err.Error(), "…")
	assert.Less(t, len(err.Error()), 150)
	assert.NotContains(t, err.Error(), `\x`, "the excerpt must be cut on a rune boundary")
}

func FuzzNormalizePhone(f *testing.F) {
	for _, tt := range phoneTests {
		f.Add(tt.raw, tt.region)
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		got, err := NormalizePhone(raw, region)
		// The cache answers as the uncached path does, the first time and
		// the next.
		want, wantErr := normalizePhone(raw, region)
		require.Equal(t, want, got)
		require.Equal(t, fmt.Sprint(wantErr), fmt.Sprint(err))
		cached, cachedErr := NormalizePhone(raw, region)
		require.Equal(t, got, cached)
		require.Equal(t, fmt.Sprint(err), fmt.Sprint(cachedErr))
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidPhone)
			require.Empty(t, got)
			return
		}
		trimmed := strings.TrimSpace(raw)
		if strings.HasPrefix(got, "+") {
			require.LessOrEqual(t, len(got), 16, "E.164 has at most 15 digits")
			require.Equal(t, strings.Trim(got[1:], "0123456789"), "", "E.164 is digits only")
		} else {
			require.Equal(t, trimmed, got, "an internal number comes back as it was")
			require.LessOrEqual(t, len(got), maxExtensionLen)
		}
		// The output is a fixed point, whatever the region.
		again, err := NormalizePhone(got, "")
		require.NoError(t, err)
		require.Equal(t, got, again)
	})
}

// TestNormalizePhoneAgreesWithTheLibraryOnANationalPrefixAfterTheCode: a
// number that writes its country's trunk prefix after the calling code
// ("+375 8 10…") is what phonenumbers.Parse says it is, on every path.
func TestNormalizePhoneAgreesWithTheLibraryOnANationalPrefixAfterTheCode(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"3758100000000", "+3758100000000", "+375 810 000 0000"} {
		for _, region := range []string{"", "RU", "BY", "UA"} {
			got, err := NormalizePhone(raw, region)
			num, perr := phonenumbers.Parse("+"+strings.TrimLeft(raw, "+"), "")
			if perr == nil && phonenumbers.IsValidNumber(num) {
				require.NoError(t, err, raw)
				assert.Equal(t, phonenumbers.Format(num, phonenumbers.E164), got)
				continue
			}
			assert.ErrorIs(t, err, ErrInvalidPhone, "%q in %q gave %q", raw, region, got)
		}
	}
	// A Russian toll-free number starts with 8 after the code, and is valid.
	got, err := NormalizePhone("78005553535", "RU")
	require.NoError(t, err)
	assert.Equal(t, "+78005553535", got)
}
