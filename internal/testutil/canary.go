package testutil

import (
	"net/url"
	"strings"
	"testing"
)

// NoSecret fails t if secret, in plain, query-escaped or path-escaped form,
// appears in any of texts (error strings, %+v forms, log output).
func NoSecret(t testing.TB, secret string, texts ...string) {
	t.Helper()
	forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret)}
	for i, text := range texts {
		for _, f := range forms {
			if strings.Contains(text, f) {
				t.Errorf("text %d leaks the secret (%q form): %s", i, f, text)
			}
		}
	}
}
