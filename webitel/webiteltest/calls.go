package webiteltest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// callRec is one live leg: the leg of the user whose extension rings.
type callRec struct {
	id, appID   string
	user        *userRec
	direction   string // inbound or outbound, relative to the user
	other       string // the other party's number
	payload     map[string]string
	created     time.Time
	answered    time.Time
	bridged     time.Time
	bridgedID   string
	state       string // ringing, active, hold
	heldAt      time.Time
	holdSec     int
	digits      []rune
	transferred string
}

// nodes are the FreeSWITCH nodes calls land on, in turn, so that a client
// has to keep each call's app_id rather than assume one.
var nodes = []string{"fs-1", "fs-2"}

func (s *Server) newCallLocked(u *userRec, direction, other string, payload map[string]string) *callRec {
	c := &callRec{id: newUUID(), appID: nodes[s.nodeTurn%len(nodes)], user: u, direction: direction, other: other,
		payload: payload, created: time.Now(), state: "ringing"}
	s.nodeTurn++
	if c.payload == nil {
		c.payload = map[string]string{}
	}
	s.calls[c.id] = c
	return c
}

func (s *Server) callRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/calls", s.auth(s.createCall))
	mux.HandleFunc("GET /api/calls/active", s.auth(s.activeCalls))
	mux.HandleFunc("DELETE /api/calls/active/{id}", s.auth(s.hangupREST))
	mux.HandleFunc("PATCH /api/calls/active/{id}/hold", s.auth(s.holdREST(true)))
	mux.HandleFunc("PATCH /api/calls/active/{id}/unhold", s.auth(s.holdREST(false)))
	mux.HandleFunc("PATCH /api/calls/active/{id}/dtmf", s.auth(s.dtmfREST))
	mux.HandleFunc("PATCH /api/calls/active/{id}/transfer", s.auth(s.transferREST))
	mux.HandleFunc("POST /api/calls/active/{id}/eavesdrop", s.auth(s.eavesdropREST))
}

// errCall is a refusal to create a call.
type errCall struct {
	status     int
	id, detail string
}

