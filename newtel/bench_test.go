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
