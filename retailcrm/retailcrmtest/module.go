package retailcrmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// module is an integration module as last edited: the JSON as sent, and
// what the server reads from it.
type module struct {
	raw       json.RawMessage // compacted
	clientID  string
	active    bool
	telephony bool // integrations.telephony is present
	makeCall  string
	status    string
	codes     []extension // additionalCodes, in order
}

// extension is one additionalCodes entry: a user and their PBX code.
type extension struct {
	userID int64
	code   string
}

// Module returns the integration module code as last edited, the JSON of
// the integrationModule form field as sent (compacted), and whether there
// is one.
func (s *Server) Module(code string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.modules[code]
	if !ok {
		return nil, false
	}
	return slices.Clone(m.raw), true
}

// AddSite adds a store code, so that externalPhones may name it.
func (s *Server) AddSite(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.sites, code) {
		s.sites = append(s.sites, code)
	}
}

// editModule creates or replaces the module code: 201 when it is new, 200
// when it existed, with info listing the additionalCodes users and the
// externalPhones stores the account does not have.
func (s *Server) editModule(w http.ResponseWriter, r *http.Request, code string) {
	text, ok := r.PostForm["integrationModule"]
	if !ok {
		missingParameter(w, "integrationModule")
		return
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text[0]), &top); err != nil || top == nil {
		s.writeInvalid(w, http.StatusBadRequest, MsgInputErrors,
			[]fieldError{{"integrationModule", "This value should be valid JSON."}})
		return
	}
	s.mu.Lock()
	_, exists := s.modules[code]
	s.mu.Unlock()
	m, errs := readModule(top, code, exists)
	if len(errs) > 0 {
		s.writeInvalid(w, http.StatusBadRequest, MsgEntityErrors, errs)
		return
	}
	var buf bytes.Buffer
	_ = json.Compact(&buf, []byte(text[0])) // valid: it was decoded above
	m.raw = buf.Bytes()

	info := map[string]any{}
	s.mu.Lock()
	var users []int64
	for _, e := range m.codes {
		if !slices.ContainsFunc(s.users, func(u User) bool { return u.ID == e.userID }) && !slices.Contains(users, e.userID) {
			users = append(users, e.userID)
		}
	}
	var sites []string
	for _, site := range externalSites(top) {
		if !slices.Contains(s.sites, site) && !slices.Contains(sites, site) {
			sites = append(sites, site)
		}
	}
	s.modules[code] = m
	s.lastModule = code
	s.mu.Unlock()
	if len(users) > 0 {
		info["notExistUsersIds"] = users
	}
	if len(sites) > 0 {
		info["notExistSiteCodes"] = sites
	}
	status := http.StatusOK
	if !exists {
		status = http.StatusCreated
	}
	if len(info) == 0 {
		// PHP's empty array, as api-client-php's IntegrationTests
		// testPaymentEdit fixture answers.
		writeJSON(w, status, map[string]any{"success": true, "info": []any{}})
		return
	}
	writeJSON(w, status, map[string]any{"success": true, "info": info})
}

// getModule answers {"success":true,"integrationModule":{…}}: the module
// as edited, without clientId (api-client-php's testGet fixture shows
// none), with integrationCode, freeze and native filled in when missing.
func (s *Server) getModule(w http.ResponseWriter, code string) {
	s.mu.Lock()
	m, ok := s.modules[code]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, MsgNotFound, nil)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(m.raw))
	dec.UseNumber()
	var out map[string]any
	_ = dec.Decode(&out) // stored after a successful decode
	delete(out, "clientId")
	if _, ok := out["code"]; !ok {
		out["code"] = code
	}
	if _, ok := out["integrationCode"]; !ok {
		out["integrationCode"] = code
	}
	for _, k := range []string{"active", "freeze", "native"} {
		if _, ok := out[k]; !ok {
			out[k] = false
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "integrationModule": out})
}