// place creates the operator's leg of a click-to-call: it rings the
// operator (the auto-answer is played by [Server.Answer]). The caller
// answers the request first, then calls ring.
func (s *Server) place(u *userRec, destination string, vars map[string]string, socket bool) (*callRec, *errCall) {
	if destination == "" {
		return nil, &errCall{http.StatusBadRequest, "app.call.create.valid.destination", "destination is required"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.busy {
		return nil, &errCall{http.StatusBadRequest, "app.call.create.valid.busy", "user " + u.Extension + " is busy"}
	}
	c := s.newCallLocked(u, "outbound", destination, vars)
	s.placed = append(s.placed, PlacedCall{ID: c.id, From: u.Extension, Destination: destination, Socket: socket})
	return c, nil
}

// createCall is CreateCall: from.extension or from.id, else the token's
// own user (engine controller/call.go).
func (s *Server) createCall(w http.ResponseWriter, r *http.Request, me *userRec) {
	var in struct {
		From *struct {
			ID        flexID `json:"id"`
			Extension string `json:"extension"`
		} `json:"from"`
		Destination string `json:"destination"`
		Params      struct {
			Variables map[string]string `json:"variables"`
		} `json:"params"`
	}
	if !decodeBody(r, &in) {
		writeError(w, http.StatusBadRequest, "api.process.bad_args", "bad request body")
		return
	}
	u := me
	if in.From != nil && (in.From.Extension != "" || in.From.ID != "") {
		s.mu.Lock()
		if in.From.Extension != "" {
			u = s.userByExtLocked(in.From.Extension)
		} else if id, ok := in.From.ID.int(); ok {
			u = s.userLocked(id)
		} else {
			u = nil
		}
		s.mu.Unlock()
		if u == nil {
			writeError(w, http.StatusBadRequest, "app.call.create.valid.from", "no user to ring first")
			return
		}
	}
	c, e := s.place(u, in.Destination, in.Params.Variables, false)
	if e != nil {
		writeError(w, e.status, e.id, e.detail)
		return
	}
	writeJSON(w, map[string]string{"id": c.id})
	s.ring(c)
}

func (s *Server) activeCallJSON(c *callRec) map[string]any {
	from, to := s.parties(c)
	dur := int(time.Since(c.created) / time.Second)
	bill := 0
	if !c.answered.IsZero() {
		bill = int(time.Since(c.answered) / time.Second)
	}
	return map[string]any{
		"id": c.id, "app_id": c.appID, "state": c.state, "timestamp": ms(time.Now()), "type": "call",
		"parent_id": "", "bridged_id": c.bridgedID, "user": map[string]any{"id": id64(c.user.ID), "name": c.user.Name},
		"extension": c.user.Extension, "direction": c.direction, "destination": s.destination(c),
		"from": from, "to": to, "variables": c.payload, "created_at": ms(c.created), "answered_at": ms(c.answered),
		"bridged_at": ms(c.bridged), "duration": dur, "hold_sec": c.holdSec, "wait_sec": dur - bill, "bill_sec": bill,
		"blind_transfer": c.transferred,
	}
}

// activeCalls is SearchActiveCall: {next, items}, newest first; user_id
// filters.
func (s *Server) activeCalls(w http.ResponseWriter, r *http.Request, _ *userRec) {
	pg, size := page(r, 40)
	uids := append(r.URL.Query()["user_id"], r.URL.Query()["user_id[]"]...)
	s.mu.Lock()
	calls := make([]*callRec, 0, len(s.calls))
	for _, c := range s.calls {
		if len(uids) == 0 || slices.Contains(uids, id64(c.user.ID)) {
			calls = append(calls, c)
		}
	}
	slices.SortFunc(calls, func(a, b *callRec) int { return b.created.Compare(a.created) })
	all := make([]map[string]any, len(calls))
	for i, c := range calls {
		all[i] = s.activeCallJSON(c)
	}
	s.mu.Unlock()
	items, next := cut(all, pg, size)
	writeJSON(w, list(items, next, nil))
}

// control reads a REST call-control body and finds its call; app_id is
// optional over REST (engine app/call.go looks the node up itself), but a
// wrong one is refused.
func (s *Server) control(w http.ResponseWriter, r *http.Request, v any, appID func() string) *callRec {
	if !decodeBody(r, v) {
		writeError(w, http.StatusBadRequest, "api.process.bad_args", "bad request body")
		return nil
	}
	s.mu.Lock()
	c := s.calls[r.PathValue("id")]
	s.mu.Unlock()
	if c == nil {
		writeError(w, http.StatusNotFound, "app.call.not_found", "no active call "+r.PathValue("id"))
		return nil
	}
	if a := appID(); a != "" && a != c.appID {
		writeError(w, http.StatusBadRequest, "app.call_manager.client.not_found", "the call is not on node "+a)
		return nil
	}
	return c
}

func (s *Server) hangupREST(w http.ResponseWriter, r *http.Request, _ *userRec) {
	var in struct {
		Cause string `json:"cause"`
		AppID string `json:"app_id"`
	}
	c := s.control(w, r, &in, func() string { return in.AppID })
	if c == nil {
		return
	}
	writeJSON(w, map[string]any{})
	s.hangup(c.id, in.Cause, "A")
}

func (s *Server) holdREST(hold bool) func(http.ResponseWriter, *http.Request, *userRec) {
	return func(w http.ResponseWriter, r *http.Request, _ *userRec) {
		var in struct {
			AppID string `json:"app_id"`
		}
		c := s.control(w, r, &in, func() string { return in.AppID })
		if c == nil {
			return
		}
		if hold {
			writeJSON(w, map[string]string{"state": "hold"})
			s.Hold(c.id)
			return
		}
		writeJSON(w, map[string]string{"state": "active"})
		s.unhold(c.id)
	}
}

// dtmfREST reproduces the engine's DtmfCall (engine grpc_api/call.go): the
// digit is taken only from a string longer than one character, so "5"
// sends NUL.
func (s *Server) dtmfREST(w http.ResponseWriter, r *http.Request, _ *userRec) {
	var in struct {
		Digit string `json:"digit"`
		AppID string `json:"app_id"`
	}
	c := s.control(w, r, &in, func() string { return in.AppID })
	if c == nil {
		return
	}
	var d rune
	if len(in.Digit) > 1 {
		d = rune(in.Digit[0])
	}
	s.mu.Lock()
	c.digits = append(c.digits, d)
	s.mu.Unlock()
	writeJSON(w, map[string]any{})
}

func (s *Server) transferREST(w http.ResponseWriter, r *http.Request, _ *userRec) {
	var in struct {
		Destination string `json:"destination"`
		AppID       string `json:"app_id"`
	}
	c := s.control(w, r, &in, func() string { return in.AppID })
	if c == nil {
		return
	}
	if in.Destination == "" {
		writeError(w, http.StatusBadRequest, "api.process.bad_args", "destination is required")
		return
	}
	s.mu.Lock()
	c.transferred = in.Destination
	s.mu.Unlock()
	writeJSON(w, map[string]any{})
}

// eavesdropREST starts a listening leg and answers its id; it is not a
// placed call.
func (s *Server) eavesdropREST(w http.ResponseWriter, r *http.Request, _ *userRec) {
	var in map[string]any
	if c := s.control(w, r, &in, func() string { return "" }); c != nil {
		writeJSON(w, map[string]string{"id": newUUID()})
	}
}

// Digits returns the DTMF digits a live call received, oldest first; a
// NUL stands for the engine's dropped single digit over REST.
func (s *Server) Digits(callID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.calls[callID]; c != nil {
		return string(c.digits)
	}
	return ""
}

// Transferred returns where a live call was blind-transferred, or "".
func (s *Server) Transferred(callID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.calls[callID]; c != nil {
		return c.transferred
	}
	return ""
}

// parties are the call's from and to Endpoints, relative to its user.
func (s *Server) parties(c *callRec) (from, to map[string]any) {
	user := map[string]any{"type": "user", "number": c.user.Extension, "name": c.user.Name, "id": id64(c.user.ID)}
	dest := map[string]any{"type": "dest", "number": c.other, "name": c.other, "id": ""}
	if c.direction == "inbound" {
		return dest, user
	}
	return user, dest
}

func (s *Server) destination(c *callRec) string {
	if c.direction == "inbound" {
		return c.user.Extension
	}
	return c.other
}

// callFrame is a call event as the engine wraps it (engine model/call.go):
// timestamp, domain_id and user_id as strings.
func callFrame(c *callRec, event string, data map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"call": map[string]any{
		"id": c.id, "event": event, "timestamp": ms(time.Now()), "domain_id": id64(domainID),
		"user_id": id64(c.user.ID), "app_id": c.appID, "data": data,
	}})
	return b
}

