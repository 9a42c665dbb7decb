package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Idempotency says whether a request may be repeated after an ambiguous failure.
type Idempotency int8

const (
	// ByMethod derives it from the method: GET, HEAD, PUT, DELETE and
	// OPTIONS are idempotent, POST and PATCH are not.
	ByMethod Idempotency = iota
	// Idempotent marks a request that is safe to repeat whatever its method
	// (a POST that only reads).
	Idempotent
	// NotIdempotent marks a request that must not be repeated unless the
	// server surely did not act on it (anything that starts a call), whatever
	// its method.
	NotIdempotent
)

// Request is one API call.
type Request struct {
	Method string
	// Path is relative to the client's base URL and already escaped; a
	// leading slash is ignored, so the base URL's path prefix is kept. Empty
	// means the base URL itself. Absolute URLs and ".." segments are refused.
	Path  string
	Query url.Values
	// Header holds extra headers for this request.
	Header http.Header
	// Body is sent as is, on every attempt; ContentType goes with it.
	Body        []byte
	ContentType string
	Idempotency Idempotency
}

// idempotent resolves r.Idempotency.
func (r *Request) idempotent() bool {
	switch r.Idempotency {
	case Idempotent:
		return true
	case NotIdempotent:
		return false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// Content types for bodies.
const (
	ContentJSON = "application/json"
	ContentForm = "application/x-www-form-urlencoded"
)

// JSON encodes v once, without HTML escaping (vendors compare and sign the
// exact bytes, and "<" in a name must stay "<"), and without the trailing
// newline json.Encoder adds.
func JSON(v any) ([]byte, error) {
	// json.Marshal costs less than an Encoder, and gives the same bytes
	// unless it escaped "<", ">" or "&".
	out, err := json.Marshal(v)
	if err != nil || !bytes.Contains(out, []byte(`\u00`)) {
		return out, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// JSONRequest is a request with v encoded by [JSON] as its body.
func JSONRequest(method, path string, v any) (*Request, error) {
	body, err := JSON(v)
	if err != nil {
		return nil, err
	}
	return &Request{Method: method, Path: path, Body: body, ContentType: ContentJSON}, nil
}

// FormRequest is a request with values form-encoded as its body.
func FormRequest(method, path string, values url.Values) *Request {
	return &Request{Method: method, Path: path, Body: []byte(values.Encode()), ContentType: ContentForm}
}

// ErrPath is returned for a Request.Path that is absolute or climbs out of
// the base URL.
var ErrPath = errors.New("rest: request path must be relative to the base URL, without '..'")

// parseBase checks a base URL: absolute, http or https, no fragment.
func parseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("rest: invalid base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("rest: base URL %q must be http or https", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("rest: base URL %q has no host", u.Redacted())
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// resolve joins path and query onto the base URL. The base's path prefix is
// kept: base "https://h/api" + "calls" is "https://h/api/calls".
func resolve(base *url.URL, path string, query url.Values) (*url.URL, error) {
	u := *base
	path = strings.TrimLeft(path, "/")
	switch {
	case path == "":
	case base.RawPath == "" && plainPath(path):
		// What every vendor sends, "calls/active/v3": joined as is, it is
		// what resolveReference gives, without parsing it.
		sep := "/"
		if strings.HasSuffix(u.Path, "/") {
			sep = ""
		}
		u.Path = u.Path + sep + path
	default:
		r, err := resolveReference(base, path)
		if err != nil {
			return nil, err
		}
		u = *r
	}
	if len(query) > 0 {
		u.RawQuery = joinQuery(u.RawQuery, query.Encode())
	}
	return &u, nil
}

// resolveReference resolves a path without its leading slashes, not empty,
// under the base URL's path.
func resolveReference(base *url.URL, path string) (*url.URL, error) {
	rel, err := url.Parse(path)
	if err != nil || rel.Scheme != "" || rel.Host != "" || rel.User != nil {
		return nil, ErrPath
	}
	for _, seg := range strings.Split(rel.Path, "/") {
		if seg == ".." {
			return nil, ErrPath
		}
	}
	dir := *base
	if !strings.HasSuffix(dir.Path, "/") {
		dir.Path += "/"
		if dir.RawPath != "" {
			dir.RawPath += "/"
		}
	}
	dir.RawQuery = ""
	u := dir.ResolveReference(rel)
	if base.RawQuery != "" {
		u.RawQuery = joinQuery(base.RawQuery, u.RawQuery)
	}
	return u, nil
}

// plainPath reports a relative path that resolves to itself: segments of
// unreserved characters (RFC 3986), none of them empty, "." or "..".
func plainPath(p string) bool {
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			if seg := p[start:i]; seg == "" || seg == "." || seg == ".." {
				return false
			}
			start = i + 1
			continue
		}
		switch c := p[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

func joinQuery(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "&" + b
}
