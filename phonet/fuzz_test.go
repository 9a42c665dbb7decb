package phonet

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/pbxkit/pbxkit/voip"
)

// maxFuzzInput caps fuzz inputs: the webhook handler caps bodies anyway.
const maxFuzzInput = 64 << 10

// addSamples seeds f with every file under testdata/dir.
func addSamples(f *testing.F, dir string, add func([]byte)) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no samples in %s: %v", dir, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

// FuzzParseEvent checks that no frame makes the decoder panic, and that
// what it accepts converts to voip without panicking either.
func FuzzParseEvent(f *testing.F) {
	addSamples(f, "events", func(b []byte) { f.Add(b) })
	for _, s := range []string{`{}`, `{"event":"call.hangup","lgDirection":64}`, `{"otherLegs":[null,{}]}`,
		`{"dialAt":"1e30"}`, `{"uuid":"47A96889-3984-475B-8C20-E29DEC144CE3"}`, `{"leg":null,"leg2":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		ev, err := ParseEvent(data)
		if err != nil {
			return
		}
		if v, ok := ev.Voip(); ok && v.Kind == voip.EventUnknown {
			t.Fatalf("a call event with no kind: %s", data)
		}
		ev.Presence()
	})
}

// FuzzParseWebhook does the same for webhook bodies, JSON and form.
func FuzzParseWebhook(f *testing.F) {
	addSamples(f, "events", func(b []byte) { f.Add("application/json", b) })
	addSamples(f, "records", func(b []byte) { f.Add("application/json", b) })
	for _, s := range []string{
		"event=call.dial&leg[id]=36&leg[ext]=001&otherLegs[0][num]=%2B380500000001&otherLegs[1][id]=7",
		"otherLegNum=380671234567&trunkNum=", "otherLegNum=", "a[b][c][d][e]=1", "otherLegs[100][num]=1", "x[=1", "leg=1&leg[id]=2",
		"endAt=1435317888511&duration=15&billSecs=4&disposition=0&uuid=d38f07d9-3b59-47aa-c711-94c6bebe1621",
		"foo=1", "event=&trunkNum=1",
	} {
		f.Add("application/x-www-form-urlencoded", []byte(s))
	}
	// Bodies that are no delivery at all: they must be refused.
	f.Add("text/plain", []byte("hello"))
	f.Add("application/json", []byte(`{"foo":1}`))
	f.Add("application/json", []byte(`{"otherLegNum":null}`))
	f.Add("application/json", []byte(`{"event":null,"endAt":null}`))
	f.Add("", []byte(""))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		w, err := ParseWebhook(r)
		if err != nil {
			if !errors.Is(err, voip.ErrMalformed) {
				t.Fatalf("an error that is not ErrMalformed: %v", err)
			}
			return
		}
		kinds := 0
		var raw json.RawMessage
		if w.Event != nil {
			kinds++
			w.Event.Voip()
			if w.Event.Type == "" {
				t.Fatalf("an event without type: %q", body)
			}
			raw = w.Event.Raw
		}
		if w.Lookup != nil {
			kinds++
			raw = w.Lookup.Raw
		}
		if w.Record != nil {
			kinds++
			w.Record.Call()
			raw = w.Record.Raw
		}
		if kinds != 1 {
			t.Fatalf("%d kinds of delivery in %q", kinds, body)
		}
		if !json.Valid(raw) {
			t.Fatalf("Raw is not JSON: %q", raw)
		}
	})
}

// FuzzParseRecord checks history records.
func FuzzParseRecord(f *testing.F) {
	addSamples(f, "records", func(b []byte) { f.Add(b) })
	f.Add([]byte(`{"endAt":1,"duration":604800,"billSecs":0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		r, err := ParseRecord(data)
		if err != nil {
			return
		}
		c := r.Call()
		if !c.StartedAt.IsZero() && c.StartedAt.After(r.EndAt) {
			t.Fatalf("starts after its end: %s", data)
		}
		_ = r.Line()
	})
}
