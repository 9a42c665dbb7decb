package gravitel_test

import (
	"bytes"
	"io"
	"net/url"
	"testing"

	"github.com/pbxkit/pbxkit/gravitel"
)

// benchBody is the production Laravel sample of an INCOMING event, the
// longest Gravitel event seen.
const benchBody = "callid=76ce4abd-8cb0-439f-9f6d-e06d47fab309&cmd=event&crm_token=" + crmKey +
	"&diversion=74950000000&ext=701&groupRealName=%D0%9E%D1%82%D0%B4%D0%B5%D0%BB+%D0%BF%D1%80%D0%BE%D0%B4%D0%B0%D0%B6" +
	"&phone=79160000000&type=INCOMING&user=admin%40vats19910.gravitel.ru&z-flag=0"

// BenchmarkToEvent compares a form webhook turned into a voip.Event (the
// body read, the token check, typed fields, Raw JSON, phone normalisation)
// with a bare url.ParseQuery of the same body, read from the same request.
// Target: impl=sdk ≤ 1.3 × impl=baseline, ≤ 3 µs.
//
//	go test -run '^$' -bench ToEvent -count 10 -cpu 2 ./gravitel/ | tee new.txt
//	benchstat -col /impl new.txt
func BenchmarkToEvent(b *testing.B) {
	body := []byte(benchBody)
	// One request, its body rewound each time: building an *http.Request
	// is the server's cost, not the parser's.
	r := webhookRequest(body, "application/x-www-form-urlencoded")
	rd := bytes.NewReader(body)
	r.Body = io.NopCloser(rd)
	b.Run("in=webhook/impl=baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rd.Reset(body)
			raw, err := io.ReadAll(r.Body)
			if err != nil {
				b.Fatal(err)
			}
			v, err := url.ParseQuery(string(raw))
			if err != nil || v.Get("cmd") != "event" {
				b.Fatal(err)
			}
		}
	})
	b.Run("in=webhook/impl=sdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rd.Reset(body)
			w, err := gravitel.ParseWebhook(r, crmKey)
			if err != nil {
				b.Fatal(err)
			}
			if ev, ok := w.Event(); !ok || ev.Client != "+79160000000" {
				b.Fatal(ev)
			}
		}
	})
}
