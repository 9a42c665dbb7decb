package lenient

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seeds are realistic field values from vendor payloads, plus the edge cases
// of the parsers.
var seeds = []string{
	`1682943253855`, `"1682943253855"`, `1682943253`, `"1682943253"`, `1682943253.5`,
	`"1682943253.855"`, `1.682943253855e12`, `0`, `"0"`, `null`, `""`, `" 42 "`, `101`,
	`"101"`, `"Иван  "`, `1.5`, `1e3`, `-1`, `true`, `false`, `{}`, `[]`, `"abc"`,
	`"2023-05-01T15:14:13+03:00"`, `"2023-05-01T12:14:13.855123Z"`, `9223372036854775807`,
	`9223372036854775808`, `1e400`, `1e-400`, `"NaN"`, `253402300799999`, `999999999.999`,
	`"\u00a0101"`, `"a\"b"`, `-0`, `0e99999999999999999999`,
}

// fuzzRoundTrip decodes data with u, and when that succeeds checks that the
// value marshals to valid JSON which decodes back to the same value. It also
// checks that encoding/json, given the same bytes, agrees with a direct call.
func fuzzRoundTrip[T any, P interface {
	*T
	json.Unmarshaler
	json.Marshaler
}](t *testing.T, data []byte, check func(*testing.T, T)) {
	var v T
	err := P(&v).UnmarshalJSON(data)

	if json.Valid(data) {
		var viaJSON T
		errJSON := json.Unmarshal(data, &viaJSON)
		require.Equal(t, err == nil, errJSON == nil, "direct: %v; encoding/json: %v", err, errJSON)
		if err == nil {
			require.Equal(t, v, viaJSON)
		}
	}
	if err != nil {
		require.NotEmpty(t, err.Error())
		return
	}
	check(t, v)

	b, err := P(&v).MarshalJSON()
	require.NoError(t, err, "a decoded value must marshal")
	require.True(t, json.Valid(b), "MarshalJSON wrote invalid JSON: %s", b)
	var again T
	require.NoError(t, P(&again).UnmarshalJSON(b), "MarshalJSON wrote %s", b)
	require.Equal(t, v, again, "round trip through %s", b)
}

func FuzzInt64(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRoundTrip[Int64](t, data, func(*testing.T, Int64) {})
	})
}

func FuzzString(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRoundTrip[String](t, data, func(t *testing.T, s String) {
			assert.Equal(t, strings.TrimSpace(string(s)), string(s), "surrounding whitespace must be trimmed")
		})
	})
}

func FuzzTime(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRoundTrip[Time](t, data, func(t *testing.T, v Time) {
			if v.IsZero() {
				return
			}
			assert.Equal(t, time.UTC, v.Location())
			assert.Zero(t, v.Nanosecond()%int(time.Millisecond), "precision is the millisecond")
			assert.False(t, v.Before(time.Unix(0, 0)))
			assert.LessOrEqual(t, v.Year(), 9999)
		})
	})
}
