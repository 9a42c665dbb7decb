package webitel_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pbxkit/pbxkit/internal/benchserver"
	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/webitel"
)

// benchFrame is a ringing frame in the shape the engine sends (the notes'
// §6.6 example: mod_grpc's fields, the engine's envelope, its newline).
const benchFrame = `{"event":"call","data":{"call":{"id":"3f6b1c1e-2f0a-4a7e-9d0e-6c1b1a2b3c4d","event":"ringing",` +
	`"timestamp":"1714550000123","domain_id":"1","user_id":"123","app_id":"fs-1",` +
	`"data":{"user_id":123,"sip_id":"a1b2c3d4","direction":"inbound","destination":"101",` +
	`"from":{"type":"dest","number":"+380501234567","name":"+380501234567","id":""},` +
	`"to":{"type":"user","number":"101","name":"John","id":"123"},` +
	`"payload":{"crm_lead":"42"},"queue":{"queue_id":"5","attempt_id":"991","queue_type":"inbound"}}}},"seq":5}` + "\n"

// plainEndpoint and plainFrame are the baseline's types: the frame's
// fields in plain Go types, as a program that trusts the wire would
// declare them.
type plainEndpoint struct {
	Type   string `json:"type"`
	Number string `json:"number"`
	Name   string `json:"name"`
	ID     string `json:"id"`
}

type plainFrame struct {
	Event string `json:"event"`
	Seq   int64  `json:"seq"`
	Data  struct {
		Call struct {
			ID        string `json:"id"`
			Event     string `json:"event"`
			Timestamp string `json:"timestamp"`
			DomainID  string `json:"domain_id"`
			UserID    string `json:"user_id"`
			AppID     string `json:"app_id"`
			Data      struct {
				UserID      int64             `json:"user_id"`
				SipID       string            `json:"sip_id"`
				Direction   string            `json:"direction"`
				Destination string            `json:"destination"`
				From        *plainEndpoint    `json:"from"`
				To          *plainEndpoint    `json:"to"`
				Payload     map[string]string `json:"payload"`
				Queue       map[string]string `json:"queue"`
			} `json:"data"`
		} `json:"call"`
	} `json:"data"`
}

// BenchmarkToEvent compares a socket frame turned into a voip.Event
// (ParseEvent: the lenient decode, the typed event; Voip: the conversion,
// phone normalisation included) with a plain json.Unmarshal of the same
// bytes into plainFrame. Target: impl=sdk ≤ 1.3 × impl=baseline.
//
//	go test -run '^$' -bench ToEvent -count 10 -cpu 2 ./webitel/ | benchstat -col /impl -
func BenchmarkToEvent(b *testing.B) {
	frame := []byte(benchFrame)
	b.Run("in=frame/impl=sdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ev, err := webitel.ParseEvent(frame)
			if err != nil {
				b.Fatal(err)
			}
			if v, ok := ev.Voip(); !ok || v.Client != "+380501234567" || v.Ext != "101" {
				b.Fatal("not the call", v)
			}
		}
	})
	b.Run("in=frame/impl=baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var f plainFrame
			if err := json.Unmarshal(frame, &f); err != nil || f.Data.Call.Data.From == nil {
				b.Fatal(err)
			}
		}
	})
}

// historyRows is how many calls the benchmark's history page holds.
const historyRows = 20

// historyPage is a GET /api/calls/history answer of historyRows calls in
// the engine's shape (int64 values as strings, zero values present), the
// answered and the missed shape of the notes taken in turn.
func historyPage() string {
	const answered = `{"id":"3f6b1c1e-2f0a-4a7e-9d0e-6c1b1a2b%04d","app_id":"fs-1","type":"call","parent_id":"",` +
		`"direction":"outbound","destination":"+380501234567",` +
		`"from":{"type":"user","number":"101","id":"123","name":"John"},"to":{"type":"dest","number":"+380501234567","id":"","name":""},` +
		`"user":{"id":"123","name":"John"},"extension":"101","created_at":"1714550000000","answered_at":"1714550005000",` +
		`"bridged_at":"1714550012000","hangup_at":"1714550100000","stored_at":"1714550101000","hangup_by":"A","cause":"NORMAL_CLEARING",` +
		`"sip_code":200,"duration":100,"bill_sec":88,"hold_sec":0,"wait_sec":12,"talk_sec":88,"variables":{"crm_lead":"42"},` +
		`"files":[{"id":"555","name":"rec.mp3","size":"123456","mime_type":"audio/mpeg","start_at":"1714550012000","stop_at":"1714550100000",` +
		`"channel":"call","type":"file_type_audio"}],"has_children":false,"missed":false}`
	const missed = `{"id":"9a1c2d3e-4f50-4617-8a9b-0c1d2e3f%04d","app_id":"fs-2","type":"call","parent_id":"",` +
		`"direction":"inbound","destination":"102",` +
		`"from":{"type":"dest","number":"0671234567","id":"","name":""},"to":{"type":"user","number":"102","id":"5","name":"Olena"},` +
		`"user":{"id":"5","name":"Olena"},"extension":"102","created_at":"1714550000000","answered_at":"0",` +
		`"bridged_at":"0","hangup_at":"1714550007000","stored_at":"1714550008000","hangup_by":"B","cause":"USER_BUSY",` +
		`"sip_code":486,"duration":7,"bill_sec":0,"hold_sec":0,"wait_sec":7,"talk_sec":0,"variables":{},` +
		`"files":[],"has_children":false,"missed":true}`
	rows := make([]string, historyRows)
	for i := range rows {
		if i%2 == 0 {
			rows[i] = fmt.Sprintf(answered, i)
		} else {
			rows[i] = fmt.Sprintf(missed, i)
		}
	}
	return `{"items":[` + strings.Join(rows, ",") + `]}`
}

