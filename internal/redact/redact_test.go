package redact_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/redact"
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
