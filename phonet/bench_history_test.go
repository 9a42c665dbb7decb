package phonet_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pbxkit/pbxkit/internal/benchserver"
	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/phonet"
)

// historyPageRows is how many records the benchmark's history page holds.
const historyPageRows = 20

// historyPage is a company.api answer of historyPageRows records, the two
// shapes of the vendor's sample (an internal call and an outgoing one)
// taken in turn, each with a uuid of its own.
func historyPage() string {
	const internal = `{"parentUuid":"d267486f-a539-45dd-c5f5-e735a5870b80","uuid":"f457486f-a539-45dd-c5f5-e735a58%05d","endAt":1435319298470,` +
		`"lgDirection":1,"otherLegNum":null,"otherLegName":null,"leg":{"id":36,"type":1,"displayName":"Васильев Андрей","ext":"001"},` +
		`"leg2":{"id":19,"type":1,"displayName":"Operator 4","ext":"004"},"billSecs":3,"duration":4,"disposition":0,"transferHistory":null,` +
		`"audioRecUrl":"https://podium.betell.com.ua/rest/public/calls/f457486f-a539-45dd-c5f5-e735a5870b92/audio ","trunk":null}`
	const outgoing = `{"uuid":"d38f07d9-3b59-47aa-c711-94c6bebe1%03d","endAt":1435317888511,"lgDirection":2,"otherLegNum":"+380993034330",` +
		`"otherLegName":"+380993034330","leg":{"id":36,"type":1,"displayName":"Васильев Андрей","ext":"001"},"leg2":null,` +
		`"billSecs":4,"duration":15,"disposition":0,"transferHistory":"003 > 001",` +
		`"audioRecUrl":"https://podium.betell.com.ua/rest/public/calls/d38f07d9-3b59-47aa-c711-94c6bebe1621/audio ","trunk":"o=380442249895;"}`
	rows := make([]string, historyPageRows)
	for i := range rows {
		if i%2 == 0 {
			rows[i] = fmt.Sprintf(internal, i)
		} else {
			rows[i] = fmt.Sprintf(outgoing, i)
		}
	}
	return "[" + strings.Join(rows, ",") + "]"
}

// plainLeg and plainRecord are the hand-written baseline's types: a
// history record's fields in plain Go types, as a program that trusts the
// wire would declare them.
type plainLeg struct {
	ID          int64  `json:"id"`
	Type        int    `json:"type"`
	DisplayName string `json:"displayName"`
	Ext         string `json:"ext"`
}

type plainRecord struct {
	UUID            string    `json:"uuid"`
	ParentUUID      string    `json:"parentUuid"`
	EndAt           int64     `json:"endAt"`
	LgDirection     int       `json:"lgDirection"`
	OtherLegNum     string    `json:"otherLegNum"`
	OtherLegName    string    `json:"otherLegName"`
	Leg             *plainLeg `json:"leg"`
	Leg2            *plainLeg `json:"leg2"`
	BillSecs        int64     `json:"billSecs"`
	Duration        int64     `json:"duration"`
	Disposition     *int      `json:"disposition"`
	TransferHistory string    `json:"transferHistory"`
	AudioRecURL     string    `json:"audioRecUrl"`
	Trunk           string    `json:"trunk"`
}

// BenchmarkHistoryPage compares one page of CompanyCalls (impl=sdk: the
// query, the session cookie, the pipeline, the lenient decode into
// Records) with the same GET written by hand on net/http (impl=baseline):
// the same query string, cookie and headers, the same client and server,
// and the page decoded by json.Unmarshal into []plainRecord. The page holds
// fewer rows than the limit, so that each operation is one request. Both
// open their session before the clock starts. The server runs in this
// process (server=inproc) or in a child process (server=process), where
// cpu-ns/op is the client's CPU alone. Target: sdk ≤ 1.10 × baseline,
// allocs ≤ baseline + 8.
//
//	go test -run '^$' -bench HistoryPage -count 10 -cpu 2 ./phonet/ | benchstat -col /impl -
func BenchmarkHistoryPage(b *testing.B) {
	const session = "B1E0C2D7F00D4A1C9E5B7A3F2D1C0B9A"
	routes := []benchserver.Route{
		{Path: "/rest/security/authorize", Header: map[string]string{"Set-Cookie": "JSESSIONID=" + session + "; Path=/; HttpOnly"}},
		{Path: "/rest/calls/company.api", Header: map[string]string{"Content-Type": "application/json"}, Body: historyPage()},
	}
	to := time.UnixMilli(1435320000000)
	q := phonet.HistoryQuery{From: to.Add(-24 * time.Hour), To: to}
	for _, mode := range benchserver.Modes {
		b.Run("server="+string(mode), func(b *testing.B) {
			base := benchserver.Start(b, mode, routes)
			hc := benchserver.Client(b)
			b.Run("impl=baseline", func(b *testing.B) {
				b.ReportAllocs()
				defer benchserver.CPU(b)()
				for b.Loop() {
					// Built for each page, as paging must.
					query := url.Values{}
					query.Set("timeFrom", strconv.FormatInt(q.From.UnixMilli(), 10))
					query.Set("timeTo", strconv.FormatInt(q.To.UnixMilli(), 10))
					query.Set("limit", strconv.Itoa(phonet.MaxPageSize))
					query.Set("offset", strconv.Itoa(0))
					req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, base+"/rest/calls/company.api?"+query.Encode(), nil)
					if err != nil {
						b.Fatal(err)
					}
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("User-Agent", rest.UserAgent)
					req.AddCookie(&http.Cookie{Name: "JSESSIONID", Value: session})
					resp, err := hc.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					raw, err := io.ReadAll(resp.Body)
					_ = resp.Body.Close()
					if err != nil || resp.StatusCode != http.StatusOK {
						b.Fatal(err, resp.StatusCode)
					}
					var page []plainRecord
					if err := json.Unmarshal(raw, &page); err != nil || len(page) != historyPageRows {
						b.Fatal(err, len(page))
					}
				}
			})
			b.Run("impl=sdk", func(b *testing.B) {
				c, err := phonet.New("bench.phonet.com.ua", apiKey, phonet.WithBaseURL(base), phonet.WithHTTPClient(hc))
				if err != nil {
					b.Fatal(err)
				}
				page := func() {
					n := 0
					for _, err := range c.CompanyCalls(b.Context(), q) {
						if err != nil {
							b.Fatal(err)
						}
						n++
					}
					if n != historyPageRows {
						b.Fatal(n)
					}
				}
				page() // opens the session
				b.ReportAllocs()
				defer benchserver.CPU(b)()
				for b.Loop() {
					page()
				}
			})
		})
	}
}
