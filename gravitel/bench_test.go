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

// BenchmarkWebhookEvent compares a form webhook body turned into a
// voip.Event (token check, typed fields, Raw JSON, phone normalisation) with
// a bare url.ParseQuery of the same body. Target: event ≤ 1.5 × baseline.
func BenchmarkWebhookEvent(b *testing.B) {
	body := []byte(benchBody)
	b.Run("baseline_ParseQuery", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v, err := url.ParseQuery(string(body))
			if err != nil || v.Get("cmd") != "event" {
				b.Fatal(err)
			}
		}
	})
	b.Run("event", func(b *testing.B) {
		// One request, its body rewound each time: building an
		// *http.Request is the server's cost, not the parser's.
		r := webhookRequest(body, "application/x-www-form-urlencoded")
		rd := bytes.NewReader(body)
		r.Body = io.NopCloser(rd)
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
