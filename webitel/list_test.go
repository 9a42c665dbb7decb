package webitel_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

// TestPagerPages: the pager starts at page 1, sends size, and stops on a
// page whose next is omitted (protojson drops false).
func TestPagerPages(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("page") {
		case "1":
			restJSON(w, 200, `{"page":1,"size":2,"next":true,"items":[{"id":"1","name":"a","extension":"101"},{"id":"2","name":"b"}]}`)
		case "2":
			restJSON(w, 200, `{"page":2,"size":2,"items":[{"id":3,"name":"c","extension":102}]}`)
		default:
			restJSON(w, 500, `{}`)
		}
	})
	var ids []string
	for u, err := range c.Users(t.Context(), webitel.UserQuery{PageSize: 2, Q: "a*"}) {
		require.NoError(t, err)
		ids = append(ids, u.ID)
	}
	assert.Equal(t, []string{"1", "2", "3"}, ids)
	reqs := s.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/api/users", reqs[0].Path)
	assert.Equal(t, "page=1&q=a%2A&size=2", reqs[0].RawQuery)
	assert.Equal(t, "page=2&q=a%2A&size=2", reqs[1].RawQuery)
}

// TestPagerIgnoredPage: a server that ignores page serves page 1 with
// next true forever; the pager stops with an error after one page.
func TestPagerIgnoredPage(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, func(w http.ResponseWriter, r *http.Request) {
		// The same first item; the body differs (a live field), as active
		// calls would.
		restJSON(w, 200, fmt.Sprintf(`{"next":true,"items":[{"id":"a-1","duration":%d}]}`, len(r.URL.RawQuery)))
	})
	var n int
	var last error
	for _, err := range c.ActiveCalls(t.Context(), webitel.ActiveQuery{PageSize: 1}) {
		n++
		last = err
	}
	assert.Equal(t, 2, n, "one call, then the error")
	require.ErrorIs(t, last, voip.ErrBadResponse)
	assert.Contains(t, last.Error(), "ignores the page")
	assert.Len(t, s.requests(), 2)
}

// TestPagerEmptyPageStops: next true with no items ends the iteration.
func TestPagerEmptyPageStops(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, restRoutes{"GET /api/devices": restOK(`{"next":true,"items":[]}`)}.handler)
	for _, err := range c.Devices(t.Context(), webitel.DeviceQuery{}) {
		require.NoError(t, err)
		t.Fatal("no device expected")
	}
	assert.Len(t, s.requests(), 1)
	assert.Contains(t, s.requests()[0].RawQuery, "size=100", "DefaultPageSize")
}

func TestPagerBadBodies(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`[]`, `{"items":{}}`, `{"items":[{"id":{}}]}`, `{"next":"maybe","items":[]}`, `<html>`} {
		_, c := newRESTServer(t, restRoutes{"GET /api/devices": restOK(body)}.handler)
		var got error
		for _, err := range c.Devices(t.Context(), webitel.DeviceQuery{}) {
			got = err
		}
		assert.ErrorIs(t, got, voip.ErrBadResponse, body)
	}
}

func TestPagerPageSize(t *testing.T) {
	t.Parallel()
	_, c := newRESTServer(t, restRoutes{}.handler)
	for _, size := range []int{-1, webitel.MaxPageSize + 1} {
		for _, err := range c.Users(t.Context(), webitel.UserQuery{PageSize: size}) {
			var arg *voip.ArgError
			require.ErrorAs(t, err, &arg)
			assert.Equal(t, "UserQuery.PageSize", arg.Arg)
		}
	}
}

// TestPagerStopEarly: breaking out of the loop sends nothing more.
func TestPagerStopEarly(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, func(w http.ResponseWriter, r *http.Request) {
		restJSON(w, 200, `{"next":true,"items":[{"id":"p`+r.URL.Query().Get("page")+`"},{"id":"x`+r.URL.Query().Get("page")+`"}]}`)
	})
	for range c.Users(t.Context(), webitel.UserQuery{}) {
		break
	}
	assert.Len(t, s.requests(), 1)
}
