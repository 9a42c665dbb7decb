package redact

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
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
	secrets  []string          // as registered
	forms    []string          // every form of every secret, longest first
	replacer *strings.Replacer // replaces forms with Mask
}

// New returns a Redactor for the given secret values. Empty values and values
// shorter than four bytes are skipped.
func New(secrets ...string) *Redactor {
	return (*Redactor)(nil).With(secrets...)
}

// With returns a Redactor that also hides secrets, in every form listed by
// the package doc.
func (r *Redactor) With(secrets ...string) *Redactor {
	if r != nil && r.knows(secrets) {
		// A Redactor never changes: sharing it spares every socket of a
		// client a replacer of its own (4 KiB each).
		return r
	}
	out := &Redactor{}
	if r != nil {
		out.secrets = slices.Clone(r.secrets)
	}
	for _, s := range secrets {
		if len(s) >= minSecretLen && !slices.Contains(out.secrets, s) {
			out.secrets = append(out.secrets, s)
		}
	}
	if len(out.secrets) == 0 {
		return out
	}
	for _, s := range out.secrets {
		for _, f := range forms(s) {
			if !slices.Contains(out.forms, f) {
				out.forms = append(out.forms, f)
			}
		}
	}
	// Longest first: the replacer tries its pairs in order, so a secret
	// containing another is replaced whole.
	slices.SortStableFunc(out.forms, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(out.forms))
	for _, f := range out.forms {
		pairs = append(pairs, f, Mask)
	}
	out.replacer = strings.NewReplacer(pairs...)
	return out
}

// knows reports whether With(secrets...) would add nothing to r.
func (r *Redactor) knows(secrets []string) bool {
	for _, s := range secrets {
		if len(s) >= minSecretLen && !slices.Contains(r.secrets, s) {
			return false
		}
	}
	return true
}

// String hides the registered secrets and any name=value or Bearer secret in
// s. A registered secret that s shows only in part, cut off by a "…" (an
// excerpt shortened before it reached here), is hidden too.
func (r *Redactor) String(s string) string {
	if r != nil && r.replacer != nil {
		s = r.replacer.Replace(s)
		s = r.hideCutSecrets(s)
	}
	s = bearerInText.ReplaceAllString(s, "${1}"+Mask)
	return pairInText.ReplaceAllString(s, "${1}"+Mask)
}

// ellipsis ends every excerpt pbxkit cuts.
const ellipsis = "…"

// hideCutSecrets masks the start of a registered secret (minSecretLen bytes
// or more) that stands right before an ellipsis, optionally followed by the
// closing quote of a %q excerpt.
func (r *Redactor) hideCutSecrets(s string) string {
	if !strings.Contains(s, ellipsis) {
		return s
	}
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, ellipsis)
		if i < 0 {
			break
		}
		end := i
		if end > 0 && rest[end-1] == '"' {
			end--
		}
		if n := r.cutSecretLen(rest[:end]); n > 0 {
			b.WriteString(rest[:end-n])
			b.WriteString(Mask)
			b.WriteString(rest[end:i])
		} else {
			b.WriteString(rest[:i])
		}
		b.WriteString(ellipsis)
		rest = rest[i+len(ellipsis):]
	}
	if b.Len() == 0 {
		return s
	}
	b.WriteString(rest)
	return b.String()
}

// cutSecretLen returns the length of the longest suffix of text that is a
// proper prefix of a registered form, if at least minSecretLen long.
func (r *Redactor) cutSecretLen(text string) int {
	best := 0
	for _, f := range r.forms {
		for k := min(len(f)-1, len(text)); k >= minSecretLen && k > best; k-- {
			if text[len(text)-k:] == f[:k] {
				best = k
				break
			}
		}
	}
	return best
}

// Excerpt returns s redacted and then cut to at most n bytes on a rune
// boundary, with "…" when it was cut. Redacting first is what keeps a secret
// that straddles the cut from leaving its first part behind.
func (r *Redactor) Excerpt(s string, n int) string {
	return Cut(r.String(s), n)
}

// Cut shortens s to at most n bytes on a rune boundary and marks the cut
// with "…". Text that may hold a secret is cut with [Redactor.Excerpt].
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis
}

// leaks reports whether s shows a registered secret in any of its forms.
func (r *Redactor) leaks(s string) bool {
	if r == nil || r.replacer == nil {
		return false
	}
	return r.replacer.Replace(s) != s
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
