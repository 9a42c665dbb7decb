package lenient

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ts is a shorthand for an expected UTC time.
func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err) // test data only
	}
	return t.UTC()
}

func TestInt64UnmarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    int64
		wantErr string // a substring of the error; "" means success
	}{
		{in: `0`, want: 0},
		{in: `42`, want: 42},
		{in: `-42`, want: -42},
		{in: `-0`, want: 0},
		{in: `1.0`, want: 1},
		{in: `1e3`, want: 1000},
		{in: `1E+3`, want: 1000},
		{in: `4.2e1`, want: 42},
		{in: `1500e-3`, wantErr: "not an integer"},
		{in: `15000e-4`, wantErr: "not an integer"},
		{in: `15000e-3`, want: 15},
		{in: `0e99999999999999999999`, want: 0},
		{in: `1682943253855`, want: 1682943253855},
		{in: `1682943253855.0`, want: 1682943253855},
		{in: `9007199254740993`, want: 9007199254740993}, // above 2^53: no float64 on the way
		{in: `9007199254740993.000`, want: 9007199254740993},
		{in: `9223372036854775807`, want: 9223372036854775807},
		{in: `-9223372036854775808`, want: -9223372036854775808},
		{in: `"1682943253855"`, want: 1682943253855},
		{in: `" 42 "`, want: 42},
		{in: `"\t42\n"`, want: 42},
		{in: `"+42"`, want: 42},
		{in: `"042"`, want: 42},
		{in: `"-7"`, want: -7},
		{in: `"1e3"`, want: 1000},
		{in: `""`, want: 0},
		{in: `"  "`, want: 0},
		{in: `null`, want: 0},
		{in: ` 42 `, want: 42},
		{in: `1.5`, wantErr: `"1.5" is not an integer`},
		{in: `"1.5"`, wantErr: "not an integer"},
		{in: `1e-1`, wantErr: "not an integer"},
		{in: `1e-99999999999999999999`, wantErr: "not an integer"},
		{in: `9223372036854775808`, wantErr: "out of range"},
		{in: `-9223372036854775809`, wantErr: "out of range"},
		{in: `1e19`, wantErr: "out of range"},
		{in: `1e400`, wantErr: "out of range"},
		{in: `"99999999999999999999999"`, wantErr: "out of range"},
		{in: `"abc"`, wantErr: `cannot read "\"abc\"" as an integer`},
		{in: `"42abc"`, wantErr: "cannot read"},
		{in: `"0x10"`, wantErr: "cannot read"},
		{in: `"1,5"`, wantErr: "cannot read"},
		{in: `"NaN"`, wantErr: "cannot read"},
		{in: `"Infinity"`, wantErr: "cannot read"},
		{in: `"null"`, wantErr: "cannot read"},
		{in: `"-"`, wantErr: "cannot read"},
		{in: `"1e"`, wantErr: "cannot read"},
		{in: `true`, wantErr: "cannot read"},
		{in: `{"a":1}`, wantErr: "cannot read"},
		{in: `[1]`, wantErr: "cannot read"},
		{in: ``, wantErr: "empty input"},
		{in: `+1`, wantErr: "invalid JSON value"},
		{in: `01`, wantErr: "invalid JSON value"},
		{in: `NaN`, wantErr: "invalid JSON value"},
		{in: `"abc`, wantErr: "invalid JSON string"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			n := Int64(-1) // a stale value, which null and "" must reset
			err := n.UnmarshalJSON([]byte(tt.in))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Equal(t, Int64(-1), n, "a failed decode must leave the value alone")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, Int64(tt.want), n)
		})
	}
}

func TestInt64OutOfRangeMatchesErrRange(t *testing.T) {
	t.Parallel()
	var n Int64
	err := json.Unmarshal([]byte(`"18446744073709551616"`), &n)
	require.ErrorIs(t, err, strconv.ErrRange)
}

func TestInt64MarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   Int64
		want string
	}{
		{0, `0`},
		{101, `101`},
		{-5, `-5`},
		{1682943253855, `1682943253855`},
		{9223372036854775807, `9223372036854775807`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tt.in)
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(b))
		})
	}
}

func TestStringUnmarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: `"101"`, want: "101"},
		{in: `"Иван  "`, want: "Иван"},
		{in: `"  Иван Петров\t"`, want: "Иван Петров"},
		{in: `"\u00a0101\u00a0"`, want: "101"}, // no-break spaces, as copied from a web form
		{in: `"a\"b"`, want: `a"b`},
		{in: `""`, want: ""},
		{in: `101`, want: "101"},
		{in: `-7`, want: "-7"},
		{in: `1.5`, want: "1.5"},
		{in: `1.50`, want: "1.50"},
		{in: `1e3`, want: "1e3"},
		{in: `79001234567`, want: "79001234567"},
		{in: `12345678901234567890123`, want: "12345678901234567890123"},
		{in: `true`, want: "true"},
		{in: `false`, want: "false"},
		{in: `null`, want: ""},
		{in: ` "x" `, want: "x"},
		{in: `{"a":1}`, wantErr: `cannot read "{\"a\":1}" as a string`},
		{in: `[]`, wantErr: "cannot read"},
		{in: `["101"]`, wantErr: "cannot read"},
		{in: ``, wantErr: "empty input"},
		{in: `"abc`, wantErr: "invalid JSON string"},
		{in: `"a" "b"`, wantErr: "invalid JSON string"},
		{in: `01`, wantErr: "invalid JSON value"},
		{in: `True`, wantErr: "invalid JSON value"},
		{in: `{`, wantErr: "invalid JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			s := String("stale")
			err := s.UnmarshalJSON([]byte(tt.in))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Equal(t, String("stale"), s)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, String(tt.want), s)
		})
	}
}

func TestStringMarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   String
		want string
	}{
		{"", `""`},
		{"101", `"101"`},
		{"Иван", `"Иван"`},
		{`a"b`, `"a\"b"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tt.in)
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(b))
		})
	}
}

func TestTimeUnmarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Time // zero means unset
		wantErr string
	}{
		{in: `1682943253`, want: ts("2023-05-01T12:14:13Z")},
		{in: `1682943253855`, want: ts("2023-05-01T12:14:13.855Z")},
		{in: `"1682943253855"`, want: ts("2023-05-01T12:14:13.855Z")},
		{in: `"1682943253"`, want: ts("2023-05-01T12:14:13Z")},
		{in: `" 1682943253 "`, want: ts("2023-05-01T12:14:13Z")},
		{in: `1682943253.5`, want: ts("2023-05-01T12:14:13.5Z")},
		{in: `"1682943253.855"`, want: ts("2023-05-01T12:14:13.855Z")},
		{in: `1682943253.8559`, want: ts("2023-05-01T12:14:13.855Z")}, // truncated to the millisecond
		{in: `1682943253855.9`, want: ts("2023-05-01T12:14:13.855Z")},
		{in: `1.682943253855e12`, want: ts("2023-05-01T12:14:13.855Z")},
		{in: `1682943253.0`, want: ts("2023-05-01T12:14:13Z")},
		{in: `999999999999`, wantErr: "after the year 9999"},    // seconds, so the year 33658
		{in: `253402300799`, want: ts("9999-12-31T23:59:59Z")},  // the last second, in seconds
		{in: `1000000000000`, want: ts("2001-09-09T01:46:40Z")}, // the boundary: milliseconds
		{in: `999999999`, want: ts("2001-09-09T01:46:39Z")},
		{in: `1`, want: ts("1970-01-01T00:00:01Z")},
		{in: `0.5`, want: ts("1970-01-01T00:00:00.5Z")},
		{in: `253402300799999`, want: ts("9999-12-31T23:59:59.999Z")},
		{in: `0`},
		{in: `"0"`},
		{in: `0.0`},
		{in: `-0`},
		{in: `0.0001`}, // below a millisecond after the epoch: unset
		{in: `null`},
		{in: `""`},
		{in: `"   "`},
		{in: `"2023-05-01T15:14:13+03:00"`, want: ts("2023-05-01T12:14:13Z")},
		{in: `"2023-05-01T12:14:13.855123Z"`, want: ts("2023-05-01T12:14:13.855Z")},
		{in: `"1970-01-01T00:00:00Z"`},
		{in: `-1`, wantErr: "before 1970"},
		{in: `"-1682943253"`, wantErr: "before 1970"},
		{in: `-0.5`, wantErr: "before 1970"},
		{in: `"1969-12-31T23:59:59Z"`, wantErr: "before 1970"},
		{in: `253402300800000`, wantErr: "after the year 9999"},
		{in: `1e20`, wantErr: "after the year 9999"},
		{in: `1e400`, wantErr: "after the year 9999"},
		{in: `"NaN"`, wantErr: `cannot read "\"NaN\"" as a Unix or RFC 3339 time`},
		{in: `"Infinity"`, wantErr: "cannot read"},
		{in: `"2023-05-01 12:14:13"`, wantErr: "cannot read"}, // no zone: the vendor package must supply one
		{in: `"yesterday"`, wantErr: "cannot read"},
		{in: `true`, wantErr: "cannot read"},
		{in: `{}`, wantErr: "cannot read"},
		{in: `[1682943253]`, wantErr: "cannot read"},
		{in: `NaN`, wantErr: "invalid JSON value"},
		{in: ``, wantErr: "empty input"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			stale := Time{ts("2000-01-01T00:00:00Z")}
			v := stale
			err := v.UnmarshalJSON([]byte(tt.in))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Equal(t, stale, v)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, v.Time)
			assert.Equal(t, time.UTC, v.Location())
		})
	}
}

func TestTimeMarshalJSON(t *testing.T) {
	t.Parallel()
	msk := time.FixedZone("MSK", 3*60*60)
	tests := []struct {
		name    string
		in      time.Time
		want    string
		wantErr string
	}{
		{name: "zero", in: time.Time{}, want: `null`},
		{name: "epoch", in: time.Unix(0, 0), want: `null`},
		{name: "milliseconds", in: ts("2023-05-01T12:14:13.855Z"), want: `1682943253855`},
		{name: "whole seconds", in: ts("2023-05-01T12:14:13Z"), want: `1682943253000`},
		{name: "zone is irrelevant", in: time.Date(2023, 5, 1, 15, 14, 13, 0, msk), want: `1682943253000`},
		{name: "sub-millisecond truncated", in: ts("2023-05-01T12:14:13.855999Z"), want: `1682943253855`},
		{name: "boundary", in: ts("2001-09-09T01:46:40Z"), want: `1000000000000`},
		{name: "before 2001 in seconds", in: ts("2001-09-09T01:46:39Z"), want: `999999999`},
		{name: "before 2001 with a fraction", in: ts("2001-09-09T01:46:39.5Z"), want: `999999999.5`},
		{name: "before 2001 with milliseconds", in: ts("1970-01-01T00:00:01.005Z"), want: `1.005`},
		{name: "last instant", in: ts("9999-12-31T23:59:59.999Z"), want: `253402300799999`},
		{name: "before 1970", in: ts("1969-12-31T23:59:59Z"), wantErr: "before 1970"},
		{name: "after 9999", in: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), wantErr: "after the year 9999"},
		{name: "far future", in: time.Date(300_000_000, 1, 1, 0, 0, 0, 0, time.UTC), wantErr: "after the year 9999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := Time{tt.in}.MarshalJSON()
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(b))
			require.True(t, json.Valid(b))
		})
	}
}

func TestMaxMillis(t *testing.T) {
	t.Parallel()
	assert.Equal(t, time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC).UnixMilli(), int64(maxMillis))
}

// wire is the kind of private struct a vendor package decodes into.
type wire struct {
	ID       Int64  `json:"id"`
	Ext      String `json:"ext"`
	TS       Time   `json:"ts"`
	Name     String `json:"name"`
	Answered Time   `json:"answered,omitzero"`
	Duration Int64  `json:"duration"`
}

func TestDecodeWireStruct(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want wire
	}{
		{
			name: "mixed forms",
			in:   `{"id":"1682943253855","ext":101,"ts":"1682943253","name":"Иван  ","answered":0,"duration":"37"}`,
			want: wire{
				ID:       1682943253855,
				Ext:      "101",
				TS:       Time{ts("2023-05-01T12:14:13Z")},
				Name:     "Иван",
				Duration: 37,
			},
		},
		{
			name: "the same message, typed properly",
			in:   `{"id":1682943253855,"ext":"101","ts":1682943253000,"name":"Иван","answered":1682943260500,"duration":37}`,
			want: wire{
				ID:       1682943253855,
				Ext:      "101",
				TS:       Time{ts("2023-05-01T12:14:13Z")},
				Name:     "Иван",
				Answered: Time{ts("2023-05-01T12:14:20.5Z")},
				Duration: 37,
			},
		},
		{
			name: "nulls and empty strings",
			in:   `{"id":null,"ext":null,"ts":"","name":null,"answered":null,"duration":""}`,
		},
		{
			name: "absent fields",
			in:   `{}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got wire
			require.NoError(t, json.Unmarshal([]byte(tt.in), &got))
			assert.Equal(t, tt.want, got)

			// Marshalling gives the canonical form, which reads back as the
			// same value.
			b, err := json.Marshal(got)
			require.NoError(t, err)
			var again wire
			require.NoError(t, json.Unmarshal(b, &again))
			assert.Equal(t, got, again)
		})
	}
}

func TestDecodeWireStructErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{name: "fractional id", in: `{"id":1.5}`, wantErr: `"1.5" is not an integer`},
		{name: "object as ext", in: `{"ext":{"num":101}}`, wantErr: "as a string"},
		{name: "negative time", in: `{"ts":-1}`, wantErr: "before 1970"},
		{name: "word as time", in: `{"ts":"now"}`, wantErr: `"\"now\""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got wire
			require.ErrorContains(t, json.Unmarshal([]byte(tt.in), &got), tt.wantErr)
		})
	}
}

func TestPointerFieldsStayNilOnNull(t *testing.T) {
	t.Parallel()
	// encoding/json sets a nil pointer on null without calling
	// UnmarshalJSON, so a *Time field still tells "null" from "0".
	var got struct {
		TS *Time `json:"ts"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"ts":null}`), &got))
	assert.Nil(t, got.TS)
	require.NoError(t, json.Unmarshal([]byte(`{"ts":0}`), &got))
	require.NotNil(t, got.TS)
	assert.True(t, got.TS.IsZero())
}

func TestErrorQuotesAnExcerpt(t *testing.T) {
	t.Parallel()
	long := `"` + strings.Repeat("я", 100) + `"`
	var n Int64
	err := n.UnmarshalJSON([]byte(long))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "…")
	assert.Less(t, len(err.Error()), 200, "the error must not carry the whole input")
	assert.NotContains(t, err.Error(), `\x`, "the excerpt must be cut on a rune boundary")
}

func TestExcerpt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{"", `""`},
		{"abc", `"abc"`},
		{strings.Repeat("a", 64), strconv.Quote(strings.Repeat("a", 64))},
		{strings.Repeat("a", 65), strconv.Quote(strings.Repeat("a", 64)) + "…"},
		{"a" + strings.Repeat("я", 40), strconv.Quote("a"+strings.Repeat("я", 31)) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, excerpt(tt.in))
		})
	}
}

// TestInt64PlainShapeAgreesWithTheGeneralPath: the in-place reading of a
// bare or quoted integer gives what the general path gives, and leaves
// every other shape to it.
func TestInt64PlainShapeAgreesWithTheGeneralPath(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"0", "7", "42", "999999999999999", "1000000000000000", "007", "-1", "1e3", "1.0", `"12"`, "12 ", "",
		`"0"`, `"1714550000123"`, `"007"`, `" 12"`, `"-1"`, `"1e3"`, `""`, `"`, `"12`} {
		var fast, slow Int64
		fastErr := fast.UnmarshalJSON([]byte(in))
		k, text, err := classify([]byte(in))
		_, plainOK := plainInteger([]byte(in))
		if plainOK {
			require.NoError(t, err, in)
			require.Contains(t, []kind{kindNumber, kindString}, k, in)
			d, ok := parseDecimal(text)
			require.True(t, ok, in)
			v, exact, ok := d.scaled(0)
			require.True(t, ok && exact, in)
			slow = Int64(v)
			require.NoError(t, fastErr, in)
			assert.Equal(t, slow, fast, in)
		}
	}
}

// TestTimePlainShapeAgreesWithTheGeneralPath: a time read in place, bare or
// quoted, seconds or milliseconds, is what the general path reads.
func TestTimePlainShapeAgreesWithTheGeneralPath(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"0", `"0"`, "1", "1682943253", `"1682943253"`, "999999999999", "1000000000000",
		"1682943253855", `"1682943253855"`, "253402300799999", "253402300800000", "999999999999999"} {
		var fast Time
		fastErr := fast.UnmarshalJSON([]byte(in))
		_, text, err := classify([]byte(in))
		require.NoError(t, err, in)
		d, ok := parseDecimal(text)
		require.True(t, ok, in)
		slow, slowErr := fromDecimal(d, []byte(in))
		if slowErr != nil {
			require.Error(t, fastErr, in)
			continue
		}
		require.NoError(t, fastErr, in)
		assert.True(t, slow.Equal(fast.Time), "%s: %v vs %v", in, slow, fast)
	}
}
