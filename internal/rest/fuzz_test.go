package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
)

// FuzzRetryAfter: a Retry-After value is never negative nor above the cap;
// delay seconds parse back to the same number (capped); an HTTP date gives
// the time left until it, 0 once it is past; anything else is refused. A
// date built from now and an offset gives that offset back.
func FuzzRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC).Unix()
	for _, v := range []string{
		"", "0", "120", " 5 ", "\t7\r\n", "-1", "-0", "+5", "0005", "1.5", "1e3", "soon", "86400", "86401",
		"99999999999", "9223372036854775807", "9223372036854775808", "99999999999999999999999",
		"-9223372036854775809", "Sat, 21 Nov 2026 12:01:30 GMT", "Sat, 21 Nov 2026 11:59:00 GMT",
		"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
		"Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 00:00:00 GMT", "Sat, 21 Nov 2026 12:01:30 UTC",
		"Sat, 21 Nov 2026 12:01:30 +0300", "\x00", "１２０", "12\xff", "null",
	} {
		f.Add(v, now, int64(90))
	}
	f.Add("", now, int64(-60))
	f.Add("", now, int64(48*3600))
	f.Add("", int64(0), int64(1<<40))
	f.Add("", int64(-1<<62), int64(1<<62))
	f.Fuzz(func(t *testing.T, v string, nowUnix, offset int64) {
		now := time.Unix(nowUnix, 0)
		d, ok := retryAfter(v, now)
		require.GreaterOrEqual(t, d, time.Duration(0), "%q", v)
		require.LessOrEqual(t, d, maxRetryAfter, "%q", v)
		if !ok {
			require.Zero(t, d, "%q", v)
		}
		s := strings.TrimSpace(v)
		if s != "" && strings.Trim(s, "0123456789") == "" {
			// Delay seconds: the number itself, however long, capped.
			n, _ := new(big.Int).SetString(s, 10)
			want := maxRetryAfter
			if n.Cmp(big.NewInt(int64(maxRetryAfter/time.Second))) < 0 {
				want = time.Duration(n.Int64()) * time.Second
			}
			require.True(t, ok, "%q", v)
			require.Equal(t, want, d, "%q", v)
		} else if at, err := http.ParseTime(s); err == nil {
			require.True(t, ok, "%q", v)
			require.Equal(t, min(max(at.Sub(now), 0), maxRetryAfter), d, "%q at %v", v, now)
		} else if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			require.False(t, ok, "%q is neither seconds nor an HTTP date", v)
		}

		// A date the server formats from its clock.
		if now.Year() < 1 || now.Year() > 9000 || offset < -1<<40 || offset > 1<<40 {
			return
		}
		at := now.Add(time.Duration(offset) * time.Second)
		if at.Year() < 1 || at.Year() > 9999 {
			return
		}
		layout := http.TimeFormat
		if offset%2 != 0 {
			layout = time.ANSIC
		}
		date := at.UTC().Format(layout)
		d, ok = retryAfter(date, now)
		require.True(t, ok, "%q", date)
		require.Equal(t, min(max(at.Sub(now), 0), maxRetryAfter), d, "%q at %v", date, now)
	})
}

// readerFailingAt yields data, then fails after failAt bytes when failAt is
// within data, as a connection reset mid-body does.
type readerFailingAt struct {
	data   []byte
	failAt int
	read   int
}

var errReset = errors.New("connection reset by peer")

func (r *readerFailingAt) Read(p []byte) (int, error) {
	if r.failAt >= 0 && r.read >= r.failAt {
		return 0, errReset
	}
	if r.read >= len(r.data) {
		return 0, io.EOF
	}
	n := len(r.data) - r.read
	if r.failAt >= 0 {
		n = min(n, r.failAt-r.read)
	}
	n = copy(p, r.data[r.read:r.read+n])
	r.read += n
	return n, nil
}

func (r *readerFailingAt) Close() error { return nil }

