package voip_test

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
)

// callSeeds are Calls on the wire: what the vendor packages produce, what a
// CRM stores, and the odd shapes.
var callSeeds = []string{
	`{"id":"d38f07d93b5947aac71194c6bebe1621","vendor":"phonet","direction":"out","client":"+380993034330","ext":"001","line":"+380442249895","started_at":"2015-06-26T11:24:33.511Z","answered_at":"2015-06-26T11:24:44.511Z","disposition":"answered","raw_status":"0","recording_url":"https://podium.betell.com.ua/rest/public/calls/d38f07d9/audio","duration":15,"talk":4}`,
	`{"id":"1","vendor":"gravitel","direction":"in","client":"+79161234567","started_at":"2017-07-07T16:14:08+03:00","duration":12.5,"talk":0,"disposition":"noanswer","raw_status":"missed","raw":{"cmd":"history","type":"in","callid":"1","status":"missed"}}`,
	`{"id":"x","vendor":"newtel","direction":"INTERNAL","started_at":"2024-02-29T23:59:59.999999999-12:00","duration":0.000000001,"talk":1e-9,"disposition":" Busy ","raw":[1, 2, {"a" : "<b>"}]}`,
	`{"id":"","vendor":"","direction":"","disposition":"","started_at":"0001-01-01T00:00:00Z","answered_at":"0001-01-01T01:00:00+01:00","duration":0,"talk":0}`,
	`{"direction":"unknown","disposition":"failed","duration":-5,"talk":-0,"raw":null}`,
	`{"duration":9223372036.854775807,"talk":9.223372036854775807e9}`,
	`{"duration":1e10}`, `{"talk":-1e300}`, `{"duration":0.3,"talk":86399.999999999}`, `{"duration":1.001,"talk":1.5e-8}`,
	`{"duration":4238375.166965421}`, `{"duration":-9223372036.854775808}`, `{"Duration":1e10,"duration":1}`,
	`{"duration":"15"}`, `{"direction":1}`, `{"direction":"sideways"}`, `{"disposition":null}`,
	`{"started_at":"2017-07-07 16:14:08"}`, `{"started_at":"9999-12-31T23:59:59-23:59"}`,
	`{"id":"\u0000\ud800","client":"\xff"}`, `{"raw":"\u2028<&>"}`, `{"Duration":3,"ID":"upper"}`,
	`{"id":"1","id":"2"}`, `{"raw":{"raw":{"raw":[[[[]]]]}}}`,
	`null`, `{}`, `[]`, `""`, `0`, `{"id":1}`, `{`, ``, "\x00", `{"duration":15}garbage`,
}

// sameCall compares two Calls as values: instants by Equal (a zero
// AnsweredAt is left out on the wire with whatever zone it had) and Raw as
// the JSON it holds.
func sameCall(t *testing.T, want, got voip.Call, msg string) {
	t.Helper()
	require.True(t, want.StartedAt.Equal(got.StartedAt), "StartedAt %v, then %v: %s", want.StartedAt, got.StartedAt, msg)
	_, wantOff := want.StartedAt.Zone()
	_, gotOff := got.StartedAt.Zone()
	require.Equal(t, wantOff, gotOff, "StartedAt's offset: %s", msg)
	require.True(t, want.AnsweredAt.Equal(got.AnsweredAt), "AnsweredAt %v, then %v: %s", want.AnsweredAt, got.AnsweredAt, msg)
	require.Equal(t, canonical(t, want.Raw), canonical(t, got.Raw), "Raw: %s", msg)
	closeDuration(t, want.Duration, got.Duration, "Duration: "+msg)
	closeDuration(t, want.Talk, got.Talk, "Talk: "+msg)
	want.StartedAt, want.AnsweredAt, want.Raw, got.Raw = got.StartedAt, got.AnsweredAt, nil, nil
	want.Duration, want.Talk = got.Duration, got.Talk
	require.Equal(t, want, got, msg)
}

// closeDuration: seconds in a float64 keep a Duration to the nanosecond up
// to 2⁵¹ ns (26 days), and to 52 bits or so beyond.
func closeDuration(t *testing.T, want, got time.Duration, msg string) {
	t.Helper()
	// In uint64, where neither the difference nor -MinInt64 overflows.
	diff, size := uint64(got)-uint64(want), uint64(want)
	if got < want {
		diff = uint64(want) - uint64(got)
	}
	if want < 0 {
		size = -size
	}
	require.LessOrEqual(t, diff, size>>50, "%v, then %v: %s", want, got, msg)
}

// exact reports a duration that seconds in a float64 keep to the
// nanosecond.
func exact(d time.Duration) bool { return d > -1<<51 && d < 1<<51 }

// wireSeconds is the duration and the talk time as the JSON numbers say.
type wireSeconds struct {
	Duration float64 `json:"duration"`
	Talk     float64 `json:"talk"`
}

// nanoseconds is x seconds rounded to the nanosecond, within Duration's
// range.
func nanoseconds(x float64) time.Duration {
	switch ns := math.Round(x * 1e9); {
	case ns >= 1<<63:
		return math.MaxInt64
	case ns < -(1 << 63):
		return math.MinInt64
	default:
		return time.Duration(ns)
	}
}

