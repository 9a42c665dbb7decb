package phonet

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/lenient"
)

// decodeSeeds are the shapes where two JSON decoders are most likely to
// part: names in another case or with escapes, duplicates, nulls, invalid
// UTF-8, deep nesting, trailing bytes.
var decodeSeeds = []string{
	`{"EVENT":"call.dial","Uuid":"a","uuid":"b","leg":{"id":1},"leg":{"ext":"2"}}`,
	`{"\u0065vent":"call.dial","otherLegs":[{"num":"1"},{"num":"2"}],"otherLegs":[{"name":"x"}]}`,
	`{"leg":null,"leg2":{},"otherLegs":null,"otherLegs":[],"dialAt":null}`,
	`{"event":"\xff\xfe","uuid":"a\u0000b","trunkName":"\ud800"}`,
	`{"lgDirection":"4","disposition":null,"billSecs":"15","duration":1.5e1}`,
	`{"ſvent":"call.dial","K":1,"leg":{"ıd":5}}`, `{"leg":"x"}`, `{"otherLegs":[1]}`, `{"otherLegs":{}}`,
	`{"unknown":[[[[[[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]]]]]]}`, `{"event":"x"} `, `{"event":"x"}x`, `{"event":"x",}`,
	`{"otherLegNum":null,"endAt":1,"disposition":"0"}`, `{"otherLegNum": "38067" , "trunkNum":""}`,
	`{"id":"7","displayName":" Иван ","ext":"001","email":"a@b"}`, `{"uuid":"x","id":9007199254740993}`,
	`{"a":1e999}`, `{"a":-}`, `{"a":01}`, `{"a":"\q"}`, `{"a"}`, `[]`, `null`, ``,
}

// FuzzWireDecodeMatchesEncodingJSON: lenient.Unmarshal accepts exactly what
// encoding/json accepts into every wire type of the package, and gives the
// same values.
func FuzzWireDecodeMatchesEncodingJSON(f *testing.F) {
	for _, dir := range []string{"events", "records", "vendor"} {
		addSamples(f, dir, func(b []byte) { f.Add(b) })
	}
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		sameDecode[wireEvent](t, data)
		sameEventDecode(t, data)
		sameDecode[wireRecord](t, data)
		sameDecode[wireUser](t, data)
		sameDecode[kindFields](t, data)
		sameDecode[makeCallResponse](t, data)
		sameDecode[[]wireRecord](t, data)
	})
}

// sameDecode decodes data into a T with encoding/json and with
// lenient.Unmarshal, and fails unless both refuse it or both give the same
// value.
func sameDecode[T any](t *testing.T, data []byte) {
	t.Helper()
	var old, fast T
	errOld := json.Unmarshal(data, &old)
	errFast := lenient.Unmarshal(data, &fast)
	if (errOld == nil) != (errFast == nil) {
		t.Fatalf("%T: encoding/json says %v; lenient.Unmarshal says %v; input %q", old, errOld, errFast, data)
	}
	if errOld == nil && !reflect.DeepEqual(old, fast) {
		t.Fatalf("%T: encoding/json gives %#v; lenient.Unmarshal %#v; input %q", old, old, fast, data)
	}
}

// sameEventDecode holds decodeEvent, fast path included, to encoding/json's
// answer for an event message (unmarshalObject's rule: a JSON object,
// surrounding whitespace trimmed).
func sameEventDecode(t *testing.T, data []byte) {
	t.Helper()
	var old, fast wireEvent
	errOld := objectWithEncodingJSON(data, &old)
	errFast := decodeEvent(data, &fast)
	if (errOld == nil) != (errFast == nil) {
		t.Fatalf("encoding/json says %v; decodeEvent says %v; input %q", errOld, errFast, data)
	}
	if errOld == nil && !reflect.DeepEqual(old, fast) {
		t.Fatalf("encoding/json gives %#v; decodeEvent %#v; input %q", old, fast, data)
	}
}

// TestDecodeEventFastTakesThePlainSamples: the socket and webhook samples
// have the plain shape, so the fast path is the one they take; a duplicate
// name or one in another case is left to the general decoder.
func TestDecodeEventFastTakesThePlainSamples(t *testing.T) {
	for _, name := range []string{"ws_seed_dial", "webhook_bridge", "webhook_empty_trunks", "active_call", "ws_pause", "ws_error"} {
		data, err := os.ReadFile(filepath.Join("testdata", "events", name+".json"))
		require.NoError(t, err)
		var w wireEvent
		require.True(t, decodeEventFast(bytes.TrimSpace(data), &w), name)
	}
	for _, s := range []string{`{"event":"a","event":"b"}`, `{"Event":"a"}`, `{"\u0065vent":"a"}`, `{"event":"a"} x`, `{"unknown":1}`} {
		var w wireEvent
		require.False(t, decodeEventFast([]byte(s), &w), s)
	}
}
