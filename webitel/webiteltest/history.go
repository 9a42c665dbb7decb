package webiteltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// histRec is one finished leg, kept with the fields the filters read and
// its JSON as GET /api/calls/history serves it.
type histRec struct {
	id, parentID string
	userID       int64
	direction    string
	created      time.Time
	stored       time.Time
	missed       bool
	texts        []string // numbers and names q and number match
	files        []*fileRec
	raw          json.RawMessage
}

// fileRec is a recording.
type fileRec struct {
	id          int64
	name        string
	callID      string
	start, stop time.Time
}

// leg is what a history record is made from.
type leg struct {
	id, appID, direction, other, cause, by string
	user                                   *userRec
	payload                                map[string]string
	created, answered, end                 time.Time
	holdSec                                int
}

// AddHistory adds n finished calls of the user with ext, two minutes
// apart, the newest ending at end. Even ones are inbound, odd ones
// outbound; every fourth (i%4 == 3) is a missed NO_ANSWER without a
// recording, the others were answered 10 s after they began, talked 60 s
// and have one recording.
func (s *Server) AddHistory(n int, ext string, end time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userByExtLocked(ext)
	if u == nil {
		return
	}
	for i := range n {
		e := end.Add(-time.Duration(i) * 2 * time.Minute)
		l := leg{id: newUUID(), appID: nodes[i%len(nodes)], direction: "inbound", user: u,
			other: fmt.Sprintf("+38050%07d", 1000000+i), cause: "NORMAL_CLEARING", by: "B",
			created: e.Add(-70 * time.Second), end: e}
		if i%2 == 1 {
			l.direction, l.by = "outbound", "A"
		}
		if i%4 == 3 {
			l.cause, l.created = "NO_ANSWER", e.Add(-30*time.Second)
		} else {
			l.answered = l.created.Add(10 * time.Second)
		}
		s.addHistLocked(l)
	}
}

// record moves a finished live leg to the history.
func (s *Server) record(c *callRec, cause, by string, end time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hold := c.holdSec
	if c.state == "hold" {
		hold += int(end.Sub(c.heldAt) / time.Second)
	}
	s.addHistLocked(leg{id: c.id, appID: c.appID, direction: c.direction, other: c.other, cause: cause, by: by,
		user: c.user, payload: c.payload, created: c.created, answered: c.answered, end: end, holdSec: hold})
}

// addHistLocked stores a HistoryCall (engine protos call.proto): ids and
// times (ms) as strings, durations as numbers, files when answered.
func (s *Server) addHistLocked(l leg) {
	u := l.user
	user := map[string]any{"type": "user", "number": u.Extension, "name": u.Name, "id": id64(u.ID)}
	dest := map[string]any{"type": "dest", "number": l.other, "name": l.other, "id": ""}
	from, to, destination := user, dest, l.other
	if l.direction == "inbound" {
		from, to, destination = dest, user, u.Extension
	}
	h := &histRec{id: l.id, userID: u.ID, direction: l.direction, created: l.created, stored: l.end.Add(time.Second),
		missed: l.answered.IsZero() && l.direction == "inbound", texts: []string{l.other, u.Extension, u.Name}}
	dur := int(l.end.Sub(l.created) / time.Second)
	talk, wait := 0, dur
	files := []map[string]any{}
	sip := 480
	if !l.answered.IsZero() {
		talk = int(l.end.Sub(l.answered) / time.Second)
		wait = int(l.answered.Sub(l.created) / time.Second)
		sip = 200
		f := &fileRec{id: s.nextFile, name: "rec_" + l.id + ".mp3", callID: l.id, start: l.answered, stop: l.end}
		s.nextFile++
		s.files[id64(f.id)] = f
		h.files = append(h.files, f)
		files = append(files, fileJSON(f))
	}
	if l.cause == "USER_BUSY" {
		sip = 486
	}
	payload := l.payload
	if payload == nil {
		payload = map[string]string{}
	}
	h.raw, _ = json.Marshal(map[string]any{
		"id": l.id, "app_id": l.appID, "type": "call", "parent_id": "", "bridged_id": "",
		"direction": l.direction, "destination": destination, "from": from, "to": to,
		"user": map[string]any{"id": id64(u.ID), "name": u.Name}, "extension": u.Extension,
		"created_at": ms(l.created), "answered_at": ms(l.answered), "bridged_at": ms(l.answered),
		"hangup_at": ms(l.end), "stored_at": ms(h.stored), "hangup_by": l.by, "cause": l.cause, "sip_code": sip,
		"duration": dur, "bill_sec": talk, "talk_sec": talk, "hold_sec": l.holdSec, "wait_sec": wait,
		"variables": payload, "files": files, "has_children": false, "missed": h.missed,
	})
	s.history = append(s.history, h)
}

