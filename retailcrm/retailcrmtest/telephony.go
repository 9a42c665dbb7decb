package retailcrmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The user statuses of retailCRM (api-client-php Enum/Users/UserStatus).
const (
	StatusFree   = "free"
	StatusBusy   = "busy"
	StatusDinner = "dinner"
	StatusBreak  = "break"
)

// User is a CRM user (a manager). Code is the user's extension; an edited
// module's additionalCodes override it.
type User struct {
	ID                                           int64
	FirstName, LastName, Patronymic, Email, Code string
	Status                                       string // StatusFree, StatusBusy, StatusDinner or StatusBreak
}

// Customer is a CRM customer; ManagerID is the responsible user's id.
type Customer struct {
	ID                                                 int64
	ExternalID, FirstName, LastName, Patronymic, Email string
	Phones                                             []string
	ManagerID                                          int64
}

// AddUser adds a user, or replaces the one with the same ID.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.IndexFunc(s.users, func(v User) bool { return v.ID == u.ID }); i >= 0 {
		s.users[i] = u
		return
	}
	s.users = append(s.users, u)
}

// Users returns the users, by order of addition.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.users)
}

// AddCustomer adds a customer, or replaces the one with the same ID.
func (s *Server) AddCustomer(c Customer) {
	c.Phones = slices.Clone(c.Phones)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.IndexFunc(s.customers, func(v Customer) bool { return v.ID == c.ID }); i >= 0 {
		s.customers[i] = c
		return
	}
	s.customers = append(s.customers, c)
}

// Calls returns the uploaded calls, each as sent, deduplicated on
// externalId, in order of arrival.
func (s *Server) Calls() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneRaw(s.calls)
}

// Events returns the call events received, each as sent, in order of
// arrival.
func (s *Server) Events() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneRaw(s.events)
}

// RejectCall makes every upload of the call with this externalId fail
// with message, as a call the CRM cannot store; the rest of its upload is
// stored.
func (s *Server) RejectCall(externalID, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects[externalID] = message
}

func cloneRaw(in []json.RawMessage) []json.RawMessage {
	out := make([]json.RawMessage, len(in))
	for i, r := range in {
		out[i] = slices.Clone(r)
	}
	return out
}

// The values the server accepts (api-client-php Enum/Telephony).
var (
	callTypes     = []string{"in", "out"}
	callResults   = []string{"answered", "busy", "failed", "no answer", "not allowed", "unknown"}
	eventTypes    = []string{"in", "out", "hangup"}
	hangupResults = []string{"answered", "busy", "cancel", "failed", "no answered"}
)

// dateLayout is the Y-m-d H:i:s of api-client-php's Call.date.
const dateLayout = "2006-01-02 15:04:05"

