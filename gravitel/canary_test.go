package gravitel_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/internal/testutil"
)

// canary is a PBX key that must never be seen in an error or a log line.
const canary = "c4n4ry-GRAVITEL-S3CRET"

// TestCanaryTokenNeverLeaks provokes every kind of failure, including a PBX
// that echoes the request, and looks for the key in error strings and logs.
func TestCanaryTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	echo := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"error":"Invalid token ` + r.Form.Get("token") + `","request":"` + url.QueryEscape(r.Form.Encode()) + `"}`))
		}
	}
	handlers := map[string]http.HandlerFunc{
		"401 echo": echo(http.StatusUnauthorized),
		"200 echo": echo(http.StatusOK),
		"502 text echo": func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			http.Error(w, "bad gateway for "+r.Form.Get("token"), http.StatusBadGateway)
		},
		"reset":     faults["reset"],
		"slow":      faults["slow"],
		"truncated": faults["truncated"],
		"html":      reply(http.StatusOK, "<html>"+canary+"</html>"),
		// The key across the cut of the message (200 bytes) and of the
		// body excerpt (512), base64-encoded, and %q-quoted.
		"long text echo": reply(http.StatusBadRequest, strings.Repeat("x", 190)+canary),
		"long html echo": reply(http.StatusOK, "<html>"+strings.Repeat("x", 500)+canary+"</html>"),
		"long json echo": reply(http.StatusOK, `{"error":"`+strings.Repeat("x", 190)+canary+`"}`),
		"base64 echo":    reply(http.StatusInternalServerError, base64.StdEncoding.EncodeToString([]byte("cmd=accounts&token="+canary))),
		"quoted echo":    reply(http.StatusBadRequest, fmt.Sprintf("bad token %q", canary)),
		// A history with a header line, whose start echoes the key.
		"csv echo": func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			_, _ = w.Write([]byte("uid,type,client,account,via,start,wait,duration,record\nx,in,+7,x,+7," + r.Form.Get("token") + ",0,0,\n"))
		},
	}
	for name, h := range handlers {
		for _, enc := range []gravitel.Encoding{gravitel.EncodingForm, gravitel.EncodingJSON} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				logs := &testutil.Logs{}
				s := newStub(t, h)
				// The key is in the endpoint's query too, as a careless user might put it.
				c, err := gravitel.New(s.endpoint()+"?key="+canary, canary, gravitel.WithEncoding(enc), fastRetries,
					gravitel.WithLogger(logs.Logger()), gravitel.WithHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}))
				require.NoError(t, err)
				var errs []error
				_, err = c.Accounts(t.Context())
				errs = append(errs, err)
				_, err = c.MakeCall(t.Context(), gravitel.MakeCallRequest{Phone: "79101234567", User: "admin"})
				errs = append(errs, err)
				_, err = c.History(t.Context(), gravitel.HistoryQuery{Period: gravitel.PeriodToday})
				errs = append(errs, err)
				errs = append(errs, c.SetDND(t.Context(), "admin", true))
				texts := []string{logs.String()}
				for _, err := range errs {
					require.Error(t, err)
					texts = append(texts, testutil.ErrorTexts(err)...)
				}
				testutil.NoSecret(t, canary, texts...)
			})
		}
	}
	_, err := gravitel.New("ftp://"+canary+"@x/", canary)
	require.Error(t, err)
	assert.False(t, strings.Contains(err.Error(), canary))
}