// FuzzReadBody: whatever Content-Length claims (true, short, long, unknown,
// negative) and however the body compares with MaxBody, readBody returns
// either the body, never more than MaxBody bytes, or an error that the
// pipeline reports as an *voip.APIError matching voip.ErrBadResponse.
func FuzzReadBody(f *testing.F) {
	page := []byte(`{"error":{"code":"not_found","message":"нет такого звонка"}}`)
	for _, declared := range []int64{-1, -2, -1 << 63, 0, 10, int64(len(page)) - 1, int64(len(page)), int64(len(page)) + 1, 1 << 40} {
		for _, maxBody := range []uint16{0, 1, uint16(len(page)) - 1, uint16(len(page)), uint16(len(page)) + 1, 1024} {
			f.Add(page, declared, maxBody, int16(-1))
		}
	}
	f.Add([]byte{}, int64(0), uint16(0), int16(-1))
	f.Add([]byte("\x00\xff\xfe"), int64(3), uint16(3), int16(1))
	f.Add(page, int64(-1), uint16(1024), int16(5))
	f.Add(page, int64(len(page)), uint16(1024), int16(0))
	f.Fuzz(func(t *testing.T, body []byte, declared int64, maxBody uint16, failAt int16) {
		if int(failAt) >= len(body) {
			failAt = -1 // a failure after the last byte is no failure
		}
		c := &Client{cfg: Config{Vendor: "acme", MaxBody: int64(maxBody)}}
		resp := &http.Response{StatusCode: http.StatusOK, ContentLength: declared,
			Body: &readerFailingAt{data: body, failAt: int(failAt)}}
		got, err := c.readBody(resp)

		// What a reader of the whole stream sees before it ends or fails.
		avail, cut := len(body), false
		if failAt >= 0 {
			avail, cut = int(failAt), true
		}
		known := declared >= 0 && declared <= int64(maxBody)
		switch {
		case known && int64(avail) >= declared:
			require.NoError(t, err)
			require.Equal(t, body[:declared], got, "the declared length is what is read")
		case known:
			require.Error(t, err, "a body shorter than its Content-Length")
			require.True(t, errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, errReset), err)
		case avail > int(maxBody):
			require.Error(t, err, "a body over MaxBody")
			require.Contains(t, err.Error(), strconv.Itoa(int(maxBody)))
		case cut:
			require.ErrorIs(t, err, errReset)
		default:
			require.NoError(t, err)
			require.Equal(t, body, got)
		}
		if err != nil {
			require.Nil(t, got)
			// The pipeline turns it into a typed error.
			client := fuzzClient(t)
			r := fuzzResponse(client, http.StatusOK, nil, nil)
			r.call.readErr = err
			out, err := client.finish(r)
			require.Nil(t, out)
			var e *voip.APIError
			require.ErrorAs(t, err, &e)
			require.ErrorIs(t, err, voip.ErrBadResponse)
			require.NotEmpty(t, e.Error())
			return
		}
		require.NotNil(t, got, "a body read is never nil, even when empty")
		require.LessOrEqual(t, int64(len(got)), int64(maxBody))
	})
}

// fuzzClient is a client that never sends anything: for the pure parts.
func fuzzClient(t *testing.T) *Client {
	c, err := New(Config{Vendor: "acme", BaseURL: "https://api.example.com/v1/"})
	require.NoError(t, err)
	return c
}

// fuzzResponse is a response to an idempotent GET, as send builds it.
func fuzzResponse(c *Client, status int, h http.Header, body []byte) *Response {
	st := &call{idempotent: true, method: http.MethodGet, u: c.BaseURL(), red: c.Redactor()}
	st.attempts.Store(1)
	return &Response{StatusCode: status, Header: h, Body: body, Attempts: 1, call: st, c: c}
}

// classes are the sentinels a response's error can match.
var classes = []error{voip.ErrNotSupported, voip.ErrBadRequest, voip.ErrUnauthorized, voip.ErrForbidden,
	voip.ErrNotFound, voip.ErrConflict, voip.ErrRateLimited, voip.ErrServer, voip.ErrBadResponse,
	voip.ErrUnreachable, voip.ErrAmbiguous}

// seedLocation is a redirect to a login page carrying a token.
const seedLocation = "https://login.example.com/auth?next=%2Fapi&token=s3cr3t"

