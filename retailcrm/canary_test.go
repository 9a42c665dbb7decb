package retailcrm_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/retailcrm"
)

// The canary key and module clientId must never be seen in an error or a
// log line, the Debug lines with request bodies included.
const (
	canaryKey         = "c4n4ry-RETAILCRM-ap1k3y-0123456789"
	canaryClientID    = "c4n4ry-cl13nt1d-9f8e7d6c5b4a"
	canaryOddClientID = `c4n4ry/0dd+"cl13nt"=1d&<9f8e>`
)

// TestCanaryNeverLeaks provokes every kind of failure from servers that
// echo what they got, and looks for the key and the clientId in error
// strings and in the Debug log.
func TestCanaryNeverLeaks(t *testing.T) {
	t.Parallel()
	echo := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"success":false,"errorMsg":"bad key ` + r.Header.Get("X-API-KEY") + `","errors":{"body":` +
				quote(string(body)) + `,"clientId":"` + canaryClientID + `","apiKey":"` + canaryKey + `"}}`))
		}
	}
	handlers := map[string]http.HandlerFunc{
		"403 echo":  echo(http.StatusForbidden),
		"400 echo":  echo(http.StatusBadRequest),
		"200 echo":  echo(http.StatusOK),
		"503 echo":  echo(http.StatusServiceUnavailable),
		"reset":     faults["reset"],
		"slow":      faults["slow"],
		"truncated": faults["truncated"],
		"html":      reply(http.StatusNotFound, "<html>"+canaryKey+canaryClientID+"</html>"),
		"module answer": reply(http.StatusOK, `{"success":true,"integrationModule":{"code":"acme","clientId":"`+canaryClientID+
			`","active":"neither"}}`),
		// The secrets across the cut of the body excerpt (512), and base64-encoded.
		"long text":   reply(http.StatusBadGateway, strings.Repeat("x", 500)+canaryKey+canaryClientID),
		"base64 echo": reply(http.StatusInternalServerError, base64.StdEncoding.EncodeToString([]byte(canaryKey+" "+canaryClientID))),
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			logs := &testutil.Logs{}
			s := newStub(t, h)
			c, err := retailcrm.New(s.URL+"/?apiKey="+canaryKey, canaryKey, fastRetries, noLimit, retailcrm.WithLogger(logs.Logger()),
				retailcrm.WithHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}))
			require.NoError(t, err)
			ctx := t.Context()
			var errs []error
			_, err = c.EditIntegrationModule(ctx, "acme", retailcrm.IntegrationModule{ClientID: canaryClientID, Active: true,
				Telephony: &retailcrm.Telephony{MakeCallURL: "https://pbx.example/cb?clientId=" + canaryClientID}})
			errs = append(errs, err)
			// A clientId with characters that JSON and the form both escape.
			_, err = c.EditIntegrationModule(ctx, "acme", retailcrm.IntegrationModule{ClientID: canaryOddClientID})
			errs = append(errs, err)
			_, err = c.IntegrationModule(ctx, "acme")
			errs = append(errs, err)
			_, err = c.UploadCalls(ctx, records(2))
			errs = append(errs, err)
			_, err = c.SendCallEvent(ctx, retailcrm.CallEvent{Phone: "1", Type: retailcrm.EventIn})
			errs = append(errs, err)
			_, err = c.ResponsibleManager(ctx, retailcrm.ManagerQuery{Phone: "1"})
			errs = append(errs, err)
			texts := []string{logs.String()}
			for i, err := range errs {
				if name == "module answer" && i != 2 {
					// A success for all but the read of the module, whose
					// answer does not decode.
					continue
				}
				require.Error(t, err)
				texts = append(texts, testutil.ErrorTexts(err)...)
			}
			if name == "200 echo" {
				assert.Contains(t, logs.String(), "request_body", "the Debug lines carry the bodies")
			}
			testutil.NoSecret(t, canaryKey, texts...)
			testutil.NoSecret(t, canaryClientID, texts...)
			testutil.NoSecret(t, canaryOddClientID, texts...)
		})
	}
	_, err := retailcrm.New("ftp://"+canaryKey+"@x/", canaryKey)
	require.Error(t, err)
	testutil.NoSecret(t, canaryKey, err.Error())
}

