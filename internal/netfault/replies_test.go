package netfault_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pbxkit/pbxkit/internal/netfault"
)

func TestRepliesByPathThenAnyPathOnce(t *testing.T) {
	r := netfault.Replies{ContentType: "application/json"}
	r.Add("", http.StatusBadGateway, "any")
	r.Add("/a", http.StatusTooManyRequests, `{"a":1}`)
	serve := func(path string) (*httptest.ResponseRecorder, bool) {
		w := httptest.NewRecorder()
		return w, r.Serve(w, httptest.NewRequest(http.MethodGet, path, nil))
	}
	w, ok := serve("/a")
	assert.True(t, ok)
	assert.Equal(t, http.StatusTooManyRequests, w.Code, "the path's own reply goes first")
	assert.Equal(t, `{"a":1}`, w.Body.String())
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	w, ok = serve("/a")
	assert.True(t, ok)
	assert.Equal(t, http.StatusBadGateway, w.Code, "then one for any path")
	_, ok = serve("/a")
	assert.False(t, ok, "each reply answers once")
}
