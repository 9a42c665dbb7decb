package newtel_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/pbxkit/pbxkit/internal/benchserver"
	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/newtel"
)

// BenchmarkSign signs the seed article's request. Target: ≤ 3 allocations.
func BenchmarkSign(b *testing.B) {
	body := []byte(seedBody)
	at := time.Unix(1700000000, 0)
	b.ReportAllocs()
	for b.Loop() {
		if len(newtel.Sign(newtel.MethodStartSimpleCall, body, at, seedAccessKey, seedSignKey)) != 122 {
			b.Fatal("bad token")
		}
	}
}

// stateBody is a company/get-state answer.
const stateBody = `{"status":"success","data":{"result":"success","state":{"balance":1523.40,"credit":0,"currency":"RUB"}}}`

// BenchmarkSignedRequest compares CompanyState through the client (pipeline,
// signing, envelope, typed decode) with a hand-written signed POST of the
// same request to the same loopback server. Target: client ≤ 1.10 × baseline.
func BenchmarkSignedRequest(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, stateBody)
	}))
	defer srv.Close()
	hc := srv.Client()

	b.Run("baseline_handwritten", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			body := []byte("{}")
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			sum := sha256.Sum256([]byte(newtel.MethodCompanyState + "\n" + ts + "\n" + accessKey + "\n" + string(body) + "\n" + signKey))
			req, err := http.NewRequestWithContext(b.Context(), http.MethodPost, srv.URL+"/"+newtel.MethodCompanyState, bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+accessKey+ts+hex.EncodeToString(sum[:]))
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			raw, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatal(err, resp.StatusCode)
			}
			var env struct {
				Status string `json:"status"`
				Data   struct {
					Result string `json:"result"`
					State  struct {
						Balance  json.Number `json:"balance"`
						Currency string      `json:"currency"`
					} `json:"state"`
				} `json:"data"`
			}
			if err := json.Unmarshal(raw, &env); err != nil || env.Status != "success" || env.Data.Result != "success" || env.Data.State.Currency != "RUB" {
				b.Fatal(err, env)
			}
		}
	})
	b.Run("client", func(b *testing.B) {
		c, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(srv.URL+"/"), newtel.WithHTTPClient(hc))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			st, err := c.CompanyState(b.Context())
			if err != nil || st.Currency != "RUB" {
				b.Fatal(err)
			}
		}
	})
}

// plainWebhook is the baseline's type for the webhook sample: its fields
// in plain Go types, as a program that trusts the wire would declare them.
type plainWebhook struct {
	Event     string `json:"event"`
	Signature string `json:"signature"`
	Data      struct {
		VpbxID       string `json:"vpbxId"`
		Time         int64  `json:"time"`
		DNID         string `json:"dnid"`
		CLID         string `json:"clid"`
		ActiveNumber string `json:"activeNumber"`
	} `json:"data"`
}

// BenchmarkToEvent compares a PBX webhook turned into a voip.Event (the
// body read, the envelope and the lenient data decoded, both numbers
// normalised) with a plain json.Unmarshal of the same body, read from the
// same request, into plainWebhook. Target: impl=sdk ≤ 1.3 × impl=baseline,
// ≤ 3 µs.
//
//	go test -run '^$' -bench ToEvent -count 10 -cpu 2 ./newtel/ | tee new.txt
//	benchstat -col /impl new.txt
func BenchmarkToEvent(b *testing.B) {
	body, err := os.ReadFile("testdata/webhooks/inbound_call_answer.json")
	if err != nil {
		b.Fatal(err)
	}
	// One request, its body rewound each time: building an *http.Request
	// is the server's cost, not the parser's.
	r := httptest.NewRequest(http.MethodPost, "/newtel", nil)
	r.Header.Set("Content-Type", "application/json")
	rd := bytes.NewReader(body)
	r.Body = io.NopCloser(rd)
	verify := newtel.SkipWebhookVerification()
	b.Run("in=webhook/impl=sdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rd.Reset(body)
			w, err := newtel.ParseWebhook(r, verify)
			if err != nil {
				b.Fatal(err)
			}
			if ev, ok := w.Event(); !ok || ev.Client != "+79161234567" {
				b.Fatal(ev)
			}
		}
	})
	b.Run("in=webhook/impl=baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rd.Reset(body)
			raw, err := io.ReadAll(r.Body)
			if err != nil {
				b.Fatal(err)
			}
			var w plainWebhook
			if err := json.Unmarshal(raw, &w); err != nil || w.Data.CLID != "79161234567" {
				b.Fatal(err)
			}
		}
	})
}

// simpleCallAnswer is New-Tel's answer to a placed call.
const simpleCallAnswer = `{"status":"success","data":{"result":"success","callDetails":{"callId":"5123456789012345678","status":"null"}}}`

