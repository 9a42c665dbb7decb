package testutil

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/pbxkit/pbxkit/voip"
)

// leakWindow is the longest run of a secret's characters a text may show:
// a longer run, anywhere, is a leak (the start of a key cut off by an
// excerpt, say). Secrets shorter than this must not appear whole.
const leakWindow = 8

// NoSecret fails t if any of texts (error strings, %+v forms, log output)
// shows secret: plain, URL-escaped (either hex case), %q- or JSON-quoted,
// base64-encoded at any alignment, or any leakWindow characters of it in a
// row in one of those forms.
func NoSecret(t testing.TB, secret string, texts ...string) {
	t.Helper()
	runs := secretRuns(secret)
	for i, text := range texts {
		for _, r := range runs {
			if strings.Contains(text, r) {
				t.Errorf("text %d leaks the secret (%q of it): %s", i, r, text)
				break
			}
		}
	}
}

// lowerHexEscapes rewrites the %XX escapes of s in lower-case hex.
func lowerHexEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			copy(b[i+1:i+3], strings.ToLower(string(b[i+1:i+3])))
			i += 2
		}
	}
	return string(b)
}

// secretRuns returns every leakWindow-long run of every form of secret.
func secretRuns(secret string) []string {
	q := strconv.Quote(secret)
	j, _ := json.Marshal(secret)
	forms := []string{
		secret, url.QueryEscape(secret), url.PathEscape(secret),
		lowerHexEscapes(url.QueryEscape(secret)), q[1 : len(q)-1], string(j[1 : len(j)-1]),
	}
	forms = append(forms, base64Runs(secret)...)
	seen := map[string]bool{}
	var runs []string
	for _, f := range forms {
		w := min(leakWindow, len(f))
		for i := 0; i+w <= len(f); i++ {
			if r := f[i : i+w]; r != "" && !seen[r] {
				seen[r] = true
				runs = append(runs, r)
			}
		}
	}
	return runs
}

// base64Runs returns, for each alignment of secret inside a longer encoded
// text, the base64 characters that encode bits of the secret alone.
func base64Runs(secret string) []string {
	var out []string
	for pad := range 3 {
		in := append(make([]byte, pad), secret...)
		first := (8*pad + 5) / 6 // first character wholly inside the secret
		last := 8 * len(in) / 6  // one past the last such character
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			s := enc.EncodeToString(in)
			if first < last && last <= len(s) {
				out = append(out, s[first:last])
			}
		}
	}
	return out
}

// ErrorTexts returns every text a caller can read from err: its message and
// %+v form, the message of every error in its chain (walking Unwrap, single
// and multiple), and the fields of the error types that carry text from the
// network, as errors.As hands them out.
func ErrorTexts(err error) []string {
	if err == nil {
		return nil
	}
	texts := []string{fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
	queue := []error{err}
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		if e == nil {
			continue
		}
		texts = append(texts, e.Error())
		switch x := e.(type) {
		case interface{ Unwrap() error }:
			queue = append(queue, x.Unwrap())
		case interface{ Unwrap() []error }:
			queue = append(queue, x.Unwrap()...)
		}
	}
	var (
		api   *voip.APIError
		ue    *url.Error
		ce    websocket.CloseError
		op    *net.OpError
		arg   *voip.ArgError
		whook *voip.WebhookError
	)
	if errors.As(err, &api) {
		texts = append(texts, api.URL, api.Body, api.Message, api.Code, api.RequestID)
		if api.Err != nil {
			texts = append(texts, ErrorTexts(api.Err)...)
		}
	}
	if errors.As(err, &ue) {
		texts = append(texts, ue.URL, ue.Error())
	}
	if errors.As(err, &ce) {
		texts = append(texts, ce.Reason)
	}
	if errors.As(err, &op) {
		texts = append(texts, op.Error())
	}
	if errors.As(err, &arg) {
		texts = append(texts, arg.Error())
	}
	if errors.As(err, &whook) {
		texts = append(texts, whook.Error(), whook.Message)
	}
	return texts
}
