package newtel_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/newtel"
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
						texts = append(texts, err.Error())
					}
					continue
				}
				require.Error(t, err)
				texts = append(texts, err.Error())
			}
			testutil.NoSecret(t, canaryAccess, texts...)
			testutil.NoSecret(t, canarySign, texts...)
		})
	}
	_, err := newtel.New(canaryAccess, canarySign, newtel.WithBaseURL("ftp://"+canaryAccess+"@x/"))
	require.Error(t, err)
	testutil.NoSecret(t, canaryAccess, err.Error())
}