// fileJSON is a file of a call, in HistoryCall.files and in
// SearchFilesByCall: size (int64) as a string.
func fileJSON(f *fileRec) map[string]any {
	return map[string]any{
		"id": id64(f.id), "name": f.name, "size": strconv.Itoa(len(Recording(id64(f.id)))),
		"mime_type": "audio/mpeg", "start_at": ms(f.start), "stop_at": ms(f.stop), "start_record": "0",
		"channel": "call", "type": "file_type_audio",
	}
}

// History returns what GET /api/calls/history serves, newest first: each
// item a raw HistoryCall.
func (s *Server) History() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := s.sortedHistoryLocked(false)
	out := make([]json.RawMessage, len(recs))
	for i, h := range recs {
		out[i] = slices.Clone(h.raw)
	}
	return out
}

func (s *Server) sortedHistoryLocked(asc bool) []*histRec {
	recs := slices.Clone(s.history)
	slices.SortStableFunc(recs, func(a, b *histRec) int {
		if asc {
			return a.created.Compare(b.created)
		}
		return b.created.Compare(a.created)
	})
	return recs
}

// between reads a FilterBetween of the query (name.from, name.to in ms):
// set tells whether either bound was given.
func between(q map[string][]string, name string) (from, to int64, set bool, ok bool) {
	from, to, ok = 0, 1<<62, true
	for _, b := range []struct {
		key string
		dst *int64
	}{{name + ".from", &from}, {name + ".to", &to}} {
		if v := first(q[b.key]); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				ok = false
			}
			*b.dst, set = n, true
		}
	}
	return from, to, set, ok
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// searchHistory is SearchHistoryCall (engine grpc_api/call.go): one of
// created_at, stored_at, number, q, dependency_id or id is required.
func (s *Server) searchHistory(w http.ResponseWriter, r *http.Request, _ *userRec) {
	q := r.URL.Query()
	cFrom, cTo, cSet, ok1 := between(q, "created_at")
	sFrom, sTo, sSet, ok2 := between(q, "stored_at")
	if !ok1 || !ok2 {
		writeError(w, http.StatusBadRequest, "api.process.bad_args", "created_at and stored_at are milliseconds")
		return
	}
	ids := append(q["id"], q["id[]"]...)
	number, text := q.Get("number"), q.Get("q")
	if !cSet && !sSet && number == "" && text == "" && q.Get("dependency_id") == "" && len(ids) == 0 {
		writeError(w, http.StatusBadRequest, "grpc.call.search_history", "filter created_at or stored_at or q is required")
		return
	}
	uids := append(q["user_id"], q["user_id[]"]...)
	dirs := append(q["direction"], q["directions"]...)
	dirs = append(dirs, q["directions[]"]...)
	pg, size := page(r, 40)
	sort := q.Get("sort")
	asc := sort == "created_at" || sort == "+created_at"
	s.mu.Lock()
	recs := s.sortedHistoryLocked(asc)
	s.mu.Unlock()
	var all []json.RawMessage
	for _, h := range recs {
		c, st := h.created.UnixMilli(), h.stored.UnixMilli()
		switch {
		case c < cFrom || c > cTo, st < sFrom || st > sTo,
			len(ids) > 0 && !slices.Contains(ids, h.id),
			len(uids) > 0 && !slices.Contains(uids, id64(h.userID)),
			len(dirs) > 0 && !slices.Contains(dirs, h.direction),
			q.Get("skip_parent") == "true" && h.parentID != "",
			q.Get("missed") == "true" && !h.missed,
			q.Get("has_file") == "true" && len(h.files) == 0,
			number != "" && !matchQ(number, h.texts[:2]...),
			!matchQ(text, h.texts...):
			continue
		}
		all = append(all, h.raw)
	}
	items, next := cut(all, pg, size)
	if items == nil {
		items = []json.RawMessage{}
	}
	writeJSON(w, list(items, next, nil))
}

// callFiles is SearchFilesByCall: GET /api/calls/{call_id}/files, the
// call's recordings as {next, items}.
func (s *Server) callFiles(w http.ResponseWriter, r *http.Request, _ *userRec) {
	id := r.PathValue("call_id")
	s.mu.Lock()
	items := []map[string]any{}
	for _, h := range s.history {
		if strings.EqualFold(h.id, id) {
			for _, f := range h.files {
				items = append(items, fileJSON(f))
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, list(items, false, nil))
}
