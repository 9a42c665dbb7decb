package newtel

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pbxkit/pbxkit/internal/lenient"
)

// FuzzWebhookDecodeMatchesEncodingJSON: lenient.Unmarshal accepts exactly
// what encoding/json accepts into every type a webhook is decoded into,
// and gives the same values.
func FuzzWebhookDecodeMatchesEncodingJSON(f *testing.F) {
	files, err := filepath.Glob("testdata/webhooks/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("no samples: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"EVENT":"inboundCallEnd","Data":{"VPBXID":"1","Time":"1758190000","duration":"95"},"data":null}`,
		`{"event":"x","data":{"allAnswer":["101",102,null," 103 "],"allAnswer":"101, 102"}}`,
		`{"data":{"fisrtAnswer":"1","firstAnswer":"2","duration":1.0,"ringduration":-1}}`,
		`{"event":"\xff","signature":"\u0000","data":{"clid":"\ud800"}}`, `["101",true,1.5]`, `" 101, 102 "`,
		`{"data":[]}`, `{"data":{}} x`, `{"ſignature":"s","data":{"tıme":1}}`, `null`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		sameDecode[webhookEnvelope](t, data)
		sameDecode[webhookData](t, data)
		sameDecode[[]lenient.String](t, data)
		sameDecode[lenient.String](t, data)
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