// BenchmarkStartSimpleCall compares StartSimpleCall (impl=sdk: argument
// checks, phone normalisation, JSON body, signing, the pipeline, the
// envelope and typed decode) with the same call written by hand on
// net/http (impl=baseline): the same numbers normalised with phonenumbers,
// the same JSON body, token and headers, the same client and server, and
// the answer decoded into a struct with the same fields. The source is an
// extension, sent as is by both; the client's number differs on every
// call. impl=baseline-prenormalised is the hand-written call with the
// numbers already in the form sent, a map lookup: against it the SDK's
// ratio includes its phone normalisation. The server runs in this process (server=inproc) or in a child
// process (server=process), where cpu-ns/op is the client's CPU alone.
// Target: sdk ≤ 1.10 × baseline, allocs ≤ baseline + 8.
//
//	go test -run '^$' -bench StartSimpleCall -count 10 -cpu 2 ./newtel/ | benchstat -col /impl -
func BenchmarkStartSimpleCall(b *testing.B) {
	routes := []benchserver.Route{{Header: map[string]string{"Content-Type": "application/json"}, Body: simpleCallAnswer}}
	phones := benchserver.Phones(benchserver.PhoneCount)
	const src, callerID = "101", "+7 495 111-22-33"
	// The SDK's whole cost, its phone normalisation included: numbers
	// already held as the digits sent.
	digits := make(map[string]string, len(phones)+1)
	for _, p := range append([]string{callerID}, phones...) {
		digits[p] = benchserver.WirePhone(b, p)
	}
	for _, mode := range benchserver.Modes {
		b.Run("server="+string(mode), func(b *testing.B) {
			base := benchserver.Start(b, mode, routes)
			hc := benchserver.Client(b)
			// The hand-written call; normalise turns a number as the
			// user typed it into the digits sent.
			baseline := func(b *testing.B, normalise func(testing.TB, string) string) {
				type wire struct {
					CallerID  string `json:"callerId,omitempty"`
					DstNumber string `json:"dstNumber"`
					SrcNumber string `json:"srcNumber"`
					Timeout   int    `json:"timeout,omitempty"`
				}
				b.ReportAllocs()
				defer benchserver.CPU(b)()
				i := 0
				for b.Loop() {
					i++
					body, err := json.Marshal(wire{CallerID: normalise(b, callerID), DstNumber: normalise(b, phones[i%len(phones)]), SrcNumber: src, Timeout: 30})
					if err != nil {
						b.Fatal(err)
					}
					ts := strconv.FormatInt(time.Now().Unix(), 10)
					sum := sha256.Sum256([]byte(newtel.MethodStartSimpleCall + "\n" + ts + "\n" + accessKey + "\n" + string(body) + "\n" + signKey))
					req, err := http.NewRequestWithContext(b.Context(), http.MethodPost, base+"/"+newtel.MethodStartSimpleCall, bytes.NewReader(body))
					if err != nil {
						b.Fatal(err)
					}
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Accept", "application/json")
					req.Header.Set("User-Agent", rest.UserAgent)
					req.Header.Set("Authorization", "Bearer "+accessKey+ts+hex.EncodeToString(sum[:]))
					resp, err := hc.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					raw, err := io.ReadAll(resp.Body)
					_ = resp.Body.Close()
					if err != nil || resp.StatusCode != http.StatusOK {
						b.Fatal(err, resp.StatusCode)
					}
					var env struct {
						Status string `json:"status"`
						Data   struct {
							Result      string `json:"result"`
							CallDetails struct {
								CallID string `json:"callId"`
								Status string `json:"status"`
							} `json:"callDetails"`
						} `json:"data"`
					}
					if err := json.Unmarshal(raw, &env); err != nil || env.Status != "success" || env.Data.Result != "success" || env.Data.CallDetails.CallID == "" {
						b.Fatal(err, env)
					}
				}
			}
			b.Run("impl=baseline", func(b *testing.B) { baseline(b, benchserver.WirePhone) })
			b.Run("impl=baseline-prenormalised", func(b *testing.B) {
				baseline(b, func(_ testing.TB, p string) string { return digits[p] })
			})
			b.Run("impl=sdk", func(b *testing.B) {
				c, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(base+"/"), newtel.WithHTTPClient(hc))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				defer benchserver.CPU(b)()
				i := 0
				for b.Loop() {
					i++
					d, err := c.StartSimpleCall(b.Context(), newtel.SimpleCallRequest{CallerID: callerID, SrcNumber: src, DstNumber: phones[i%len(phones)], Timeout: 30})
					if err != nil || d.CallID == "" {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