// emit sends a call event to the sockets of the call's user. Every
// sub-event's data carries user_id as a number: mod_grpc's BaseCallEvent
// adds it whenever the leg has a user (mod_grpc src/Call.h).
func (s *Server) emit(c *callRec, event string, data map[string]any) {
	data["user_id"] = c.user.ID
	s.toUser(c.user.ID, "call", callFrame(c, event, data), true)
}

// ring sends ringing (mod_grpc src/Call.h's fields).
func (s *Server) ring(c *callRec) {
	from, to := s.parties(c)
	s.emit(c, "ringing", map[string]any{
		"sip_id": newHex(8), "direction": c.direction, "destination": s.destination(c),
		"from": from, "to": to, "payload": c.payload,
	})
}

// Incoming rings the user with ext from the number from (an inbound
// ringing to their sockets) and returns the leg's id, or "" when no user
// has ext.
func (s *Server) Incoming(ext, from string) string {
	s.mu.Lock()
	u := s.userByExtLocked(ext)
	var c *callRec
	if u != nil {
		c = s.newCallLocked(u, "inbound", from, nil)
	}
	s.mu.Unlock()
	if c == nil {
		return ""
	}
	s.ring(c)
	return c.id
}

// Answer answers a ringing leg: active (the user picked up, or the
// auto-answer of a click-to-call), then bridge (the other party is
// connected). On a leg answered already it sends bridge only.
func (s *Server) Answer(callID string) bool {
	s.mu.Lock()
	c := s.calls[callID]
	first, bridgedID := false, newUUID()
	if c != nil {
		now := time.Now()
		first = c.answered.IsZero()
		if first {
			c.answered = now
		}
		c.bridged, c.bridgedID, c.state = now, bridgedID, "active"
	}
	s.mu.Unlock()
	if c == nil {
		return false
	}
	if first {
		s.emit(c, "active", map[string]any{})
	}
	_, to := s.parties(c)
	if c.direction == "inbound" {
		to = map[string]any{"type": "dest", "number": c.other, "name": c.other, "id": ""}
	}
	s.emit(c, "bridge", map[string]any{"bridged_id": bridgedID, "to": to, "direction": c.direction,
		"payload": c.payload})
	return true
}

// Hold puts a live leg on hold: a hold event.
func (s *Server) Hold(callID string) bool {
	s.mu.Lock()
	c := s.calls[callID]
	if c != nil && c.state != "hold" {
		c.state, c.heldAt = "hold", time.Now()
	}
	s.mu.Unlock()
	if c != nil {
		s.emit(c, "hold", map[string]any{})
	}
	return c != nil
}

// unhold resumes a held leg: an active event (there is no unhold event).
func (s *Server) unhold(callID string) bool {
	s.mu.Lock()
	c := s.calls[callID]
	if c != nil && c.state == "hold" {
		c.holdSec += int(time.Since(c.heldAt) / time.Second)
		c.state = "active"
	}
	s.mu.Unlock()
	if c != nil {
		s.emit(c, "active", map[string]any{})
	}
	return c != nil
}

// Hangup ends a live leg with cause ("" is NORMAL_CLEARING), hung up by
// the other party: a hangup event, and a history record, with a recording
// when the leg was answered.
func (s *Server) Hangup(callID string, cause string) bool {
	return s.hangup(callID, cause, "B")
}

func (s *Server) hangup(callID, cause, by string) bool {
	if cause == "" {
		cause = "NORMAL_CLEARING"
	}
	end := time.Now()
	s.mu.Lock()
	c := s.calls[callID]
	delete(s.calls, callID)
	var answered time.Time
	if c != nil {
		answered = c.answered
	}
	s.mu.Unlock()
	if c == nil {
		return false
	}
	talk := 0
	data := map[string]any{
		// mod_grpc sends 200 when it knows no SIP code: answered or not.
		"cause": cause, "sip": 200, "hangup_by": by, "hangup_phrase": "", "payload": c.payload,
		"originate_success": !answered.IsZero(),
	}
	if !answered.IsZero() {
		talk = int(end.Sub(answered) / time.Second)
		data["record_start"], data["record_stop"] = ms(answered), ms(end)
	}
	data["talk_sec"] = strconv.Itoa(talk)
	s.record(c, cause, by, end)
	s.emit(c, "hangup", data)
	return true
}
