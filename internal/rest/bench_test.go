package rest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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

// BenchmarkGetJSON compares a GET plus JSON decode through the pipeline with
// the same request written by hand on net/http, against one loopback server.
// Compare the two ns/op figures; the target is pipeline ≤ 1.10 × baseline.
func BenchmarkGetJSON(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(benchPayload))
	}))
	defer srv.Close()
	transport := &http.Transport{MaxIdleConnsPerHost: 4}
	defer transport.CloseIdleConnections()
	httpClient := &http.Client{Transport: transport, Timeout: 10 * time.Second}

	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, srv.URL+"/api/v1/members", nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("User-Agent", rest.UserAgent)
			resp, err := httpClient.Do(req)
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

	b.Run("pipeline", func(b *testing.B) {
		c, err := rest.New(rest.Config{Vendor: "bench", BaseURL: srv.URL + "/api/v1/", HTTPClient: httpClient})
		if err != nil {
			b.Fatal(err)
		}
		req := &rest.Request{Method: http.MethodGet, Path: "members"}
		b.ReportAllocs()
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
}