// readModule checks a module's JSON and reads what the server uses from it.
// clientId is required when the module is created.
func readModule(top map[string]json.RawMessage, code string, exists bool) (*module, []fieldError) {
	m := &module{}
	var errs []fieldError
	bad := func(field, msg string) { errs = append(errs, fieldError{field, msg}) }
	str := func(obj map[string]json.RawMessage, key, path string) string {
		raw, ok := obj[key]
		if !ok || string(raw) == "null" {
			return ""
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			bad(path, "This value should be of type string.")
		}
		return v
	}
	flag := func(obj map[string]json.RawMessage, key, path string) bool {
		raw, ok := obj[key]
		if !ok {
			return false
		}
		var v bool
		if json.Unmarshal(raw, &v) != nil {
			bad(path, "This value should be of type bool.")
		}
		return v
	}
	if c := str(top, "code", "code"); c != "" && c != code {
		bad("code", "The code in the module differs from the code in the path.")
	}
	m.clientID = str(top, "clientId", "clientId")
	if m.clientID == "" && !exists {
		bad("clientId", "This value should not be blank.")
	}
	for _, k := range []string{"integrationCode", "name", "logo", "baseUrl", "accountUrl"} {
		str(top, k, k)
	}
	m.active = flag(top, "active", "active")
	var integrations map[string]json.RawMessage
	if raw, ok := top["integrations"]; ok && json.Unmarshal(raw, &integrations) != nil {
		bad("integrations", "This value should be of type object.")
	}
	raw, ok := integrations["telephony"]
	if !ok {
		return m, errs
	}
	var tel map[string]json.RawMessage
	if json.Unmarshal(raw, &tel) != nil || tel == nil {
		bad("integrations.telephony", "This value should be of type object.")
		return m, errs
	}
	m.telephony = true
	const tp = "integrations.telephony."
	m.makeCall = str(tel, "makeCallUrl", tp+"makeCallUrl")
	m.status = str(tel, "changeUserStatusUrl", tp+"changeUserStatusUrl")
	for _, k := range []string{"allowEdit", "inputEventSupported", "outputEventSupported", "hangupEventSupported"} {
		flag(tel, k, tp+k)
	}
	var codes []map[string]json.RawMessage
	if raw, ok := tel["additionalCodes"]; ok && json.Unmarshal(raw, &codes) != nil {
		bad(tp+"additionalCodes", "This value should be of type array.")
	}
	for i, c := range codes {
		path := fmt.Sprintf("%sadditionalCodes[%d].", tp, i)
		id, okID := readID(c["userId"])
		if !okID || id <= 0 {
			bad(path+"userId", "This value should be of type int.")
		}
		ext, okCode := readCode(c["code"])
		if !okCode || ext == "" {
			bad(path+"code", "This value should not be blank.")
		}
		if okID && okCode {
			m.codes = append(m.codes, extension{id, ext})
		}
	}
	var phones []map[string]json.RawMessage
	if raw, ok := tel["externalPhones"]; ok && json.Unmarshal(raw, &phones) != nil {
		bad(tp+"externalPhones", "This value should be of type array.")
	}
	for i, p := range phones {
		path := fmt.Sprintf("%sexternalPhones[%d].", tp, i)
		if str(p, "siteCode", path+"siteCode") == "" {
			bad(path+"siteCode", "This value should not be blank.")
		}
		if str(p, "externalPhone", path+"externalPhone") == "" {
			bad(path+"externalPhone", "This value should not be blank.")
		}
	}
	return m, errs
}

// externalSites lists the siteCodes of a checked module's externalPhones.
func externalSites(top map[string]json.RawMessage) []string {
	var v struct {
		Telephony struct {
			ExternalPhones []struct {
				SiteCode string `json:"siteCode"`
			} `json:"externalPhones"`
		} `json:"telephony"`
	}
	_ = json.Unmarshal(top["integrations"], &v)
	var out []string
	for _, p := range v.Telephony.ExternalPhones {
		out = append(out, p.SiteCode)
	}
	return out
}

// readID reads an id sent as a JSON integer or as a string of digits: the
// seed article sends "userId":"1", api-client-php an int.
func readID(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, false
	}
	text := string(raw)
	if raw[0] == '"' {
		if json.Unmarshal(raw, &text) != nil {
			return 0, false
		}
		text = strings.TrimSpace(text)
	}
	n, err := strconv.ParseInt(text, 10, 64)
	return n, err == nil
}

// readCode reads an extension code sent as a string or as a JSON integer
// (the seed article sends "code":100).
func readCode(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	if raw[0] == '"' {
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return "", false
		}
		return strings.TrimSpace(v), true
	}
	if _, err := strconv.ParseUint(string(raw), 10, 64); err != nil {
		return "", false
	}
	return string(raw), true
}

// telephonyModule returns the module that takes telephony requests: the
// last edited, if it is active and has integrations.telephony, or else any
// other such. The caller holds s.mu.
func (s *Server) telephonyModule() *module {
	if m := s.modules[s.lastModule]; m != nil && m.active && m.telephony {
		return m
	}
	for _, m := range s.modules {
		if m.active && m.telephony {
			return m
		}
	}
	return nil
}

// codeOf returns the extension code of a user: the module's additionalCodes
// first, then the user's own. The caller holds s.mu.
func (s *Server) codeOf(m *module, userID int64) string {
	if m != nil {
		for _, e := range m.codes {
			if e.userID == userID {
				return e.code
			}
		}
	}
	if i := slices.IndexFunc(s.users, func(u User) bool { return u.ID == userID }); i >= 0 {
		return s.users[i].Code
	}
	return ""
}
