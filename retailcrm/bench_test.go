package retailcrm_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/pbxkit/pbxkit/internal/benchserver"
	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/retailcrm"
)

const uploadAnswer = `{"success":true,"processedCallsCount":50,"duplicateCalls":[]}`

// BenchmarkUploadCalls compares UploadCalls of 50 calls (impl=sdk: checks,
// dates in the account's zone, the JSON list, the form, the pipeline, the
// envelope) with the same upload written by hand on net/http
// (impl=baseline): the same wire struct filled from the same records, the
// same dates, JSON, form body and headers, the same client and server, and
// the answer decoded into a struct of the same fields. The server runs in
// this process (server=inproc) or in a child process (server=process),
// where cpu-ns/op is the client's CPU alone. Target: sdk ≤ 1.10 × baseline.
//
//	go test -run '^$' -bench UploadCalls -count 6 -cpu 2 ./retailcrm/ | benchstat -col /impl -
func BenchmarkUploadCalls(b *testing.B) {
	routes := []benchserver.Route{{Header: map[string]string{"Content-Type": "application/json"}, Body: uploadAnswer}}
	calls := records(retailcrm.MaxCallsPerUpload)
	msk := time.FixedZone("MSK", 3*60*60) // the client's default zone
	for _, mode := range benchserver.Modes {
		b.Run("server="+string(mode), func(b *testing.B) {
			base := benchserver.Start(b, mode, routes)
			hc := benchserver.Client(b)
			b.Run("impl=baseline", func(b *testing.B) {
				type wire struct {
					Date            string `json:"date"`
					Type            string `json:"type"`
					Phone           string `json:"phone"`
					Code            string `json:"code,omitempty"`
					UserID          int64  `json:"userId,omitempty"`
					Result          string `json:"result,omitempty"`
					Duration        int64  `json:"duration"`
					DurationWaiting int64  `json:"durationWaiting"`
					ExternalID      string `json:"externalId,omitempty"`
					RecordURL       string `json:"recordUrl,omitempty"`
					ExternalPhone   string `json:"externalPhone,omitempty"`
					Site            string `json:"site,omitempty"`
				}
				b.ReportAllocs()
				defer benchserver.CPU(b)()
				for b.Loop() {
					ws := make([]wire, len(calls))
					for i, c := range calls {
						ws[i] = wire{Date: c.Date.In(msk).Format("2006-01-02 15:04:05"), Type: string(c.Type),
							Phone: c.Phone, Code: c.Code, UserID: c.UserID, Result: string(c.Result),
							Duration: int64(c.Duration.Round(1e9) / 1e9), DurationWaiting: int64(c.DurationWaiting.Round(1e9) / 1e9),
							ExternalID: c.ExternalID, RecordURL: c.RecordURL, ExternalPhone: c.ExternalPhone, Site: c.Site}
					}
					js, err := json.Marshal(ws)
					if err != nil {
						b.Fatal(err)
					}
					body := url.Values{"calls": {string(js)}}.Encode()
					req, err := http.NewRequestWithContext(b.Context(), http.MethodPost, base+"/api/v5/telephony/calls/upload", bytes.NewReader([]byte(body)))
					if err != nil {
						b.Fatal(err)
					}
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("Accept", "application/json")
					req.Header.Set("User-Agent", rest.UserAgent)
					req.Header.Set("X-API-KEY", apiKey)
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
						Success    bool     `json:"success"`
						Processed  int      `json:"processedCallsCount"`
						Duplicates []string `json:"duplicateCalls"`
					}
					if err := json.Unmarshal(raw, &out); err != nil || !out.Success || out.Processed != 50 {
						b.Fatal(err, out)
					}
				}
			})
			b.Run("impl=sdk", func(b *testing.B) {
				c, err := retailcrm.New(base, apiKey, retailcrm.WithHTTPClient(hc), noLimit)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				defer benchserver.CPU(b)()
				for b.Loop() {
					res, err := c.UploadCalls(b.Context(), calls)
					if err != nil || res.Processed != 50 {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