// FuzzCheckStatus: a 2xx passes; a 3xx matches voip.ErrNotFound and names
// its Location; anything else is an *voip.APIError, completed with the
// status, that matches exactly one class: voip.StatusKind's, or
// voip.ErrBadResponse for a status that is no error class (1xx, nonsense).
func FuzzCheckStatus(f *testing.F) {
	for _, s := range []int{0, -1, 100, 101, 199, 200, 204, 299, 300, 301, 302, 307, 308, 399, 400, 401, 403,
		404, 409, 410, 418, 422, 429, 451, 499, 500, 501, 502, 503, 504, 599, 600, 999, 1 << 40} {
		f.Add(s, seedLocation, []byte(`{"error":"no"}`))
	}
	f.Add(302, "", []byte{})
	f.Add(301, "/v2/calls\xff", []byte("<html>Moved</html>"))
	f.Add(303, "\x00", []byte(nil))
	f.Fuzz(func(t *testing.T, status int, location string, body []byte) {
		h := http.Header{}
		if location != "" {
			h["Location"] = []string{location}
		}
		c := fuzzClient(t)
		err := CheckStatus(fuzzResponse(c, status, h, body))
		if status >= 200 && status < 300 {
			require.NoError(t, err)
			r := fuzzResponse(c, status, h, body)
			out, err := c.finish(r)
			require.NoError(t, err)
			require.Same(t, r, out)
			return
		}
		var e *voip.APIError
		require.ErrorAs(t, err, &e)
		want := voip.StatusKind(status)
		if status >= 300 && status < 400 {
			want = voip.ErrNotFound
			if loc := strings.TrimSpace(h.Get("Location")); loc != "" {
				require.Equal(t, "redirected to "+loc, e.Message)
			} else {
				require.Equal(t, "redirected without a Location", e.Message)
			}
		}
		if want == nil {
			want = voip.ErrBadResponse
		}

		// Completed by the pipeline, as the vendor's caller gets it.
		out, err := c.finish(fuzzResponse(c, status, h, body))
		require.Nil(t, out)
		require.ErrorAs(t, err, &e)
		require.Equal(t, status, e.StatusCode)
		require.Equal(t, "acme", e.Vendor)
		require.Equal(t, http.MethodGet, e.Method)
		require.NotEmpty(t, e.Error())
		for _, class := range classes {
			require.Equal(t, class == want, errors.Is(err, class), "status %d: matches %v: %v", status, class, err)
		}
		if status >= 300 && status < 400 {
			require.True(t, strings.HasPrefix(e.Message, "redirected "), e.Message)
		}
		if location == seedLocation {
			require.False(t, bytes.Contains([]byte(e.Error()), []byte("s3cr3t")), "the Location's token leaked: %v", e)
		}
	})
}

// FuzzResolve: resolve never panics, takes no path out of the base URL, and
// its shortcut for plain paths gives what resolving the reference gives.
func FuzzResolve(f *testing.F) {
	for _, p := range []string{"calls", "/rest/calls/company.api", "call/start_simple_call", "a/../b", "../x", "a%2Fb", "https://evil/x", "a//b", ".", "calls?x=1"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, path string) {
		base, err := parseBase("https://h/api/v1/")
		require.NoError(t, err)
		u, err := resolve(base, path, nil)
		if err != nil {
			require.ErrorIs(t, err, ErrPath)
			return
		}
		require.Equal(t, "h", u.Host)
		if p := strings.TrimLeft(path, "/"); p != "" && plainPath(p) {
			assertResolvesLikeAReference(t, p)
		}
	})
}

// FuzzJSON: JSON gives the bytes of an Encoder without HTML escaping,
// without its newline, whichever way it took.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{"Иван", "<Иван & Co>", `\u003c`, "\u2028", "\x00\x1f", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := map[string]any{"name": s, "n": 1, "raw": json.RawMessage(`{"a":"<b>"}`)}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(v))
		got, err := JSON(v)
		require.NoError(t, err)
		require.Equal(t, strings.TrimSuffix(buf.String(), "\n"), string(got))
	})
}