// TestCanaryModuleReadFirst reads a module whose answer holds the
// clientId, before the client has sent it: an answer that does not decode,
// then one that does and a failure that echoes it.
func TestCanaryModuleReadFirst(t *testing.T) {
	t.Parallel()
	module := `{"success":true,"integrationModule":{"code":"acme","clientId":"` + canaryClientID + `"`
	s := newStub(t, sequence(
		reply(http.StatusOK, module+`,"active":"neither"}}`),
		reply(http.StatusOK, module+`}}`),
		reply(http.StatusBadRequest, `{"success":false,"errorMsg":"clientId `+canaryClientID+` is taken"}`)))
	logs := &testutil.Logs{}
	c := s.client(t, retailcrm.WithLogger(logs.Logger()))
	_, err := c.IntegrationModule(t.Context(), "acme")
	require.Error(t, err)
	texts := testutil.ErrorTexts(err)
	m, err := c.IntegrationModule(t.Context(), "acme")
	require.NoError(t, err)
	assert.Equal(t, canaryClientID, m.ClientID, "the caller gets it")
	_, err = c.IntegrationModule(t.Context(), "acme")
	require.Error(t, err)
	texts = append(append(texts, testutil.ErrorTexts(err)...), logs.String())
	testutil.NoSecret(t, canaryClientID, texts...)
}

// TestCanaryCallbackClientID sends the callback handler requests it refuses
// and requests whose functions fail quoting the clientId, and looks for it
// in the replies and the log.
func TestCanaryCallbackClientID(t *testing.T) {
	t.Parallel()
	logs := &testutil.Logs{}
	failing := errors.New("PBX refused client " + canaryClientID)
	h, err := retailcrm.NewCallbackHandler(retailcrm.CallbackConfig{
		ClientID: canaryClientID, Logger: logs.Logger(),
		MakeCall: func(_ context.Context, r retailcrm.MakeCallRequest) error {
			return errors.New("failed for " + r.ClientID)
		},
		ChangeStatus: func(context.Context, retailcrm.StatusChange) error { return failing },
		Recording: func(_ context.Context, r retailcrm.RecordingRequest) (io.ReadCloser, string, error) {
			return io.NopCloser(&failingReader{err: errors.New("cut " + r.ClientID)}), "audio/mpeg", nil
		},
	})
	require.NoError(t, err)
	var texts []string
	for _, target := range []string{
		"/cb?phone=1", "/cb?phone=1&clientId=c4n4ry-cl13nt1d", "/cb?phone=1&clientId=" + canaryClientID + "x",
		"/cb?phone=1&clientId=" + canaryClientID + "&clientId=" + canaryClientID,
		"/cb?phone=1&userId=x&clientId=" + canaryClientID,
		"/cb?phone=1&clientId=" + canaryClientID,
		"/cb?status=busy&clientId=" + canaryClientID,
		"/rec.mp3?clientId=" + canaryClientID,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if !strings.HasPrefix(target, "/rec") {
			assert.NotEqual(t, http.StatusOK, rec.Code, target)
		}
		texts = append(texts, rec.Body.String())
	}
	_, err = retailcrm.NewCallbackHandler(retailcrm.CallbackConfig{ClientID: canaryClientID})
	require.Error(t, err)
	texts = append(texts, err.Error(), logs.String())
	require.Contains(t, logs.String(), "webhook rejected", "the refusals were logged")
	testutil.NoSecret(t, canaryClientID, texts...)
}

// failingReader fails after a few bytes, as a recording cut short.
type failingReader struct {
	n   int
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		return 0, r.err
	}
	r.n = copy(p, "ID3")
	return r.n, nil
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
