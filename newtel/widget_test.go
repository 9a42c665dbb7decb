package newtel_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/newtel"
)

func TestWidgetSnippet(t *testing.T) {
	t.Parallel()
	html, err := newtel.WidgetSnippet([]byte(`{
		"login": "100@vpbx.new-tel.net",
		"displayName": "</script><script>alert(1)</script> & Иван"
	}`))
	require.NoError(t, err)
	s := string(html)
	assert.Contains(t, s, `<link href="https://public.new-tel.net/webrtc/widget.css" rel="stylesheet">`)
	assert.Contains(t, s, `<script async src="https://public.new-tel.net/webrtc/widget.js"></script>`)
	assert.Contains(t, s, `window.newtelWebrtcWidgetConfig = {"login":"100@vpbx.new-tel.net","displayName":"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e \u0026 Иван"};`,
		"compact, slashes unescaped as JSON_UNESCAPED_SLASHES, and nothing that closes the script")
	assert.Equal(t, 2, strings.Count(s, "</script>"))

	for _, bad := range []string{``, `[1]`, `{"a":`, `"x"`} {
		_, err := newtel.WidgetSnippet([]byte(bad))
		assert.Error(t, err, bad)
	}
}