// uploadCalls stores the calls of calls=[…] that are valid and new.
//
// The answer is {"success":true,"processedCallsCount":n} with
// "duplicateCalls":[externalId…] when some were stored before (or twice in
// the request), n counting the calls stored by this request. When some
// calls are refused, it is 460 (some stored) or 400 (none) with errorMsg
// MsgCallsWithErrors, errors naming each refused call by its index
// ("calls[3].date"), and the same counts.
func (s *Server) uploadCalls(w http.ResponseWriter, r *http.Request) {
	text, ok := r.PostForm["calls"]
	if !ok {
		missingParameter(w, "calls")
		return
	}
	var calls []json.RawMessage
	if err := json.Unmarshal([]byte(text[0]), &calls); err != nil {
		s.writeInvalid(w, http.StatusBadRequest, MsgInputErrors, []fieldError{{"calls", "This value should be a valid JSON array."}})
		return
	}
	if len(calls) > MaxCallsPerUpload {
		s.writeInvalid(w, http.StatusBadRequest, MsgInputErrors,
			[]fieldError{{"calls", fmt.Sprintf("This collection should contain %d elements or less.", MaxCallsPerUpload)}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.telephonyModule() == nil {
		writeError(w, http.StatusBadRequest, MsgNoCallsUpload, nil)
		return
	}
	var errs []fieldError
	duplicates := []string{}
	stored := 0
	for i, raw := range calls {
		id, callErrs := readCall(raw, i)
		if msg, ok := s.rejects[id]; ok && id != "" && len(callErrs) == 0 {
			callErrs = append(callErrs, fieldError{fmt.Sprintf("calls[%d]", i), msg})
		}
		if len(callErrs) > 0 {
			errs = append(errs, callErrs...)
			continue
		}
		if id != "" && s.callIDs[id] {
			duplicates = append(duplicates, id)
			continue
		}
		if id != "" {
			s.callIDs[id] = true
		}
		var buf bytes.Buffer
		_ = json.Compact(&buf, raw)
		s.calls = append(s.calls, buf.Bytes())
		stored++
	}
	counts := map[string]any{"processedCallsCount": stored}
	if len(duplicates) > 0 {
		counts["duplicateCalls"] = duplicates
	}
	if len(errs) == 0 {
		counts["success"] = true
		writeJSON(w, http.StatusOK, counts)
		return
	}
	status := 460
	if stored == 0 {
		status = http.StatusBadRequest
	}
	list := s.errorsList
	writeJSON(w, status, envelope(MsgCallsWithErrors, errs, list, counts))
}

// readCall checks one uploaded call and returns its externalId.
func readCall(raw json.RawMessage, i int) (string, []fieldError) {
	path := fmt.Sprintf("calls[%d].", i)
	var c map[string]json.RawMessage
	if json.Unmarshal(raw, &c) != nil || c == nil {
		return "", []fieldError{{fmt.Sprintf("calls[%d]", i), "This value should be of type object."}}
	}
	var errs []fieldError
	bad := func(field, msg string) { errs = append(errs, fieldError{path + field, msg}) }
	str := func(key string) string {
		raw, ok := c[key]
		if !ok || string(raw) == "null" {
			return ""
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			bad(key, "This value should be of type string.")
		}
		return v
	}
	if d := str("date"); d == "" {
		bad("date", "This value should not be blank.")
	} else if _, err := time.Parse(dateLayout, d); err != nil {
		bad("date", "This value is not a valid datetime.")
	}
	if t := str("type"); !slices.Contains(callTypes, t) {
		bad("type", "The value you selected is not a valid choice.")
	}
	if str("phone") == "" {
		bad("phone", "This value should not be blank.")
	}
	if res := str("result"); res != "" && !slices.Contains(callResults, res) {
		bad("result", "The value you selected is not a valid choice.")
	}
	if raw, ok := c["userId"]; ok && string(raw) != "null" {
		if _, ok := readID(raw); !ok {
			bad("userId", "This value should be of type int.")
		}
	}
	for _, k := range []string{"duration", "durationWaiting"} {
		if raw, ok := c[k]; ok && string(raw) != "null" {
			if n, ok := readID(raw); !ok || n < 0 {
				bad(k, "This value should be a positive integer or zero.")
			}
		}
	}
	for _, k := range []string{"code", "recordUrl", "externalPhone", "site", "clientId"} {
		str(k)
	}
	return strings.TrimSpace(str("externalId")), errs
}

// callEvent takes event={…}: phone and type are required, hangupStatus
// must be a known value. The answer is {"success":true} with
// notExistCodes and notExistUsers listing the codes and user ids the
// account does not know.
func (s *Server) callEvent(w http.ResponseWriter, r *http.Request) {
	text, ok := r.PostForm["event"]
	if !ok {
		missingParameter(w, "event")
		return
	}
	var ev struct {
		Phone        *string           `json:"phone"`
		Type         string            `json:"type"`
		Codes        []json.RawMessage `json:"codes"`
		UserIDs      []json.RawMessage `json:"userIds"`
		HangupStatus string            `json:"hangupStatus"`
	}
	if err := json.Unmarshal([]byte(text[0]), &ev); err != nil {
		s.writeInvalid(w, http.StatusBadRequest, MsgInputErrors, []fieldError{{"event", "This value should be valid JSON."}})
		return
	}
	var errs []fieldError
	if ev.Phone == nil || strings.TrimSpace(*ev.Phone) == "" {
		errs = append(errs, fieldError{"phone", "This value should not be blank."})
	}
	if !slices.Contains(eventTypes, ev.Type) {
		errs = append(errs, fieldError{"type", "The value you selected is not a valid choice."})
	}
	if ev.HangupStatus != "" && !slices.Contains(hangupResults, ev.HangupStatus) {
		errs = append(errs, fieldError{"hangupStatus", "The value you selected is not a valid choice."})
	}
	codes := make([]string, 0, len(ev.Codes))
	for i, raw := range ev.Codes {
		c, ok := readCode(raw)
		if !ok {
			errs = append(errs, fieldError{fmt.Sprintf("codes[%d]", i), "This value should be of type string."})
		}
		codes = append(codes, c)
	}
	ids := make([]int64, 0, len(ev.UserIDs))
	for i, raw := range ev.UserIDs {
		id, ok := readID(raw)
		if !ok {
			errs = append(errs, fieldError{fmt.Sprintf("userIds[%d]", i), "This value should be of type int."})
		}
		ids = append(ids, id)
	}
	if len(errs) > 0 {
		s.writeInvalid(w, http.StatusBadRequest, MsgEntityErrors, errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.telephonyModule()
	if m == nil {
		writeError(w, http.StatusBadRequest, MsgNoTelephony, nil)
		return
	}
	known := map[string]bool{}
	for _, e := range m.codes {
		known[e.code] = true
	}
	for _, u := range s.users {
		if c := s.codeOf(m, u.ID); c != "" {
			known[c] = true
		}
	}
	out := map[string]any{"success": true}
	var missingCodes []string
	for _, c := range codes {
		if !known[c] && !slices.Contains(missingCodes, c) {
			missingCodes = append(missingCodes, c)
		}
	}
	var missingUsers []int64
	for _, id := range ids {
		if !slices.ContainsFunc(s.users, func(u User) bool { return u.ID == id }) && !slices.Contains(missingUsers, id) {
			missingUsers = append(missingUsers, id)
		}
	}
	if len(missingCodes) > 0 {
		out["notExistCodes"] = missingCodes
	}
	if len(missingUsers) > 0 {
		out["notExistUsers"] = missingUsers
	}
	var buf bytes.Buffer
	_ = json.Compact(&buf, []byte(text[0]))
	s.events = append(s.events, buf.Bytes())
	writeJSON(w, http.StatusOK, out)
}

// manager answers the responsible manager of the customer with phone:
// {"success":true,"manager":{…}}, and with details=1 also "customer" and
// "links". The manager is left out unless they are free (or ignoreStatus=1)
// and have an extension code, as the seed article says; the customer when
// no customer has the phone. Phones match on their last ten digits.
func (s *Server) manager(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	phone := q.Get("phone")
	if phone == "" {
		missingParameter(w, "phone")
		return
	}
	details, ignore := q.Get("details") == "1", q.Get("ignoreStatus") == "1"
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]any{"success": true}
	ci := slices.IndexFunc(s.customers, func(c Customer) bool {
		return slices.ContainsFunc(c.Phones, func(p string) bool { return samePhone(p, phone) })
	})
	links := map[string]string{"newOrderLink": s.URL + "/orders/add?phone=" + url.QueryEscape(phone)}
	if ci < 0 {
		links["newCustomerLink"] = s.URL + "/customers/add?phone=" + url.QueryEscape(phone)
	} else {
		c := s.customers[ci]
		links["customerLink"] = s.URL + "/customers/" + strconv.FormatInt(c.ID, 10)
		if ui := slices.IndexFunc(s.users, func(u User) bool { return u.ID == c.ManagerID }); ui >= 0 {
			u := s.users[ui]
			code := s.codeOf(s.telephonyModule(), u.ID)
			if code != "" && (ignore || u.Status == StatusFree) {
				out["manager"] = withStrings(map[string]any{"id": u.ID, "code": code},
					"firstName", u.FirstName, "lastName", u.LastName, "patronymic", u.Patronymic, "email", u.Email)
			}
		}
		if details {
			phones := make([]map[string]string, len(c.Phones))
			for i, p := range c.Phones {
				phones[i] = map[string]string{"number": p}
			}
			out["customer"] = withStrings(map[string]any{"id": c.ID, "phones": phones}, "externalId", c.ExternalID,
				"firstName", c.FirstName, "lastName", c.LastName, "patronymic", c.Patronymic, "email", c.Email)
		}
	}
	if details {
		out["links"] = links
	}
	writeJSON(w, http.StatusOK, out)
}

// withStrings adds the non-empty values of name, value pairs to m: the
// CRM's serializer leaves out null members.
func withStrings(m map[string]any, pairs ...string) map[string]any {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			m[pairs[i]] = pairs[i+1]
		}
	}
	return m
}

// samePhone compares two numbers on their last ten digits (all of them
// when shorter), so that +7 912…, 8 912… and 912… are one number.
func samePhone(a, b string) bool {
	da, db := digits(a), digits(b)
	if len(da) > 10 {
		da = da[len(da)-10:]
	}
	if len(db) > 10 {
		db = db[len(db)-10:]
	}
	return da != "" && da == db
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
