package webitel_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/webitel"
)

// The canaries: an access token, a login password, Login's session token
// and 2FA session, a device password and a token the client made. None
// may be seen in an error or a log line.
const (
	canaryToken    = "Kq7wTOKENzR4vXb9"
	canaryPassword = "Jm3pPASSWDhL8sNc"
	canarySession  = "Vt5ySESSIONgF2dQ"
	canaryDevice   = "Wb6nDEVPASSkP1xR"
	canaryNewToken = "Zr8cNEWTOKjH4mTy"
)

var canaries = []string{canaryToken, canaryPassword, canarySession, canaryDevice, canaryNewToken}

// canaryEcho answers every request with status and an echo of everything
// the server was told so far (headers, queries, bodies) and of the token
// it issued, as a careless gateway might. The token request is answered
// 200 first, so that the client knows the token it must then hide.
func canaryEcho(status int) http.HandlerFunc {
	var mu sync.Mutex
	var seen []string
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.URL.String(), r.Header.Get("X-Webitel-Access"), r.Header.Get("Authorization"), string(b))
		if r.URL.Path == "/api/users/9/tokens" {
			seen = append(seen, canaryNewToken)
			mu.Unlock()
			restJSON(w, 200, `{"id":"t","token":"`+canaryNewToken+`"}`)
			return
		}
		echo := strings.ReplaceAll(strings.Join(seen, " "), `"`, `'`)
		mu.Unlock()
		w.Header().Set("Location", "/login?access_token="+r.Header.Get("X-Webitel-Access"))
		restJSON(w, status, `{"id":"api.echo","code":400,"detail":"echo `+echo+`","status":"x"}`)
	}
}

// TestCanaryNeverLeaks provokes failures of every kind of request from
// servers that echo what they got, and looks for the secrets in the error
// texts and the Debug logs.
func TestCanaryNeverLeaks(t *testing.T) {
	t.Parallel()
	handlers := map[string]http.HandlerFunc{
		"200 echo":  canaryEcho(200),
		"400 echo":  canaryEcho(400),
		"401 echo":  canaryEcho(401),
		"302 echo":  canaryEcho(302),
		"502 echo":  canaryEcho(502),
		"reset":     restFaults["reset"],
		"truncated": restFaults["truncated"],
		// The secret across the cut of the message (200 bytes).
		"long text": func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			http.Error(w, strings.Repeat("x", 190)+r.Header.Get("X-Webitel-Access")+string(b), http.StatusBadRequest)
		},
		"base64": func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			http.Error(w, base64.StdEncoding.EncodeToString([]byte(r.Header.Get("X-Webitel-Access")+" "+string(b))), http.StatusBadRequest)
		},
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			logs := &testutil.Logs{}
			s := httptest.NewServer(h)
			defer s.Close()
			ls := httptest.NewServer(h) // Login's own tenant: its password is no business of the client's
			defer ls.Close()
			opts := []webitel.Option{restFast, webitel.WithLogger(logs.Logger()), webitel.WithHTTPClient(&http.Client{Timeout: 2 * time.Second})}
			c, err := webitel.New(s.URL, canaryToken, opts...)
			require.NoError(t, err)
			ctx := t.Context()
			var errs []error
			_, err = webitel.Login(ctx, ls.URL, "demo", "ivan", canaryPassword, opts...)
			errs = append(errs, err)
			twoFA := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				restJSON(w, 200, `{"id":"`+canarySession+`"}`)
			}))
			defer twoFA.Close()
			_, err = webitel.Login(ctx, twoFA.URL, "demo", "ivan", canaryPassword, opts...)
			require.ErrorIs(t, err, webitel.ErrTwoFactor)
			errs = append(errs, err)
			errs = append(errs, c.TestConnection(ctx))
			_, err = c.AddUserToken(ctx, "9", "crm")
			errs = append(errs, err)
			_, err = c.CreateDevice(ctx, webitel.Device{Account: "a", Password: canaryDevice})
			errs = append(errs, err)
			_, err = c.GenerateCall(ctx, "101", "+380501234567")
			errs = append(errs, err)
			for _, err := range c.History(ctx, webitel.HistoryQuery{Number: "1"}) {
				errs = append(errs, err)
			}
			_, err = c.DownloadRecording(ctx, "555", &bytes.Buffer{})
			errs = append(errs, err)
			_, err = c.DownloadRecordingRange(ctx, "555", 1, 1, &bytes.Buffer{})
			errs = append(errs, err)
			texts := []string{logs.String()}
			for _, err := range errs {
				if err != nil { // the token request succeeds on the echo servers
					texts = append(texts, testutil.ErrorTexts(err)...)
				}
			}
			for _, secret := range canaries {
				testutil.NoSecret(t, secret, texts...)
			}
		})
	}
}
