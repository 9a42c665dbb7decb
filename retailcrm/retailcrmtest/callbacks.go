package retailcrmtest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The callbacks are sent as the seed article shows them: GET requests to
// the URLs of the module edited last, clientId first, and the phone written
// into the query as it is, so that a leading "+" arrives as a space.

// ErrNoCallbackURL is returned by the callback senders when no module was
// edited, or the module has no URL for the callback.
var ErrNoCallbackURL = errors.New("retailcrmtest: the module has no URL for this callback")

// MakeCall sends the makeCallUrl callback of the module edited last, as a
// user clicking a phone number does: GET
// {makeCallUrl}?clientId=…&code=…&phone=…&userId=…[&externalPhone=…].
// An empty code is filled in from the user's extension, a zero userID from
// the user with that code; parameters left empty are left out. phone and
// externalPhone are written as they are, "+" included, the rest escaped.
// The caller closes the response's body. client nil is
// http.DefaultClient.
func (s *Server) MakeCall(ctx context.Context, client *http.Client, code, phone string, userID int64, externalPhone string) (*http.Response, error) {
	s.mu.Lock()
	m := s.modules[s.lastModule]
	if m == nil || m.makeCall == "" {
		s.mu.Unlock()
		return nil, ErrNoCallbackURL
	}
	if code == "" && userID != 0 {
		code = s.codeOf(m, userID)
	}
	if userID == 0 && code != "" {
		userID = s.userOf(m, code)
	}
	target, clientID := m.makeCall, m.clientID
	s.mu.Unlock()
	q := []string{"clientId=" + url.QueryEscape(clientID)}
	if code != "" {
		q = append(q, "code="+url.QueryEscape(code))
	}
	q = append(q, "phone="+unescapedPlus(phone))
	if userID != 0 {
		q = append(q, "userId="+strconv.FormatInt(userID, 10))
	}
	if externalPhone != "" {
		q = append(q, "externalPhone="+unescapedPlus(externalPhone))
	}
	return get(ctx, client, withQuery(target, strings.Join(q, "&")))
}

// ChangeStatus sends the changeUserStatusUrl callback of the module edited
// last, after setting the user's status when it is one of the four: GET
// {changeUserStatusUrl}?clientId=…&code=…&userId=…&status=…. An empty code
// is filled in from the user's extension. The caller closes the response's
// body. client nil is http.DefaultClient.
func (s *Server) ChangeStatus(ctx context.Context, client *http.Client, code string, userID int64, status string) (*http.Response, error) {
	s.mu.Lock()
	m := s.modules[s.lastModule]
	if m == nil || m.status == "" {
		s.mu.Unlock()
		return nil, ErrNoCallbackURL
	}
	if code == "" {
		code = s.codeOf(m, userID)
	}
	if i := slices.IndexFunc(s.users, func(u User) bool { return u.ID == userID }); i >= 0 &&
		slices.Contains([]string{StatusFree, StatusBusy, StatusDinner, StatusBreak}, status) {
		s.users[i].Status = status
	}
	target, clientID := m.status, m.clientID
	s.mu.Unlock()
	raw := "clientId=" + url.QueryEscape(clientID) + "&code=" + url.QueryEscape(code) +
		"&userId=" + strconv.FormatInt(userID, 10) + "&status=" + url.QueryEscape(status)
	return get(ctx, client, withQuery(target, raw))
}

// FetchRecording downloads a recording as the CRM does when a user plays
// it: GET recordURL with clientId={the module's clientId} added to its
// query. recordURL may also be the externalId of an uploaded call, whose
// recordUrl is then used. The caller closes the response's body. client
// nil is http.DefaultClient.
func (s *Server) FetchRecording(ctx context.Context, client *http.Client, recordURL string) (*http.Response, error) {
	s.mu.Lock()
	m := s.modules[s.lastModule]
	var clientID string
	if m != nil {
		clientID = m.clientID
	}
	if !strings.Contains(recordURL, "://") {
		recordURL = s.recordOf(recordURL)
	}
	s.mu.Unlock()
	if m == nil || recordURL == "" {
		return nil, ErrNoCallbackURL
	}
	return get(ctx, client, withQuery(recordURL, "clientId="+url.QueryEscape(clientID)))
}

// recordOf returns the recordUrl of the uploaded call externalID. The
// caller holds s.mu.
func (s *Server) recordOf(externalID string) string {
	for _, raw := range s.calls {
		var c struct {
			ExternalID string `json:"externalId"`
			RecordURL  string `json:"recordUrl"`
		}
		if json.Unmarshal(raw, &c) == nil && c.ExternalID == externalID {
			return c.RecordURL
		}
	}
	return ""
}

// userOf returns the id of the user whose extension is code, or 0. The
// caller holds s.mu.
func (s *Server) userOf(m *module, code string) int64 {
	for _, e := range m.codes {
		if e.code == code {
			return e.userID
		}
	}
	for _, u := range s.users {
		if s.codeOf(m, u.ID) == code {
			return u.ID
		}
	}
	return 0
}

// unescapedPlus escapes v for a query as url.QueryEscape does, except "+",
// which stays as it is.
func unescapedPlus(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "%2B", "+")
}

// withQuery appends a raw query to target's own.
func withQuery(target, query string) string {
	base, frag, _ := strings.Cut(target, "#")
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
		if strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&") {
			sep = ""
		}
	}
	out := base + sep + query
	if frag != "" {
		out += "#" + frag
	}
	return out
}

func get(ctx context.Context, client *http.Client, target string) (*http.Response, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	return client.Do(req)
}
