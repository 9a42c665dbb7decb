package redact

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Mask replaces every secret.
const Mask = "[REDACTED]"

// minSecretLen is the shortest value redacted wherever it appears. Shorter
// "secrets" would blank out ordinary text; the name-based rules still hide
// them in query strings and headers.
const minSecretLen = 4

// secretNames are query parameters and header names whose value is always
// secret, compared case-insensitively. "key" and "token" cover apiKey,
// crm_token, access_token and the like through the suffix rule in isSecretName.
var secretNames = []string{
	"authorization", "proxy-authorization", "cookie", "set-cookie",
	"x-api-key", "x-webitel-access", "jsessionid", "password", "passwd", "secret",
	"signature", "sign", "session", "sessionid", "auth",
}

// isSecretName reports whether a query parameter or header named name holds a
// secret.
func isSecretName(name string) bool {
	n := strings.ToLower(name)
	if slices.Contains(secretNames, n) {
		return true
	}
	n = strings.NewReplacer("-", "", "_", "").Replace(n)
	return strings.HasSuffix(n, "key") || strings.HasSuffix(n, "token") ||
		strings.HasSuffix(n, "secret") || strings.HasSuffix(n, "password")
}

// bearerInText and pairInText find secrets in free text, such as the message
// of a *url.Error or a vendor's echo of a request: "Bearer x" and name=value
// or "name":"value" pairs whose name says it is a secret.
var (
	bearerInText = regexp.MustCompile(`(?i)(bearer\s+)[^\s"',;]+`)
	pairInText   = regexp.MustCompile(`(?i)([a-z0-9_\-]*(?:key|token|secret|password|passwd|session|sessionid|signature|sign|auth|authorization|cookie|access)["']?\s*[=:]\s*["']?)[^&\s"',;}]+`)
)

// Redactor hides the secrets registered with it plus everything that looks
// like a secret by name. The zero value and a nil *Redactor apply the name
// rules only. A Redactor is immutable and safe for concurrent use.
type Redactor struct {
	secrets []string // longest first, with their URL-escaped forms
}

// New returns a Redactor for the given secret values. Empty values and values
// shorter than four bytes are skipped.
func New(secrets ...string) *Redactor {
	return (*Redactor)(nil).With(secrets...)
}

// With returns a Redactor that also hides secrets.
func (r *Redactor) With(secrets ...string) *Redactor {
	out := &Redactor{}
	if r != nil {
		out.secrets = slices.Clone(r.secrets)
	}
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			if !slices.Contains(out.secrets, form) {
				out.secrets = append(out.secrets, form)
			}
		}
	}
	// Longest first, so that a secret containing another is replaced whole.
	slices.SortFunc(out.secrets, func(a, b string) int { return len(b) - len(a) })
	return out
}

// String hides the registered secrets and any name=value or Bearer secret in s.
func (r *Redactor) String(s string) string {
	if r != nil {
		for _, secret := range r.secrets {
			if strings.Contains(s, secret) {
				s = strings.ReplaceAll(s, secret, Mask)
			}
		}
	}
	s = bearerInText.ReplaceAllString(s, "${1}"+Mask)
	return pairInText.ReplaceAllString(s, "${1}"+Mask)
}

// URL returns u as a string with secret query parameters, userinfo and
// registered secrets hidden.
func (r *Redactor) URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		c.User = url.User(Mask)
	}
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err == nil {
			for name := range q {
				if isSecretName(name) {
					q[name] = []string{Mask}
				}
			}
			// Encode escapes the brackets of the mask; keep it readable.
			c.RawQuery = strings.ReplaceAll(q.Encode(), url.QueryEscape(Mask), Mask)
		}
	}
	return r.String(c.String())
}

// URLString parses raw and redacts it like URL. A string that does not parse
// is redacted as free text.
func (r *Redactor) URLString(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return r.String(raw)
	}
	return r.URL(u)
}

// Header returns a copy of h with secret headers masked and registered
// secrets hidden in the rest, for logging.
func (r *Redactor) Header(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for name, values := range h {
		if isSecretName(name) {
			out[name] = []string{Mask}
			continue
		}
		vs := make([]string, len(values))
		for i, v := range values {
			vs[i] = r.String(v)
		}
		out[name] = vs
	}
	return out
}

// Error wraps err so that its message is redacted. errors.Is and errors.As
// still reach the original chain; a *url.Error in it is replaced by a copy
// whose URL is redacted, so that As never hands out a leaking message.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	var already *redacted
	if errors.As(err, &already) && already.r == r {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue == err {
		err = &url.Error{Op: ue.Op, URL: r.URLString(ue.URL), Err: r.Error(ue.Err)}
	}
	return &redacted{err: err, r: r}
}

type redacted struct {
	err error
	r   *Redactor
}

func (e *redacted) Error() string { return e.r.String(e.err.Error()) }
func (e *redacted) Unwrap() error { return e.err }
