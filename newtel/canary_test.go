package newtel_test

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/voip"
)

// The canary keys must never be seen in an error or a log line. The token
// starts with the access key, so a leaked Authorization header shows it.
const (
	canaryAccess = "c4a7a12ccc4a7a12ccc4a7a12ccc4a7a12ccc4a7a12ccc4a"
	canarySign   = "5e5e5e5e0c4a7a125e5e5e5e0c4a7a125e5e5e5e0c4a7a12"
)

// TestCanaryKeysNeverLeak provokes every kind of failure, including a server
// that echoes the request and its token, and looks for either key in error
// strings and the debug log.
func TestCanaryKeysNeverLeak(t *testing.T) {
	t.Parallel()
	echo := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Signature", r.Header.Get("Authorization")[len("Bearer "):])
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"status":"error","message":"bad token ` + r.Header.Get("Authorization") + ` for ` + canarySign + `","body":` + string(body) + `}`))
		}
	}
	handlers := map[string]http.HandlerFunc{
		"401 echo": echo(http.StatusUnauthorized),
		"200 echo": echo(http.StatusOK),
		"502 text echo": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "bad gateway for "+r.Header.Get("Authorization"), http.StatusBadGateway)
		},
		"signed success echo": func(w http.ResponseWriter, r *http.Request) {
			// A Signature header that is the request's token: wrong, and
			// full of the access key.
			w.Header().Set("Signature", r.Header.Get("Authorization"))
			_, _ = w.Write([]byte(`{"status":"success","data":{"result":"success","state":{}}}`))
		},
		"reset":     faults["reset"],
		"slow":      faults["slow"],
		"truncated": faults["truncated"],
		"html":      reply(http.StatusOK, "<html>"+canaryAccess+"</html>"),
		// The keys across the cut of the message (200 bytes) and of the
		// body excerpt (512), and base64-encoded.
		"long text echo": reply(http.StatusBadRequest, strings.Repeat("x", 180)+canaryAccess),
		"long json echo": reply(http.StatusBadRequest, `{"status":"error","message":"`+strings.Repeat("x", 180)+canarySign+`"}`),
		"long html echo": reply(http.StatusOK, "<html>"+strings.Repeat("x", 490)+canaryAccess+"</html>"),
		"base64 echo":    reply(http.StatusInternalServerError, base64.StdEncoding.EncodeToString([]byte("Bearer "+canaryAccess))),
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			logs := &testutil.Logs{}
			s := newStub(t, h)
			// The key is in the base URL's query too, as a careless user might put it.
			c, err := newtel.New(canaryAccess, canarySign, newtel.WithBaseURL(s.URL+"/?key="+canaryAccess), fastRetries,
				newtel.WithLogger(logs.Logger()), newtel.WithHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}))
			require.NoError(t, err)
			ctx := t.Context()
			var errs []error
			_, err = c.CompanyState(ctx)
			errs = append(errs, err)
			_, err = c.StartSimpleCall(ctx, newtel.SimpleCallRequest{SrcNumber: "100", DstNumber: "79161234567"})
			errs = append(errs, err)
			_, err = c.WidgetConfig(ctx, "100")
			errs = append(errs, err)
			errs = append(errs, c.Call(ctx, newtel.MethodPasswordCallStatus, map[string]string{"callId": canarySign}, nil))
			texts := []string{logs.String()}
			for _, err := range errs {
				if name == "signed success echo" {
					// A bad signature is accepted by default and logged;
					// the log is checked below, and any error too.
					if err != nil {
						texts = append(texts, testutil.ErrorTexts(err)...)
					}
					continue
				}
				require.Error(t, err)
				texts = append(texts, testutil.ErrorTexts(err)...)
			}
			testutil.NoSecret(t, canaryAccess, texts...)
			testutil.NoSecret(t, canarySign, texts...)
		})
	}
	_, err := newtel.New(canaryAccess, canarySign, newtel.WithBaseURL("ftp://"+canaryAccess+"@x/"))
	require.Error(t, err)
	testutil.NoSecret(t, canaryAccess, err.Error())
}

// The canary secrets of the handlers: the webhook signing key and the
// callbackLink token.
const (
	canaryWebhookKey = "c4a7a12c-w3bh00k-k3y-c4a7a12c"
	canaryToken      = "c4a7a12c-c4llb4ck-t0k3n-c4a7a12c"
)

// TestCanaryHandlerSecretsNeverLeak sends the handlers every kind of
// request they refuse or fail, and looks for the webhook key and the
// callback token in their construction errors, replies and log lines.
func TestCanaryHandlerSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	logs := &testutil.Logs{}
	failing := func(context.Context, voip.Update) error { return errors.New("the CRM failed") }
	webhooks, err := newtel.NewWebhookHandler(newtel.WebhookConfig{Key: canaryWebhookKey, Update: failing, Logger: logs.Logger()})
	require.NoError(t, err)
	calls := 0
	callbacks, err := newtel.NewCallbackHandler(newtel.CallbackConfig{Token: canaryToken, Logger: logs.Logger(),
		Callback: func(context.Context, *newtel.Callback) error { calls++; return errors.New("the CRM failed") }})
	require.NoError(t, err)

	var texts []string
	send := func(h http.Handler, target, body string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, target, strings.NewReader(body)))
		texts = append(texts, rec.Body.String())
	}
	data := `{"vpbxId":"1","time":1758190000}`
	sig := func(key string) string {
		sum := sha1.Sum([]byte("inboundCallStart\n" + data + "\n" + key))
		return hex.EncodeToString(sum[:])
	}
	for _, body := range []string{
		`{"event":"inboundCallStart","signature":"` + sig("wrong") + `","data":` + data + `}`,
		`{"event":"inboundCallStart","signature":"` + sig(canaryWebhookKey) + `","data":` + data + `}`, // verifies; Update fails
		`{"event":"inboundCallStart","data":` + data + `}`,
		`{"event":`,
	} {
		send(webhooks, "/newtel/webhook", body)
	}
	for _, target := range []string{
		"/cb", "/cb?token=", "/cb?token=c4a7a12c", "/cb?token=" + canaryToken + "x",
		"/cb?token=" + canaryToken + "&token=" + canaryToken,
		"/cb?token=" + canaryToken, // passes the check; the body is refused
	} {
		send(callbacks, target, `{"no":"callId"}`)
	}
	send(callbacks, "/cb?token="+canaryToken, `{"callId":"1"}`) // Callback fails
	require.Equal(t, 1, calls, "only the last callback reached Callback")

	_, err = newtel.NewWebhookHandler(newtel.WebhookConfig{Key: canaryWebhookKey})
	require.Error(t, err)
	texts = append(texts, err.Error())
	_, err = newtel.NewCallbackHandler(newtel.CallbackConfig{Token: canaryToken})
	require.Error(t, err)
	texts = append(texts, err.Error())

	texts = append(texts, logs.String())
	require.Contains(t, logs.String(), "webhook rejected", "the refusals were logged")
	testutil.NoSecret(t, canaryWebhookKey, texts...)
	testutil.NoSecret(t, canaryToken, texts...)
}
