package voip_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
)

func serve(h http.Handler, method, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, "/hook", strings.NewReader(body)))
	return rec
}

func TestWebhookGuards(t *testing.T) {
	t.Parallel()
	var got []byte
	h := &voip.Webhook{
		MaxBody: 16,
		Serve: func(_ http.ResponseWriter, _ *http.Request, body []byte) error {
			got = body
			switch string(body) {
			case "bad-token":
				return fmt.Errorf("token: %w", voip.ErrUnverified)
			case "garbage":
				return fmt.Errorf("parse: %w", voip.ErrMalformed)
			case "custom":
				return &voip.WebhookError{Status: http.StatusUnauthorized, Message: "Invalid token"}
			case "user-fails":
				return errors.New("database is down at 10.0.0.1")
			}
			return nil
		},
	}
	cases := []struct {
		method, body string
		status       int
		reply        string
	}{
		{http.MethodGet, "", http.StatusMethodNotAllowed, `{"error":"method not allowed"}`},
		{http.MethodPost, strings.Repeat("x", 17), http.StatusRequestEntityTooLarge, `{"error":"request body too large"}`},
		{http.MethodPost, "bad-token", http.StatusUnauthorized, `{"error":"unauthorized"}`},
		{http.MethodPost, "garbage", http.StatusBadRequest, `{"error":"malformed request"}`},
		{http.MethodPost, "custom", http.StatusUnauthorized, `{"error":"Invalid token"}`},
		{http.MethodPost, "user-fails", http.StatusInternalServerError, `{"error":"internal error"}`},
		{http.MethodPost, "fine", http.StatusOK, ``},
	}
	for _, tc := range cases {
		rec := serve(h, tc.method, tc.body)
		assert.Equal(t, tc.status, rec.Code, tc.body)
		assert.Equal(t, tc.reply, strings.TrimSpace(rec.Body.String()), tc.body)
	}
	assert.Equal(t, "fine", string(got))
	rec := serve(h, http.MethodGet, "")
	assert.Equal(t, "POST", rec.Header().Get("Allow"))
	assert.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
}

func TestWebhookVendorWritesItsOwnReply(t *testing.T) {
	t.Parallel()
	h := &voip.Webhook{
		Methods: []string{http.MethodGet, http.MethodPost},
		Serve: func(w http.ResponseWriter, r *http.Request, body []byte) error {
			voip.WriteJSON(w, http.StatusOK, map[string]string{"contact_name": "Иван <ООО Ромашка>", "got": string(body)})
			return errors.New("late failure is only logged")
		},
	}
	rec := serve(h, http.MethodGet, "cmd=contact")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"contact_name":"Иван <ООО Ромашка>","got":"cmd=contact"}`, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "<ООО", "no HTML escaping")
}

func TestWebhookBodyReadError(t *testing.T) {
	t.Parallel()
	h := &voip.Webhook{Serve: func(http.ResponseWriter, *http.Request, []byte) error { return nil }}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/hook", io.MultiReader(bytes.NewReader([]byte("abc")), errReader{}))
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
}

func TestWebhookWithoutServeIs500(t *testing.T) {
	t.Parallel()
	rec := serve(&voip.Webhook{}, http.MethodPost, "x")
	require.Equal(t, http.StatusInternalServerError, rec.Code)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }
