package retailcrm_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/retailcrm"
	"github.com/pbxkit/pbxkit/voip"
)

// TestErrorClasses sends the answers of the notes and the official
// clients' fixtures and checks each error's class and text.
func TestErrorClasses(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		status      int
		contentType string
		body        string
		kind        error
		text        []string
	}{
		"wrong key":     {status: 403, body: `{"success":false,"errorMsg":"Wrong \"apiKey\" value."}`, kind: voip.ErrUnauthorized, text: []string{`Wrong "apiKey" value.`}},
		"missing key":   {status: 403, body: `{"success":false,"errorMsg":"\"apiKey\" is missing."}`, kind: voip.ErrUnauthorized, text: []string{`"apiKey" is missing.`}},
		"access denied": {status: 403, body: `{"success":false,"errorMsg":"Access denied."}`, kind: voip.ErrForbidden},
		"no account":    {status: 404, body: `{"success":false,"errorMsg":"Account does not exist."}`, kind: voip.ErrNotFound},
		"html 405":      {status: 405, contentType: "text/html", body: `<html><body>Not allowed</body></html>`, kind: voip.ErrNotFound, text: []string{"account does not exist"}},
		"rate limit":    {status: 503, body: rateLimited, kind: voip.ErrRateLimited, text: []string{"Rate limit exceeded"}},
		"429":           {status: 429, body: `{"success":false,"errorMsg":"Too many requests"}`, kind: voip.ErrRateLimited},
		"502 html":      {status: 502, contentType: "text/html", body: `<html>502 Bad Gateway</html>`, kind: voip.ErrServer},
		"500 text":      {status: 500, contentType: "text/plain", body: "Internal Server Error", kind: voip.ErrServer, text: []string{"Internal Server Error"}},
		"errors map": {status: 400, body: `{"success":false,"errorMsg":"Failed to activate module","errors":{"id":"ID must be an integer","test":"Test error"}}`,
			kind: voip.ErrBadRequest, text: []string{"Failed to activate module: id: ID must be an integer; test: Test error"}},
		"errors list": {status: 402, body: `{"success":false,"errorMsg":"Failed to activate module","errors":["Your account has insufficient funds to activate integration module","Test error"]}`,
			kind: voip.ErrBadRequest, text: []string{"Failed to activate module: Your account has insufficient funds to activate integration module; Test error"}},
		"errors odd": {status: 400, body: `{"success":false,"errorMsg":"Validation error","errors":{"calls":{"0":"bad"},"n":5}}`,
			kind: voip.ErrBadRequest, text: []string{`calls: {"0":"bad"}`, "n: 5"}},
		"200 refusal":      {status: 200, body: `{"success":false,"errorMsg":"Telephony not enabled"}`, kind: voip.ErrBadRequest, text: []string{"Telephony not enabled"}},
		"200 not json":     {status: 200, contentType: "text/html", body: `<html>login</html>`, kind: voip.ErrBadResponse},
		"200 no success":   {status: 200, body: `{"processedCallsCount":1}`, kind: voip.ErrBadResponse},
		"200 bad json":     {status: 200, body: `{"success":tru`, kind: voip.ErrBadResponse},
		"redirect":         {status: 302, body: ``, kind: voip.ErrNotFound, text: []string{"redirected"}},
		"not found method": {status: 404, body: `{"success":false,"errorMsg":"API method not found"}`, kind: voip.ErrNotFound, text: []string{"API method not found"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t, func(w http.ResponseWriter, _ *http.Request) {
				ct := tc.contentType
				if ct == "" {
					ct = "application/json"
				}
				w.Header().Set("Content-Type", ct)
				if tc.status == 302 {
					w.Header().Set("Location", "https://elsewhere.example/")
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			_, err := s.client(t, retailcrm.WithRetries(0, 1, 1)).ResponsibleManager(t.Context(), retailcrm.ManagerQuery{Phone: "1"})
			require.ErrorIs(t, err, tc.kind)
			var api *voip.APIError
			require.ErrorAs(t, err, &api)
			assert.Equal(t, tc.status, api.StatusCode)
			assert.Equal(t, retailcrm.Vendor, api.Vendor)
			for _, want := range tc.text {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

// TestErrorKeepsEveryEntry checks that a long errors list reaches the error
// text whole, past the pipeline's 200-byte cut of messages.
func TestErrorKeepsEveryEntry(t *testing.T) {
	t.Parallel()
	var entries []string
	for i := range 50 {
		entries = append(entries, fmt.Sprintf(`"calls[%d].phone":"Phone number %d is not valid"`, i, i))
	}
	s := newStub(t, reply(http.StatusBadRequest, `{"success":false,"errorMsg":"Errors in the entity format","errors":{`+strings.Join(entries, ",")+`}}`))
	_, err := s.client(t).UploadCalls(t.Context(), records(50))
	require.Error(t, err)
	for i := range 50 {
		assert.Contains(t, err.Error(), fmt.Sprintf("calls[%d].phone: Phone number %d is not valid", i, i))
	}
	var api *voip.APIError
	require.True(t, errors.As(err, &api))
	assert.True(t, strings.HasPrefix(api.Message, "Errors in the entity format: calls[0].phone"))
}
