package redact_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/internal/testutil"
)

const canary = "CANARY-s3cr3t/+=value"

func TestStringHidesRegisteredSecretsInEveryForm(t *testing.T) {
	t.Parallel()
	r := redact.New(canary)
	for _, in := range []string{
		"plain " + canary,
		"query " + url.QueryEscape(canary),
		"path " + url.PathEscape(canary),
	} {
		out := r.String(in)
		assert.NotContains(t, out, canary)
		assert.NotContains(t, out, url.QueryEscape(canary))
		assert.Contains(t, out, redact.Mask)
	}
}

func TestStringHidesSecretsByName(t *testing.T) {
	t.Parallel()
	var r *redact.Redactor // nil applies the name rules
	cases := map[string]string{
		`GET https://h/x?apiKey=abc123&subscriber=101`:   `GET https://h/x?apiKey=[REDACTED]&subscriber=101`,
		`Authorization: Bearer abcdef`:                   `Authorization: [REDACTED] [REDACTED]`,
		`{"crm_token":"abc","cmd":"history"}`:            `{"crm_token":"[REDACTED]","cmd":"history"}`,
		`Cookie: JSESSIONID=ABCDEF0123`:                  `Cookie: [REDACTED]`,
		`nothing to see here, status=200 method=POST`:    `nothing to see here, status=200 method=POST`,
		`access_token=zzz token=yyy X-Webitel-Access: q`: `access_token=[REDACTED] token=[REDACTED] X-Webitel-Access: [REDACTED]`,
	}
	for in, want := range cases {
		assert.Equal(t, want, r.String(in), in)
	}
}

func TestWithKnownSecretsIsTheSameRedactor(t *testing.T) {
	t.Parallel()
	r := redact.New(canary)
	assert.Same(t, r, r.With(canary, "ab", ""), "nothing new: shared, not rebuilt")
	other := r.With("another-secret")
	assert.NotSame(t, r, other)
	assert.Equal(t, "x "+redact.Mask+" "+redact.Mask, other.String("x "+canary+" another-secret"))
	assert.Equal(t, "another-secret", r.String("another-secret"), "r itself is unchanged")
}

func TestShortSecretsAreNotRegistered(t *testing.T) {
	t.Parallel()
	r := redact.New("", "ab")
	assert.Equal(t, "abc ab", r.String("abc ab"))
}

func TestURLMasksSecretQueryParametersAndUserinfo(t *testing.T) {
	t.Parallel()
	u, err := url.Parse("wss://user:pw@tenant.example/live?domain=tenant&apiKey=" + url.QueryEscape(canary) + "&access_token=t0k3n")
	require.NoError(t, err)
	out := redact.New().URL(u)
	assert.NotContains(t, out, "t0k3n")
	assert.NotContains(t, out, "pw@")
	assert.NotContains(t, out, url.QueryEscape(canary))
	assert.Contains(t, out, "domain=tenant")
	assert.Contains(t, out, "apiKey=[REDACTED]")
}

func TestHeaderMasksSecretHeaders(t *testing.T) {
	t.Parallel()
	h := http.Header{
		"Authorization":    {"Bearer " + canary},
		"Cookie":           {"JSESSIONID=" + canary},
		"X-Api-Key":        {canary},
		"X-Webitel-Access": {canary},
		"X-Request-Id":     {"req-1 " + canary},
		"Content-Type":     {"application/json"},
	}
	out := redact.New(canary).Header(h)
	for name, vs := range out {
		for _, v := range vs {
			assert.NotContains(t, v, canary, name)
		}
	}
	assert.Equal(t, "application/json", out.Get("Content-Type"))
	assert.Equal(t, canary, h.Get("X-Api-Key"), "the original is untouched")
}

func TestErrorRedactsMessageAndKeepsChain(t *testing.T) {
	t.Parallel()
	r := redact.New(canary)
	inner := errors.New("dial tcp: refused")
	ue := &url.Error{Op: "Get", URL: "https://h/x?token=" + url.QueryEscape(canary), Err: inner}
	err := r.Error(ue)

	assert.NotContains(t, err.Error(), canary)
	assert.NotContains(t, err.Error(), url.QueryEscape(canary))
	assert.ErrorIs(t, err, inner)
	var got *url.Error
	require.ErrorAs(t, err, &got)
	assert.NotContains(t, got.Error(), url.QueryEscape(canary), "As must not hand out the leaking original")
	assert.Same(t, err, r.Error(err), "redacting twice wraps once")
	assert.NoError(t, r.Error(nil))
}

// leaky is a secret with every character an encoder treats specially.
const leaky = `k3y"with\quote&plus+slash/<ключ>=`

