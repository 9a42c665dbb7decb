package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// minBase64Form is the shortest base64 run registered for a secret. A
// secret's base64 text depends on where in the encoded input it starts, so
// only the characters that encode the secret alone are stable; runs shorter
// than this would match ordinary base64 by chance.
const minBase64Form = 6

// forms returns the ways a secret shows up in text pbxkit prints: as is;
// URL-escaped (query and path, with upper- and lower-case hex); inside a Go
// %q or a JSON string (escaped quotes and backslashes, \u forms); those
// escapes applied twice (a JSON log line quoting a %q error); and base64 at
// each of the three alignments it can have inside a longer encoded text (a
// vendor echoing "cmd=accounts&token=…" in base64).
func forms(secret string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(f string) {
		if f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	first := escapes(secret)
	for _, f := range first {
		add(f)
	}
	for _, f := range first {
		for _, g := range escapes(f) {
			add(g)
		}
	}
	for _, f := range base64Forms(secret) {
		add(f)
	}
	return out
}

// escapes returns s and its escaped forms, each once.
func escapes(s string) []string {
	q := strconv.Quote(s)
	a := strconv.QuoteToASCII(s)
	return []string{
		s,
		url.QueryEscape(s), lowerHex(url.QueryEscape(s)),
		url.PathEscape(s), lowerHex(url.PathEscape(s)),
		q[1 : len(q)-1], a[1 : len(a)-1],
		jsonString(s, true), jsonString(s, false),
	}
}

// jsonString is the inside of s as a JSON string, with or without the HTML
// escapes that encoding/json applies by default.
func jsonString(s string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	if enc.Encode(s) != nil {
		return ""
	}
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}

// lowerHex rewrites the %XX escapes of s with lower-case hex digits, which
// some servers echo.
func lowerHex(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1] = toLowerHex(b[i+1])
			b[i+2] = toLowerHex(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func toLowerHex(c byte) byte {
	if 'A' <= c && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

// base64Forms returns the stable part of secret's base64 encoding when it
// starts at byte offset 0, 1 or 2 of a three-byte group, in the standard
// and the URL alphabet. The characters of a group that also holds bytes of
// the surrounding text are left out: they carry at most two bytes of the
// secret, split across bit boundaries.
func base64Forms(secret string) []string {
	var out []string
	for offset := range 3 {
		in := make([]byte, offset, offset+len(secret))
		in = append(in, secret...)
		full := len(in) / 3 * 4 // characters of complete groups
		start := 0
		if offset > 0 {
			start = 4 // the first group mixes in the text before the secret
		}
		if full-start < minBase64Form {
			continue
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			out = append(out, enc.EncodeToString(in)[start:full])
		}
	}
	return out
}
