package phonettest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxLimit is the largest page the history endpoints serve.
const maxLimit = 50

// seedHistory stores the vendor documentation's two records plus a missed
// call, relative to now.
func (s *Server) seedHistory() {
	now := time.Now()
	s.history = append(s.history,
		map[string]any{
			"parentUuid": "d267486f-a539-45dd-c5f5-e735a5870b80", "uuid": "f457486f-a539-45dd-c5f5-e735a5870b92",
			"endAt": now.Add(-3 * time.Hour).UnixMilli(), "lgDirection": 1, "otherLegNum": nil, "otherLegName": nil,
			"leg":      map[string]any{"id": 36, "type": 1, "displayName": "Иван Иванов", "ext": "001"},
			"leg2":     map[string]any{"id": 27, "type": 1, "displayName": "Петр Петров", "ext": "002"},
			"billSecs": 3, "duration": 4, "disposition": 0, "transferHistory": nil,
			"audioRecUrl": s.URLFor("f457486f-a539-45dd-c5f5-e735a5870b92") + " ", "trunk": nil,
		},
		map[string]any{
			"uuid": "d38f07d9-3b59-47aa-c711-94c6bebe1621", "endAt": now.Add(-2 * time.Hour).UnixMilli(), "lgDirection": 2,
			"otherLegNum": "+380993034330", "otherLegName": "+380993034330",
			"leg":  map[string]any{"id": 36, "type": 1, "displayName": "Иван Иванов", "ext": "001"},
			"leg2": nil, "billSecs": 4, "duration": 15, "disposition": 0, "transferHistory": "003 > 001",
			"audioRecUrl": s.URLFor("d38f07d9-3b59-47aa-c711-94c6bebe1621") + " ", "trunk": "o=380442249895;",
		},
		map[string]any{
			"uuid": "a1b2c3d4-0000-4000-8000-000000000001", "endAt": now.Add(-time.Hour).UnixMilli(), "lgDirection": 4,
			"otherLegNum": "+380671234567", "otherLegName": nil,
			"leg":  map[string]any{"id": 27, "type": 1, "displayName": "Петр Петров", "ext": "002"},
			"leg2": nil, "billSecs": 0, "duration": 21, "disposition": 1, "transferHistory": nil,
			"audioRecUrl": nil, "trunk": "o=380442246595;",
		})
}

// URLFor is the recording link of a call uuid, as audioRecUrl carries it
// (without the trailing space).
func (s *Server) URLFor(uuid string) string {
	// The server's URL is unknown before it starts; links name the tenant
	// host, as Phonet's own do.
	return "https://" + s.Domain + "/rest/public/calls/" + uuid + "/audio"
}

// AddHistory appends n answered calls of ext, one a minute, ending at end.
func (s *Server) AddHistory(n int, ext string, end time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, _ := s.userByExt(ext)
	for i := range n {
		id := dashed(newID())
		s.history = append(s.history, map[string]any{
			"uuid": id, "parentUuid": nil, "endAt": end.Add(-time.Duration(i) * time.Minute).UnixMilli(), "lgDirection": 4,
			"otherLegNum": "+38050" + strconv.Itoa(1000000+i), "otherLegName": nil,
			"leg":  map[string]any{"id": u.ID, "type": 1, "displayName": u.DisplayName, "ext": u.Ext},
			"leg2": nil, "billSecs": 30, "duration": 40, "disposition": 0, "transferHistory": nil,
			"audioRecUrl": s.URLFor(id) + " ", "trunk": "o=380442246595;",
		})
	}
}

// addRecord appends a played call to the history as company.api shows it:
// the dashed uuid, endAt in ms, duration from the dial and billSecs from
// the answer, and a recording only when the call was answered.
func (s *Server) addRecord(p played) {
	rec := map[string]any{
		"uuid": dashed(p.uuid), "parentUuid": nil, "endAt": p.end.UnixMilli(), "lgDirection": int(p.direction),
		"otherLegNum": p.client, "otherLegName": nil,
		"leg":  map[string]any{"id": p.user.ID, "type": 1, "displayName": p.user.DisplayName, "ext": p.user.Ext},
		"leg2": nil, "duration": int(p.end.Sub(p.dial) / time.Second), "billSecs": 0, "disposition": 1,
		"transferHistory": nil, "audioRecUrl": nil, "trunk": "o=" + strings.TrimPrefix(DefaultTrunk, "+") + ";",
	}
	if !p.bridge.IsZero() {
		rec["billSecs"], rec["disposition"] = int(p.end.Sub(p.bridge)/time.Second), 0
		rec["audioRecUrl"] = s.URLFor(dashed(p.uuid)) + " "
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.history = append(s.history, rec)
}

// historyPage serves one page of an endpoint: timeFrom and timeTo in ms
// bound endAt, limit is 1..50, offset 0-based; the answer is a bare array.
func (s *Server) historyPage(endpoint string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		from, err1 := strconv.ParseInt(q.Get("timeFrom"), 10, 64)
		to, err2 := strconv.ParseInt(q.Get("timeTo"), 10, 64)
		limit, err3 := strconv.Atoi(q.Get("limit"))
		offset, err4 := strconv.Atoi(q.Get("offset"))
		if q.Get("offset") == "" {
			offset, err4 = 0, nil
		}
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || limit < 1 || limit > maxLimit || offset < 0 {
			http.Error(w, "Bad Request: timeFrom, timeTo (ms), limit (1..50) and offset are required", http.StatusBadRequest)
			return
		}
		if from < 1e12 || to < 1e12 {
			http.Error(w, "Bad Request: timeFrom and timeTo are milliseconds", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		var rows []map[string]any
		for _, m := range s.history {
			end := m["endAt"].(int64)
			if end < from || end > to {
				continue
			}
			if endpoint == "missed.api" && m["disposition"] == 0 {
				continue
			}
			rows = append(rows, m)
		}
		s.mu.Unlock()
		slices.SortFunc(rows, func(a, b map[string]any) int { return -compare(a["endAt"].(int64), b["endAt"].(int64)) })
		page := []map[string]any{}
		if offset < len(rows) {
			page = rows[offset:min(offset+limit, len(rows))]
		}
		writeJSON(w, page)
	}
}

func compare(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