func TestStringHidesEveryEncodingOfASecret(t *testing.T) {
	t.Parallel()
	r := redact.New(leaky)
	var texts []string
	logLine := func(h func(io.Writer) slog.Handler) string {
		var b bytes.Buffer
		slog.New(h(&b)).Info("call", "key", leaky, "err", fmt.Errorf("refused %q", leaky))
		return b.String()
	}
	echoed := []string{
		leaky,
		fmt.Sprintf("%q", leaky),
		fmt.Sprintf("%q", fmt.Sprintf("%q", leaky)),
		url.QueryEscape(leaky),
		strings.ToLower(url.QueryEscape(leaky)),
		url.PathEscape(leaky),
		logLine(func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) }),
		logLine(func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) }),
	}
	for _, pre := range []string{"", "a", "ab", "abc", "cmd=accounts&token=", "cmd=accounts&token=x"} {
		plain := pre + leaky + "&next=1"
		echoed = append(echoed,
			base64.StdEncoding.EncodeToString([]byte(plain)),
			base64.URLEncoding.EncodeToString([]byte(plain)),
			base64.RawStdEncoding.EncodeToString([]byte(plain)))
	}
	for _, e := range echoed {
		out := r.String("the server said: " + e)
		assert.Contains(t, out, redact.Mask, e)
		texts = append(texts, out)
	}
	testutil.NoSecret(t, leaky, texts...)
}

func TestExcerptRedactsBeforeCutting(t *testing.T) {
	t.Parallel()
	const secret = "c4a7a12ccc4a7a12ccc4a7a12ccc4a7a12ccc4a7a12ccc4a"
	r := redact.New(secret)
	text := strings.Repeat("ы", 20) + "key " + secret + " and more"
	for n := range len(text) + 2 {
		out := r.Excerpt(text, n)
		testutil.NoSecret(t, secret, out)
		assert.True(t, utf8.ValidString(out), "cut inside a rune at %d: %q", n, out)
		assert.LessOrEqual(t, len(out), max(n, len(r.String(text)))+len("…"), n)
	}
	assert.Equal(t, "short", r.Excerpt("short", 10))
	assert.Equal(t, "ab…", redact.Cut("abc", 2))
	assert.Equal(t, "…", redact.Cut("ыы", 1), "never half a rune")
}

func TestStringHidesASecretCutBeforeItArrived(t *testing.T) {
	t.Parallel()
	const secret = "c4n4ry-S3CRET-0123456789"
	r := redact.New(secret)
	for k := 4; k < len(secret); k++ {
		for _, text := range []string{
			"body: " + secret[:k] + "…",
			"body: " + strconv.Quote(secret[:k]) + "…",
			fmt.Sprintf("%s…; then %s", secret[:k], "more"),
		} {
			out := r.String(text)
			assert.NotContains(t, out, secret[:k], text)
			assert.Contains(t, out, redact.Mask+"", text)
		}
	}
	assert.Equal(t, "c4n…", r.String("c4n…"), "three characters are not a secret")
	assert.Equal(t, "nothing cut here…", r.String("nothing cut here…"))
}

// opaque is an error type whose text the redactor cannot reach into.
type opaque struct{ text string }

func (e opaque) Error() string { return e.text }

// kinded is an error type with a class sentinel and a cause, like
// voip.APIError.
type kinded struct {
	Kind    error
	Message string
	Err     error
}

func (e *kinded) Error() string   { return e.Message + ": " + e.Err.Error() }
func (e *kinded) Unwrap() []error { return []error{e.Kind, e.Err} }

var errClass = errors.New("class")

func TestErrorChainIsRedactedAllTheWayDown(t *testing.T) {
	t.Parallel()
	r := redact.New(leaky)
	closed := websocket.CloseError{Code: websocket.StatusPolicyViolation, Reason: "bad apiKey " + leaky}
	netErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("refused for " + leaky)}
	cause := &url.Error{Op: "Get", URL: "wss://h/ws?apiKey=" + url.QueryEscape(leaky), Err: closed}
	err := r.Error(fmt.Errorf("phonet: connection lost: %w", &kinded{
		Kind: errClass, Message: "said " + leaky,
		Err: errors.Join(cause, opaque{"opaque " + leaky}, netErr),
	}))

	testutil.NoSecret(t, leaky, testutil.ErrorTexts(err)...)
	assert.ErrorIs(t, err, errClass)

	var ce websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, websocket.StatusPolicyViolation, ce.Code)
	assert.Contains(t, ce.Reason, redact.Mask)

	var k *kinded
	require.ErrorAs(t, err, &k)
	assert.Equal(t, errClass, k.Kind, "a sentinel field stays comparable")
	testutil.NoSecret(t, leaky, k.Message, k.Err.Error())
	require.ErrorAs(t, k.Err, &ce)
	testutil.NoSecret(t, leaky, ce.Reason)

	var ue *url.Error
	require.ErrorAs(t, err, &ue)
	testutil.NoSecret(t, leaky, ue.URL, ue.Error())

	var ne net.Error
	require.ErrorAs(t, err, &ne, "interface targets still work")
	testutil.NoSecret(t, leaky, ne.Error())

	var op opaque
	assert.False(t, errors.As(err, &op), "an error that cannot be cleaned is not handed out")

	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		testutil.NoSecret(t, leaky, e.Error())
	}
}
