package gravitel_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/internal/benchserver"
	"github.com/pbxkit/pbxkit/internal/rest"
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

// makeCallAnswer is Gravitel's answer to makeCall.
const makeCallAnswer = `{"uuid":"76ce4abd-8cb0-439f-9f6d-e06d47fab309"}`

// BenchmarkMakeCall compares MakeCall (impl=sdk: argument checks, phone
// normalisation, the form body, the pipeline, the error check and the id)
// with the same call written by hand on net/http (impl=baseline): the
// number normalised with phonenumbers, the same form body and headers, the
// same client and server, and the answer decoded into a struct with its
// id and error member. The number differs on every call.
// impl=baseline-prenormalised is the hand-written call with the number
// already in the form sent, a map lookup: against it the SDK's ratio
// includes its phone normalisation. The server runs in this process
// (server=inproc) or in a child process (server=process), where
// cpu-ns/op is the client's CPU alone. Target: sdk ≤ 1.10 × baseline,
// allocs ≤ baseline + 8.
//
//	go test -run '^$' -bench MakeCall -count 10 -cpu 2 ./gravitel/ | benchstat -col /impl -
func BenchmarkMakeCall(b *testing.B) {
	routes := []benchserver.Route{{Header: map[string]string{"Content-Type": "application/json"}, Body: makeCallAnswer}}
	phones := benchserver.Phones(benchserver.PhoneCount)
	digits := make(map[string]string, len(phones))
	for _, p := range phones {
		digits[p] = benchserver.WirePhone(b, p)
	}
	const user = "admin"
	for _, mode := range benchserver.Modes {
		b.Run("server="+string(mode), func(b *testing.B) {
			base := benchserver.Start(b, mode, routes)
			endpoint := base + "/sys/crm_api.wcgp"
			hc := benchserver.Client(b)
			// The hand-written call; normalise turns the number as the
			// user typed it into the digits sent.
			baseline := func(b *testing.B, normalise func(testing.TB, string) string) {
				b.ReportAllocs()
				defer benchserver.CPU(b)()
				i := 0
				for b.Loop() {
					i++
					form := url.Values{"cmd": {"makeCall"}, "phone": {normalise(b, phones[i%len(phones)])}, "user": {user}, "token": {pbxKey}}
					req, err := http.NewRequestWithContext(b.Context(), http.MethodPost, endpoint, strings.NewReader(form.Encode()))
					if err != nil {
						b.Fatal(err)
					}
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("User-Agent", rest.UserAgent)
					resp, err := hc.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					raw, err := io.ReadAll(resp.Body)
					_ = resp.Body.Close()
					if err != nil || resp.StatusCode != http.StatusOK {
						b.Fatal(err, resp.StatusCode)
					}
					var out struct {
						UUID  string `json:"uuid"`
						Error string `json:"error"`
					}
					if err := json.Unmarshal(raw, &out); err != nil || out.Error != "" || out.UUID == "" {
						b.Fatal(err, out)
					}
				}
			}
			b.Run("impl=baseline", func(b *testing.B) { baseline(b, benchserver.WirePhone) })
			b.Run("impl=baseline-prenormalised", func(b *testing.B) {
				baseline(b, func(_ testing.TB, p string) string { return digits[p] })
			})
			b.Run("impl=sdk", func(b *testing.B) {
				c, err := gravitel.New(endpoint, pbxKey, gravitel.WithHTTPClient(hc))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				defer benchserver.CPU(b)()
				i := 0
				for b.Loop() {
					i++
					id, err := c.MakeCall(b.Context(), gravitel.MakeCallRequest{Phone: phones[i%len(phones)], User: user})
					if err != nil || id == "" {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