// canonical is raw as encoding/json writes it: compacted, HTML escaped.
func canonical(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	if raw == nil {
		return ""
	}
	b, err := json.Marshal(raw)
	require.NoError(t, err)
	return string(b)
}

// FuzzCallUnmarshalJSON: UnmarshalJSON agrees with encoding/json; a
// failure has a message (a syntax error for bytes that are not JSON); a
// Call that decodes marshals to valid JSON that decodes to the same Call,
// and marshals the same again.
func FuzzCallUnmarshalJSON(f *testing.F) {
	for _, s := range callSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c voip.Call
		err := c.UnmarshalJSON(b)
		var viaJSON voip.Call
		errJSON := json.Unmarshal(b, &viaJSON)
		require.Equal(t, err == nil, errJSON == nil, "direct: %v; encoding/json: %v", err, errJSON)
		if err != nil {
			require.NotEmpty(t, err.Error())
			if !json.Valid(b) {
				var syntax *json.SyntaxError
				require.ErrorAs(t, err, &syntax)
			}
			return
		}
		sameCall(t, c, viaJSON, "direct and through encoding/json")
		// The numbers on the wire, to the nanosecond, within range.
		var wire wireSeconds
		require.NoError(t, json.Unmarshal(b, &wire))
		require.Equal(t, nanoseconds(wire.Duration), c.Duration, "%v s", wire.Duration)
		require.Equal(t, nanoseconds(wire.Talk), c.Talk, "%v s", wire.Talk)

		out, err := json.Marshal(c)
		require.NoError(t, err, "a decoded Call must marshal: %+v", c)
		require.True(t, json.Valid(out), "%s", out)
		var again voip.Call
		require.NoError(t, json.Unmarshal(out, &again), "%s", out)
		sameCall(t, c, again, string(out))
		out2, err := json.Marshal(again)
		require.NoError(t, err)
		if exact(c.Duration) && exact(c.Talk) {
			require.Equal(t, string(out), string(out2), "the wire form is stable")
		}
	})
}

// checkEnum decodes b into an enum whose String words are the values from
// 0 up: a word (trimmed, in any case) or nothing decodes, and marshals back
// to a text and a JSON string that decode to the same value; anything else
// is an error naming the type, and leaves the value as it was.
func checkEnum[T ~int8, P interface {
	*T
	encoding.TextUnmarshaler
	encoding.TextMarshaler
	fmt.Stringer
}](t *testing.T, b []byte) {
	typ := reflect.TypeFor[T]().Name()
	var words []string
	for i := T(0); ; i++ {
		w := P(&i).String()
		if strings.HasPrefix(w, typ+"(") {
			break
		}
		words = append(words, w)
	}
	require.NotEmpty(t, words)

	last := T(len(words) - 1)
	v := last
	err := P(&v).UnmarshalText(b)
	s := strings.TrimSpace(string(b))
	matches := -1
	for i, w := range words {
		if strings.EqualFold(s, w) {
			matches = i
		}
	}
	if err != nil {
		require.Contains(t, err.Error(), typ)
		require.Equal(t, last, v, "a refused text changed the value")
		require.NotEmpty(t, s, "blank text is the unknown value, not an error")
		require.Equal(t, -1, matches, "%q is a word", s)
		return
	}
	switch {
	case s == "":
		require.Equal(t, T(0), v, "blank text is the unknown value")
	default:
		require.NotEqual(t, -1, matches, "%q decoded to %v but is no word", s, v)
		require.Equal(t, T(matches), v)
	}

	text, err := P(&v).MarshalText()
	require.NoError(t, err)
	require.Equal(t, P(&v).String(), string(text))
	var back T
	require.NoError(t, P(&back).UnmarshalText(text))
	require.Equal(t, v, back)

	j, err := json.Marshal(P(&v))
	require.NoError(t, err)
	back = last
	require.NoError(t, json.Unmarshal(j, P(&back)), "%s", j)
	require.Equal(t, v, back)
}

// FuzzEnumUnmarshalText runs checkEnum on Direction, Disposition and
// EventKind, and checks that a JSON string decodes like its text.
func FuzzEnumUnmarshalText(f *testing.F) {
	for _, s := range []string{"", " ", "in", "OUT", " Internal\t", "unknown", "answered", "noanswer", "NoAnswer",
		"no answer", "busy", "cancel", "failed", "start", "answer", "end", "END\n", "inbound", "1", "-1", "null",
		`"in"`, "i\x00n", "\xff", "ın", "\u212Anown", "buſy", "in\u00a0", "\u00a0in", "in in"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkEnum[voip.Direction](t, b)
		checkEnum[voip.Disposition](t, b)
		checkEnum[voip.EventKind](t, b)

		// As a JSON string, the text decodes the same, invalid UTF-8 aside.
		if !utf8.Valid(b) {
			return
		}
		j, err := json.Marshal(string(b))
		require.NoError(t, err)
		var direct, viaJSON voip.Direction
		errDirect := direct.UnmarshalText(b)
		errJSON := json.Unmarshal(j, &viaJSON)
		require.Equal(t, errDirect == nil, errJSON == nil, "direct: %v; JSON: %v", errDirect, errJSON)
		require.Equal(t, direct, viaJSON)
	})
}
