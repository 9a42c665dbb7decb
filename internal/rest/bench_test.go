package rest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/pbxkit/pbxkit/internal/benchserver"
	"github.com/pbxkit/pbxkit/internal/rest"
)

// benchPayload is a typical small list answer.
const benchPayload = `{"status":"success","data":{"result":"success","members":[` +
	`{"id":"1","name":"Иван Петров","ext":"101","email":"ivan@example.com"},` +
	`{"id":"2","name":"Мария Сидорова","ext":"102","email":"maria@example.com"},` +
	`{"id":"3","name":"Олег Кузнецов","ext":"103","email":"oleg@example.com"}]}}`

type benchMembers struct {
	Status string `json:"status"`
	Data   struct {
		Result  string `json:"result"`
		Members []struct {
			ID, Name, Ext, Email string
		} `json:"members"`
	} `json:"data"`
}

// BenchmarkGetJSON compares a GET plus JSON decode through the pipeline
// (impl=sdk) with the same request written by hand on net/http
// (impl=baseline): the same URL, User-Agent, client and server, the same
// answer decoded into the same struct. The server runs in this process
// (server=inproc) or in a child process (server=process), where cpu-ns/op
// is the client's CPU alone. Target: sdk ≤ 1.10 × baseline, allocs ≤
// baseline + 8.
//
//	go test -run '^$' -bench GetJSON -count 10 -cpu 2 ./internal/rest/ | benchstat -col /impl -
func BenchmarkGetJSON(b *testing.B) {
	routes := []benchserver.Route{{Header: map[string]string{"Content-Type": "application/json"}, Body: benchPayload}}
	for _, mode := range benchserver.Modes {
		b.Run("server="+string(mode), func(b *testing.B) {
			base := benchserver.Start(b, mode, routes)
			hc := benchserver.Client(b)
			b.Run("impl=baseline", func(b *testing.B) {
				b.ReportAllocs()
				defer benchserver.CPU(b)()
				for b.Loop() {
					req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, base+"/api/v1/members", nil)
					if err != nil {
						b.Fatal(err)
					}
					req.Header.Set("User-Agent", rest.UserAgent)
					resp, err := hc.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					var out benchMembers
					err = json.NewDecoder(resp.Body).Decode(&out)
					resp.Body.Close()
					if err != nil || resp.StatusCode != http.StatusOK || len(out.Data.Members) != 3 {
						b.Fatal(err, resp.StatusCode)
					}
				}
			})
			b.Run("impl=sdk", func(b *testing.B) {
				c, err := rest.New(rest.Config{Vendor: "bench", BaseURL: base + "/api/v1/", HTTPClient: hc})
				if err != nil {
					b.Fatal(err)
				}
				req := &rest.Request{Method: http.MethodGet, Path: "members"}
				b.ReportAllocs()
				defer benchserver.CPU(b)()
				for b.Loop() {
					resp, err := c.Do(b.Context(), req)
					if err != nil {
						b.Fatal(err)
					}
					var out benchMembers
					if err := resp.DecodeJSON(&out); err != nil || len(out.Data.Members) != 3 {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
