package phonet

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSessionCookieSkipsADeletedOne: a server that clears an old session in
// the answer that opens the new one (Max-Age=0, RFC 6265 §5.2.2) gets the
// new one back, never the cleared one.
func TestSessionCookieSkipsADeletedOne(t *testing.T) {
	h := http.Header{"Set-Cookie": {
		"JSESSIONID=old; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:10 GMT",
		"JSESSIONID=new; Path=/; HttpOnly",
	}}
	require.Equal(t, "new", sessionCookie(h))
	require.Empty(t, sessionCookie(http.Header{"Set-Cookie": {"JSESSIONID=old; Max-Age=0"}}))
	require.Equal(t, "id", sessionCookie(http.Header{"Set-Cookie": {"JSESSIONID=; Path=/", "JSESSIONID=id; Max-Age=1800"}}))
}