// plainHistoryCall is the baseline's type of a history record.
type plainHistoryCall struct {
	ID          string            `json:"id"`
	AppID       string            `json:"app_id"`
	Type        string            `json:"type"`
	ParentID    string            `json:"parent_id"`
	Direction   string            `json:"direction"`
	Destination string            `json:"destination"`
	From        *plainEndpoint    `json:"from"`
	To          *plainEndpoint    `json:"to"`
	User        *plainEndpoint    `json:"user"`
	Extension   string            `json:"extension"`
	CreatedAt   string            `json:"created_at"`
	AnsweredAt  string            `json:"answered_at"`
	BridgedAt   string            `json:"bridged_at"`
	HangupAt    string            `json:"hangup_at"`
	StoredAt    string            `json:"stored_at"`
	HangupBy    string            `json:"hangup_by"`
	Cause       string            `json:"cause"`
	SipCode     int               `json:"sip_code"`
	Duration    int               `json:"duration"`
	BillSec     int               `json:"bill_sec"`
	HoldSec     int               `json:"hold_sec"`
	WaitSec     int               `json:"wait_sec"`
	TalkSec     int               `json:"talk_sec"`
	Variables   map[string]string `json:"variables"`
	Files       []struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Size     string `json:"size"`
		MimeType string `json:"mime_type"`
		StartAt  string `json:"start_at"`
		StopAt   string `json:"stop_at"`
		Channel  string `json:"channel"`
		Type     string `json:"type"`
	} `json:"files"`
	HasChildren bool `json:"has_children"`
	Missed      bool `json:"missed"`
}

// BenchmarkHistoryPage compares one page of History turned into voip.Call
// values (impl=sdk: the query, the pipeline, the lenient decode,
// HistoryCall.Call with phone normalisation) with the same GET written by
// hand on net/http (impl=baseline): the same query string and header, the
// same client and server, the page decoded by json.Unmarshal into plain
// structs. The page says no next, so each operation is one request. The
// server runs in this process (server=inproc) or in a child process
// (server=process), where cpu-ns/op is the client's CPU alone. Target:
// impl=sdk ≤ 1.3 × impl=baseline.
//
//	go test -run '^$' -bench HistoryPage -count 10 -cpu 2 ./webitel/ | benchstat -col /impl -
func BenchmarkHistoryPage(b *testing.B) {
	const token = "bench-token-0123456789abcdef"
	routes := []benchserver.Route{{Path: "/api/calls/history", Header: map[string]string{"Content-Type": "application/json"}, Body: historyPage()}}
	to := time.UnixMilli(1714560000000)
	q := webitel.HistoryQuery{From: to.Add(-24 * time.Hour), To: to, PageSize: 100}
	for _, mode := range benchserver.Modes {
		b.Run("server="+string(mode), func(b *testing.B) {
			base := benchserver.Start(b, mode, routes)
			hc := benchserver.Client(b)
			b.Run("impl=baseline", func(b *testing.B) {
				b.ReportAllocs()
				defer benchserver.CPU(b)()
				for b.Loop() {
					query := url.Values{}
					query.Set("page", "1")
					query.Set("size", "100")
					query.Set("created_at.from", fmt.Sprint(q.From.UnixMilli()))
					query.Set("created_at.to", fmt.Sprint(q.To.UnixMilli()))
					req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, base+"/api/calls/history?"+query.Encode(), nil)
					if err != nil {
						b.Fatal(err)
					}
					req.Header.Set("X-Webitel-Access", token)
					req.Header.Set("Accept", "application/json")
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
					var page struct {
						Next  bool               `json:"next"`
						Items []plainHistoryCall `json:"items"`
					}
					if err := json.Unmarshal(raw, &page); err != nil || len(page.Items) != historyRows {
						b.Fatal(err, len(page.Items))
					}
				}
			})
			b.Run("impl=sdk", func(b *testing.B) {
				c, err := webitel.New(base, token, webitel.WithHTTPClient(hc))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				defer benchserver.CPU(b)()
				for b.Loop() {
					n := 0
					for h, err := range c.History(b.Context(), q) {
						if err != nil {
							b.Fatal(err)
						}
						if call := h.Call(); call.ID == "" {
							b.Fatal("no id")
						}
						n++
					}
					if n != historyRows {
						b.Fatal(n)
					}
				}
			})
		})
	}
}
