package phonet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// maxFuzzInput caps fuzz inputs: the webhook handler caps bodies anyway.
const maxFuzzInput = 64 << 10

// addSamples seeds f with every file under testdata/dir.
func addSamples(f *testing.F, dir string, add func([]byte)) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no samples in %s: %v", dir, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

// FuzzParseEvent checks that no frame makes the decoder panic, and that
// what it accepts converts to voip without panicking either.
func FuzzParseEvent(f *testing.F) {
	addSamples(f, "events", func(b []byte) { f.Add(b) })
	for _, s := range []string{`{}`, `{"event":"call.hangup","lgDirection":64}`, `{"otherLegs":[null,{}]}`,
		`{"dialAt":"1e30"}`, `{"uuid":"47A96889-3984-475B-8C20-E29DEC144CE3"}`, `{"leg":null,"leg2":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		ev, err := ParseEvent(data)
		if err != nil {
			return
		}
		if v, ok := ev.Voip(); ok && v.Kind == voip.EventUnknown {
			t.Fatalf("a call event with no kind: %s", data)
		}
		ev.Presence()
	})
}

// FuzzParseWebhook does the same for webhook bodies, JSON and form.
func FuzzParseWebhook(f *testing.F) {
	addSamples(f, "events", func(b []byte) { f.Add("application/json", b) })
	addSamples(f, "records", func(b []byte) { f.Add("application/json", b) })
	for _, s := range []string{
		"event=call.dial&leg[id]=36&leg[ext]=001&otherLegs[0][num]=%2B380500000001&otherLegs[1][id]=7",
		"otherLegNum=380671234567&trunkNum=", "otherLegNum=", "a[b][c][d][e]=1", "otherLegs[100][num]=1", "x[=1", "leg=1&leg[id]=2",
		"endAt=1435317888511&duration=15&billSecs=4&disposition=0&uuid=d38f07d9-3b59-47aa-c711-94c6bebe1621",
		"foo=1", "event=&trunkNum=1",
	} {
		f.Add("application/x-www-form-urlencoded", []byte(s))
	}
	// Bodies that are no delivery at all: they must be refused.
	f.Add("text/plain", []byte("hello"))
	f.Add("application/json", []byte(`{"foo":1}`))
	f.Add("application/json", []byte(`{"otherLegNum":null}`))
	f.Add("application/json", []byte(`{"event":null,"endAt":null}`))
	f.Add("", []byte(""))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		w, err := ParseWebhook(r)
		if err != nil {
			if !errors.Is(err, voip.ErrMalformed) {
				t.Fatalf("an error that is not ErrMalformed: %v", err)
			}
			return
		}
		kinds := 0
		var raw json.RawMessage
		if w.Event != nil {
			kinds++
			w.Event.Voip()
			if w.Event.Type == "" {
				t.Fatalf("an event without type: %q", body)
			}
			raw = w.Event.Raw
		}
		if w.Lookup != nil {
			kinds++
			raw = w.Lookup.Raw
		}
		if w.Record != nil {
			kinds++
			w.Record.Call()
			raw = w.Record.Raw
		}
		if kinds != 1 {
			t.Fatalf("%d kinds of delivery in %q", kinds, body)
		}
		if !json.Valid(raw) {
			t.Fatalf("Raw is not JSON: %q", raw)
		}
	})
}

// FuzzParseRecord checks history records.
func FuzzParseRecord(f *testing.F) {
	addSamples(f, "records", func(b []byte) { f.Add(b) })
	f.Add([]byte(`{"endAt":1,"duration":604800,"billSecs":0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		r, err := ParseRecord(data)
		if err != nil {
			return
		}
		c := r.Call()
		if !c.StartedAt.IsZero() && c.StartedAt.After(r.EndAt) {
			t.Fatalf("starts after its end: %s", data)
		}
		_ = r.Line()
	})
}

// FuzzDecodeList holds the one-pass list reader (active calls, users,
// history pages) to the reading it replaced: the list split into raw
// elements with encoding/json, then each element decoded on its own. Both
// refuse the same bodies; otherwise they give the same elements, each with
// the same bytes and the same value or the same refusal.
func FuzzDecodeList(f *testing.F) {
	addSamples(f, "vendor", func(b []byte) { f.Add(b) })
	for _, s := range []string{
		"", " ", "null", " null\n", "[]", "[null]", `[1,"a",{"b":[]},[2]]`, "\u00a0[1]\u00a0",
		`{"items":[1]}`, `{"calls":null}`, `{"content":[{"id":1}],"items":[2]}`,
		`{"list":[5],"data":[4],"content":[3],"calls":[2],"items":[1]}`, `{"list":[5],"data":[4],"content":[3],"calls":[2]}`,
		`{"list":[5],"data":[4],"content":[3]}`, `{"list":[5],"data":[4]}`, `{"list":{"data":[3]}}`,
		`{"data":{"items":{"calls":{}}}}`, `{}`, `{"foo":[]}`, `{"Items":[1]}`, `{"items":5}`, `{"items":"[1]"}`,
		`{"items":[1],"items":[2]}`, `[1,`, `[1] x`, `"x"`, `5`, `true`, `{"items":[1e400]}`,
		"[\"\xff\xfe\"]", "[\x00]", `[9223372036854775808, -1e-400]`,
		`[{"id":"x"},{"uuid":1,"leg":{"id":"a"}},{"duration":"5"}]`, `[{"leg":{"id":{}}, "uuid":"a"}, {"uuid":"b"}]`,
		`[ {"otherLegs":[1]} , {"lgDirection":[[]],"x":1}, {} ]`, `[{"leg":"x","leg2":{"id":1,"type":{"a":[1,{}]}}}]`,
		strings.Repeat(`{"items":`, 5000) + "[]" + strings.Repeat("}", 5000),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		sameList[wireRecord](t, body)
		sameList[wireEvent](t, body)
		sameList[wireUser](t, body)
	})
}

// sameList compares decodeList with the split-then-decode reading.
func sameList[W any](t *testing.T, body []byte) {
	t.Helper()
	items, err := decodeList[W](body, 0)
	raws, oerr := splitWithEncodingJSON(body, true)
	if (err == nil) != (oerr == nil) {
		t.Fatalf("%T: decodeList says %v; the split %v; body %q", items, err, oerr, body)
	}
	if err != nil {
		require.NotEmpty(t, err.Error())
		return
	}
	require.Len(t, items, len(raws), "%q", body)
	for i, raw := range raws {
		require.Equal(t, string(raw), string(items[i].raw), "element %d of %q", i, body)
		var w W
		werr := objectWithEncodingJSON(raw, &w)
		if (werr == nil) != (items[i].err == nil) {
			t.Fatalf("element %d of %q: decodeList says %v; on its own %v", i, body, items[i].err, werr)
		}
		if werr == nil {
			require.Equal(t, w, items[i].w, "element %d of %q", i, body)
		}
	}
}

// splitWithEncodingJSON is the list reading decodeList replaced.
func splitWithEncodingJSON(body []byte, wrapped bool) ([]json.RawMessage, error) {
	b := bytes.TrimSpace(body)
	if string(b) == "null" || len(b) == 0 {
		return nil, nil
	}
	if b[0] == '{' && wrapped {
		var wrap map[string]json.RawMessage
		if err := json.Unmarshal(b, &wrap); err != nil {
			return nil, err
		}
		for _, k := range listKeys {
			if v, ok := wrap[k]; ok {
				return splitWithEncodingJSON(v, false)
			}
		}
		return nil, errors.New("an object where a list was expected")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, err
	}
	return items, nil
}

// objectWithEncodingJSON is unmarshalObject on encoding/json.
func objectWithEncodingJSON(data []byte, v any) error {
	b := bytes.TrimSpace(data)
	if len(b) == 0 || b[0] != '{' {
		return errors.New("not a JSON object")
	}
	return json.Unmarshal(b, v)
}

// decodeAny decodes one JSON value, numbers as written.
func decodeAny(b []byte) (any, error) {
	if !json.Valid(b) {
		return nil, errors.New("not JSON")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

// FuzzParseUser checks one item of the users list: a JSON object whose
// fields are scalars and whose id is an integer is read, with the text of
// its fields kept (leading zeros of ext); anything else is an error; and a
// user written back in the wire shape reads the same.
func FuzzParseUser(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "vendor", "users.json"))
	require.NoError(f, err)
	items, err := splitWithEncodingJSON(b, true)
	require.NoError(f, err)
	for _, it := range items {
		f.Add([]byte(it))
	}
	for _, s := range []string{
		`{"id":"30","displayName":" Иван ","ext":"001","email":null}`, `{"id":9007199254740993,"ext":901}`,
		`{"id":1.0,"ext":true}`, `{"id":1.5}`, `{"id":"1e3"}`, `{"id":""}`, `{"id":null,"ext":null}`, `{"id":9223372036854775808}`,
		`{"id":{}}`, `{"ext":[]}`, `{"EXT":"1","ext":"2"}`, `{"ext":"\u0000 "}`, `{}`, `[]`, `null`, ``, `"x"`,
		"{\"displayName\":\"\xff\"}", `{"id":-0}`, `{"id":"  -12 "}`, `{"id":"+5"}`, `{"id":"007"}`,
		`{"id":1,"ext":1e400}`, `{"id":"٣"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, item []byte) {
		if len(item) > maxFuzzInput {
			return
		}
		u, err := parseUser(item)
		var w struct {
			ID          json.RawMessage `json:"id"`
			DisplayName json.RawMessage `json:"displayName"`
			Ext         json.RawMessage `json:"ext"`
			Email       json.RawMessage `json:"email"`
		}
		trimmed := bytes.TrimSpace(item)
		isObject := len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &w) == nil
		if err != nil {
			require.NotEmpty(t, err.Error())
			if isObject {
				_, idOK := intOracle(w.ID)
				_, dOK := textOracle(w.DisplayName)
				_, eOK := textOracle(w.Ext)
				_, mOK := textOracle(w.Email)
				require.False(t, idOK && dOK && eOK && mOK, "refused a plain user %q: %v", item, err)
			}
			return
		}
		require.True(t, isObject, "a user out of %q", item)
		for _, c := range []struct {
			raw json.RawMessage
			got string
		}{{w.DisplayName, u.DisplayName}, {w.Ext, u.Ext}, {w.Email, u.Email}} {
			if want, ok := textOracle(c.raw); ok {
				require.Equal(t, want, c.got, "from %s", c.raw)
			}
		}
		if id, ok := intOracle(w.ID); ok {
			require.Equal(t, id, u.ID, "from %s", w.ID)
		}
		back, err := json.Marshal(map[string]any{"id": u.ID, "displayName": u.DisplayName, "ext": u.Ext, "email": u.Email})
		require.NoError(t, err)
		again, err := parseUser(back)
		require.NoError(t, err)
		require.Equal(t, u, again)
	})
}

// textOracle is what a lenient text field reads from raw, as documented:
// absent or null is "", a string is trimmed, a number or a bool is its
// literal. ok is false for an object or an array.
func textOracle(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "", true
	}
	v, err := decodeAny(raw)
	if err != nil {
		return "", false
	}
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return strings.TrimSpace(x), true
	case json.Number, bool:
		return string(bytes.TrimSpace(raw)), true
	}
	return "", false
}

// intOracle is what a lenient integer field reads from raw when raw is one
// of the plain shapes: absent, null, "", or a decimal integer in range, bare
// or in a string. ok is false for anything else (which may or may not be
// accepted).
func intOracle(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 {
		return 0, true
	}
	v, err := decodeAny(raw)
	if err != nil {
		return 0, false
	}
	var text string
	switch x := v.(type) {
	case nil:
		return 0, true
	case string:
		text = strings.TrimSpace(x)
		if text == "" {
			return 0, true
		}
	case json.Number:
		text = x.String()
	default:
		return 0, false
	}
	n, err := strconv.ParseInt(text, 10, 64)
	return n, err == nil
}

// voipClasses are the class sentinels an API error matches.
var voipClasses = []error{
	voip.ErrNotSupported, voip.ErrBadRequest, voip.ErrUnauthorized, voip.ErrForbidden, voip.ErrNotFound,
	voip.ErrConflict, voip.ErrRateLimited, voip.ErrServer, voip.ErrBadResponse, voip.ErrUnreachable,
}

// requireOneClass checks that err is an *voip.APIError that matches exactly
// one class, once the pipeline filled in the status as it does, and returns
// that class.
func requireOneClass(t *testing.T, err error, status int) error {
	t.Helper()
	var e *voip.APIError
	require.ErrorAs(t, err, &e)
	filled := *e
	filled.Vendor = Vendor
	if filled.StatusCode == 0 {
		filled.StatusCode = status
	}
	var classes []error
	for _, c := range voipClasses {
		if errors.Is(&filled, c) {
			classes = append(classes, c)
		}
	}
	require.Len(t, classes, 1, "status %d: %v matches %v", status, &filled, classes)
	require.NotEmpty(t, filled.Error())
	return classes[0]
}

// FuzzCheckAPI checks the error answers of the API and of the recordings:
// 2xx passes (a recording served as an HTML page is a refusal); any other
// status is an *voip.APIError of exactly one class, the status's own for
// 4xx and 5xx; a redirect toward a login or authorization page is
// voip.ErrUnauthorized, another one voip.ErrBadResponse; the message kept
// from a body is one line of valid UTF-8, cut to maxMessage bytes and "…".
func FuzzCheckAPI(f *testing.F) {
	for _, s := range []struct {
		status          int
		location, ctype string
		body            string
	}{
		{200, "", "application/json", `{"uuid":"x"}`},
		{200, "", "text/html; charset=UTF-8", "<!DOCTYPE html><title>Login</title>"},
		{200, "", "TEXT/HTML", ""},
		{200, "", "text/html;", ""},
		{206, "", "audio/mpeg", "ID3"},
		{302, "https://qwerty.phonet.com.ua/login.jsp?redirect=%2Frest%2Fusers", "", ""},
		{302, "/security/authorize", "", ""},
		{303, "/SignIn", "", ""},
		{302, "https://id.phonet.com.ua/OAuth2/start", "", ""},
		{301, "https://login.phonet.com.ua/", "", ""},
		{307, "/rest/users/", "", ""},
		{302, "/lo%zzgin?ticket=x", "", ""},
		{302, "", "", ""},
		{304, "::", "", ""},
		{400, "", "text/plain", "Bad request\r\nsecond line"},
		{401, "", "", ""},
		{403, "", "text/html", "<html>Forbidden</html>"},
		{404, "", "", strings.Repeat("я", 150)},
		{409, "", "", "\xff\xfe"},
		{429, "", "", "slow down"},
		{500, "", "", "\x00"},
		{502, "", "text/plain", "  502 Bad Gateway  "},
		{101, "", "", ""},
		{99, "", "", "odd"},
		{0, "", "", ""},
		{999, "", "", ""},
	} {
		f.Add(s.status, s.location, s.ctype, []byte(s.body), false)
		f.Add(s.status, s.location, s.ctype, []byte(s.body), true)
	}
	f.Fuzz(func(t *testing.T, status int, location, contentType string, body []byte, media bool) {
		if status < 0 || status > 999 || len(body) > maxFuzzInput { // net/http reads three digits
			return
		}
		resp := &rest.Response{StatusCode: status, Body: body,
			Header: http.Header{"Location": {location}, "Content-Type": {contentType}}}
		check := checkAPI
		if media {
			check = checkMedia
		}
		err := check(resp)
		if status >= 200 && status < 300 {
			mt, _, _ := strings.Cut(contentType, ";")
			if media && strings.EqualFold(strings.TrimSpace(mt), "text/html") {
				require.ErrorIs(t, err, voip.ErrUnauthorized, "a login page as a recording")
				requireOneClass(t, err, status)
				return
			}
			require.NoError(t, err)
			return
		}
		require.Error(t, err)
		class := requireOneClass(t, err, status)
		if media {
			require.Equal(t, checkAPI(resp), err, "a recording's failure is the API's")
		}
		var e *voip.APIError
		require.ErrorAs(t, err, &e)
		if status >= 300 && status < 400 {
			target := location
			if u, err := url.Parse(location); err == nil {
				target = u.Path
			}
			target = strings.ToLower(target)
			if strings.Contains(target, "login") || strings.Contains(target, "auth") {
				require.Equal(t, voip.ErrUnauthorized, class, "a redirect to %q", location)
			} else if !strings.Contains(target, "signin") && !strings.Contains(target, "security") {
				require.Equal(t, voip.ErrBadResponse, class, "a redirect to %q", location)
			}
			return
		}
		if k := voip.StatusKind(status); k != nil {
			require.Equal(t, k, class)
		}
		m := e.Message
		require.True(t, utf8.ValidString(m), "%q", m)
		require.NotContains(t, m, "\n")
		require.NotContains(t, m, "\r")
		if status >= 400 {
			require.Contains(t, string(body), m, "the message is the body's own words (the pipeline cuts it after redacting)")
		}
	})
}

// FuzzClientAddr checks the source address the allowlist sees: always an
// address written in RemoteAddr or X-Forwarded-For, never a trusted proxy
// unless every hop is one, the rightmost hop that is not a trusted proxy;
// an X-Forwarded-For from a peer that is not a trusted proxy is ignored,
// and hops a client writes to the left of it change nothing.
func FuzzClientAddr(f *testing.F) {
	for _, s := range [][3]string{
		{"89.184.65.208:51234", "", ""},
		{"203.0.113.7:51234", "89.184.65.208", ""},
		{"203.0.113.7:51234", "89.184.65.208", "10.0.0.0/8"},
		{"10.0.0.2:443", "89.184.65.208", "10.0.0.0/8"},
		{"10.0.0.2:443", "89.184.65.208, 10.0.0.5", "10.0.0.0/8"},
		{"10.0.0.2:443", "89.184.65.208, 203.0.113.7, 10.0.0.5", "10.0.0.0/8"},
		{"10.0.0.2:443", "10.0.0.7,10.0.0.5", "10.0.0.0/8"},
		{"10.0.0.2:443", "", "10.0.0.0/8"},
		{"10.0.0.2:443", "unknown, 89.184.65.208", "10.0.0.0/8"},
		{"10.0.0.2:443", "89.184.65.208,,", "10.0.0.0/8"},
		{"10.0.0.2:443", "89.184.65.208\n10.0.0.9", "10.0.0.0/8"},
		{"10.0.0.2:443", "89.184.65.208:80", "10.0.0.0/8"},
		{"[::1]:80", "::ffff:89.184.65.208", "::1/128"},
		{"[::ffff:10.0.0.2]:80", "89.184.65.208", "10.0.0.0/8"},
		{"[fe80::1%eth0]:80", "89.184.65.208", "fe80::/10"},
		{"10.0.0.2:1", "fe80::1%eth0", "10.0.0.0/8,0.0.0.0/0"},
		{"10.0.0.2", "89.184.65.208", "10.0.0.2"},
		{"::1", "89.184.65.208", "::/0"},
		{"[::1]", "89.184.65.208", "::/0"},
		{"@", "89.184.65.208", "0.0.0.0/0"},
		{"", "", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	spoof := []string{"203.0.113.66, not-an-address", "89.184.65.208"}
	f.Fuzz(func(t *testing.T, remote, xff, trustedList string) {
		if len(remote)+len(xff)+len(trustedList) > maxFuzzInput {
			return
		}
		trusted := prefixes(trustedList)
		var header []string
		if xff != "" {
			header = strings.Split(xff, "\n")
		}
		req := func(values ...string) *http.Request {
			r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
			for _, v := range values {
				r.Header.Add("X-Forwarded-For", v)
			}
			return r
		}
		got, ok := clientAddr(req(header...), trusted)
		peer, peerOK := clientAddr(req(header...), nil)
		if peerOK {
			require.Contains(t, peerCandidates(remote), peer, "the peer of %q", remote)
		}
		var hops []string
		for _, v := range header {
			hops = append(hops, strings.Split(v, ",")...)
		}
		if ok {
			require.True(t, got.IsValid())
			require.False(t, got.Is4In6(), "%v is not unmapped", got)
			if got != peer {
				require.Contains(t, hopAddrs(hops), got, "%v is nowhere in %q", got, xff)
			}
		}

		// Allowlisting Phonet's addresses: a peer that is no trusted proxy
		// passes only if it is Phonet's itself.
		srv := &webhookServer{cfg: WebhookConfig{AllowFrom: PhonetAddresses(), TrustedProxies: trusted}}
		verr := srv.verify(req(header...))
		if verr == nil {
			require.True(t, ok && inAny(got, PhonetAddresses()), "%v passed the allowlist", got)
		} else {
			require.ErrorIs(t, verr, voip.ErrUnverified)
		}

		switch {
		case !peerOK:
			require.False(t, ok, "a source without a peer: %v", got)
			return
		case !inAny(peer, trusted):
			require.True(t, ok)
			require.Equal(t, peer, got, "X-Forwarded-For believed from %v, which is no trusted proxy", peer)
			return
		}
		if !ok {
			// A malformed hop stops the walk before any untrusted one.
			bad := false
			for i := len(hops) - 1; i >= 0; i-- {
				a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
				if err != nil {
					bad = true
					break
				}
				require.True(t, inAny(a.Unmap(), trusted), "refused %q behind the client %v", xff, a)
			}
			require.True(t, bad || len(hops) == 0, "refused %q", xff)
		} else if inAny(got, trusted) {
			require.Equal(t, peer, got, "a trusted proxy %v taken for the client", got)
			for _, h := range hops {
				a, err := netip.ParseAddr(strings.TrimSpace(h))
				require.NoError(t, err)
				require.True(t, inAny(a.Unmap(), trusted), "the client %v behind %q was skipped", a, xff)
			}
		} else {
			last := -1
			for i, h := range hops {
				if a, err := netip.ParseAddr(strings.TrimSpace(h)); err == nil && a.Unmap() == got {
					last = i
				}
			}
			require.GreaterOrEqual(t, last, 0)
			for _, h := range hops[last+1:] {
				a, err := netip.ParseAddr(strings.TrimSpace(h))
				require.NoError(t, err)
				require.True(t, inAny(a.Unmap(), trusted), "%v is not the rightmost untrusted hop of %q", got, xff)
			}
		}
		if len(hops) > 0 && (!ok || !inAny(got, trusted)) {
			again, againOK := clientAddr(req(append(spoof, header...)...), trusted)
			require.Equal(t, ok, againOK, "a hop written by the client changed the outcome")
			require.Equal(t, got, again, "a hop written by the client was believed")
		}
	})
}

// prefixes reads a comma-separated list of prefixes and addresses, skipping
// what is neither.
func prefixes(list string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
		} else if a, err := netip.ParseAddr(s); err == nil {
			if p := netip.PrefixFrom(a, a.BitLen()); p.IsValid() {
				out = append(out, p)
			}
		}
	}
	return out
}

// peerCandidates are the addresses RemoteAddr can be read as.
func peerCandidates(remote string) []netip.Addr {
	var out []netip.Addr
	for _, s := range []string{remote, strings.Trim(remote, "[]")} {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a.Unmap())
		}
	}
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		out = append(out, ap.Addr().Unmap())
	}
	if h, _, err := net.SplitHostPort(remote); err == nil {
		if a, err := netip.ParseAddr(h); err == nil {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// hopAddrs are the addresses in X-Forwarded-For entries.
func hopAddrs(hops []string) []netip.Addr {
	var out []netip.Addr
	for _, h := range hops {
		if a, err := netip.ParseAddr(strings.TrimSpace(h)); err == nil {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// FuzzWebhookToken checks the URL token of the webhook handler: a request
// gets past it only if its query holds the token under TokenParam, and
// always when the token is the first value of that parameter of a valid
// query; a refusal is 401, calls nothing and does not quote the token; and
// on GET the token never reaches a delivery's Raw.
func FuzzWebhookToken(f *testing.F) {
	ev := `{"event":"call.dial","uuid":"47a968893984475b8c20e29dec144ce3"}`
	for _, s := range []struct {
		token, param, query string
		get, lead           bool
		body                string
	}{
		{"s3cr3tToken", "", "token=s3cr3tToken", false, false, ev},
		{"s3cr3tToken", "", "token=wrong", false, false, ev},
		{"s3cr3tToken", "", "", false, false, ev},
		{"s3cr3tToken", "", "Token=s3cr3tToken", false, false, ev},
		{"s3cr3tToken", "", "token=wrong&token=s3cr3tToken", false, false, ev},
		{"s3cr3tToken", "", "event=call.dial&uuid=1&token=s3cr3tToken", true, false, ""},
		{"s3cr3tToken", "key", "event=call.hangup&key=s3cr3tToken&key=other", true, false, ""},
		{"s3cr3tToken", "", "otherLegNum=380500000001&token[x]=1", true, true, ""},
		{"s3cr3tToken", "", "token=s3cr3tToken;x=1", true, false, ""},
		{"s3cr3tToken", "", "%74oken=s3cr3tToken&event=call.dial", true, false, ""},
		{"a b&c=d", "p q", "p+q=a+b%26c%3Dd", false, false, ev},
		{"s3cr3tToken", "", "token=s3cr3tToken%zz", false, false, ev},
		{"", "", "event=call.dial", true, false, ""},
		{"x\x00y", "", "token=x%00y", false, false, "{"},
	} {
		f.Add(s.token, s.param, s.query, s.get, s.lead, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, token, param, query string, get, lead bool, body []byte) {
		if len(body) > maxFuzzInput || len(query) > maxFuzzInput {
			return
		}
		name := param
		if name == "" {
			name = DefaultTokenParam
		}
		if lead {
			query = url.QueryEscape(name) + "=" + url.QueryEscape(token) + "&" + query
		}
		var raws []json.RawMessage
		h, err := NewWebhookHandler(WebhookConfig{
			Token: token, TokenParam: param, DedupeWindow: -1,
			Event: func(_ context.Context, ev *Event) error { raws = append(raws, ev.Raw); return nil },
			Lookup: func(_ context.Context, req LookupRequest) (*Card, error) {
				raws = append(raws, req.Raw)
				return nil, nil
			},
			Record: func(_ context.Context, r Record) error { raws = append(raws, r.Raw); return nil },
		})
		require.NoError(t, err)
		r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/hook", RawQuery: query},
			Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(body)),
			RemoteAddr: "89.184.65.208:40000"}
		if get {
			r.Method, r.Body = http.MethodGet, http.NoBody
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)

		if w.Code == http.StatusUnauthorized {
			require.NotEmpty(t, token, "refused without a token to check")
			require.Empty(t, raws, "a refused request was delivered")
			if len(token) >= 4 {
				require.NotContains(t, w.Body.String(), token)
			}
			_, perr := url.ParseQuery(query)
			require.False(t, lead && perr == nil, "refused the token in %q", query)
			return
		}
		if token != "" {
			require.True(t, queryHas(query, name, token), "%q passed without the token %q", query, token)
		}
		if len(raws) > 0 {
			require.Equal(t, http.StatusOK, w.Code)
		}
		if !get || !distinctive(token) {
			return
		}
		// The token may reach Raw only through another parameter that
		// carries it.
		for _, pair := range strings.Split(query, "&") {
			k, _, _ := strings.Cut(pair, "=")
			if uk, err := url.QueryUnescape(k); err == nil && uk == name {
				continue
			}
			if strings.Contains(pair, token) || strings.Contains(unescaped(pair), token) {
				return
			}
		}
		for _, raw := range raws {
			require.NotContains(t, string(raw), token, "the token reached Raw from %q", query)
		}
	})
}

// queryHas reports whether the raw query has a parameter name=value, read
// the way forms are.
func queryHas(query, name, value string) bool {
	for _, pair := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(pair, "=")
		uk, err1 := url.QueryUnescape(k)
		uv, err2 := url.QueryUnescape(v)
		if err1 == nil && err2 == nil && uk == name && uv == value {
			return true
		}
	}
	return false
}

// unescaped is s query-unescaped, or s when it does not unescape.
func unescaped(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// distinctive reports a token that cannot appear in a JSON delivery by
// accident: five letters or digits or more.
func distinctive(token string) bool {
	if len(token) < 5 {
		return false
	}
	for _, c := range token {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// FuzzSessionCookie checks the session read from the authorize answer's
// Set-Cookie headers: it is a JSESSIONID value that some header carries,
// one the server does not delete in the same answer (Max-Age=0), and it
// comes back unchanged in the Cookie header of the next requests; a plain
// JSESSIONID=<id> first among the headers is always read.
func FuzzSessionCookie(f *testing.F) {
	for _, s := range [][3]string{
		{"3F2A9C1D77B0E4A5D1C2B3A4F5E6D7C8", "; Path=/; HttpOnly", ""},
		{"abc", "; Path=/; Secure; SameSite=Lax", "SERVERID=x; Path=/"},
		{"", "; Path=/", "JSESSIONID=second; Path=/"},
		{"old", "; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:10 GMT", "JSESSIONID=new; Path=/"},
		{"old", "; Max-Age=-1", ""},
		{`"quoted"`, "", ""},
		{"a b", "", ""},
		{"a;b", "", ""},
		{"x", "", "jsessionid=lower\nJSESSIONID=\nJSESSIONID =spaced"},
		{"\x00", "", "JSESSIONID=ok"},
		{"é", "; Path=/", ""},
	} {
		f.Add(s[0], s[1], s[2], true)
		f.Add(s[0], s[1], s[2], false)
	}
	f.Fuzz(func(t *testing.T, id, attrs, others string, lead bool) {
		if len(id)+len(attrs)+len(others) > maxFuzzInput {
			return
		}
		var lines []string
		if lead {
			lines = append(lines, cookieName+"="+id+attrs)
		}
		if others != "" {
			lines = append(lines, strings.Split(others, "\n")...)
		}
		got := sessionCookie(http.Header{"Set-Cookie": lines})

		live := map[string]bool{}    // the JSESSIONID values the headers set
		deleted := map[string]bool{} // and those they delete
		for _, l := range lines {
			if c, err := http.ParseSetCookie(l); err == nil && c.Name == cookieName && c.Value != "" {
				if c.MaxAge < 0 {
					deleted[c.Value] = true
				} else {
					live[c.Value] = true
				}
			}
		}
		if got == "" {
			require.Empty(t, live, "no session read from %q", lines)
			return
		}
		require.True(t, live[got], "%q is no session that %q opens (deleted: %v)", got, lines, deleted[got])
		// The next requests carry it unchanged.
		r := &http.Request{Header: http.Header{}}
		r.AddCookie(&http.Cookie{Name: cookieName, Value: got})
		back, err := r.Cookie(cookieName)
		require.NoError(t, err)
		require.Equal(t, got, back.Value, "sent as %q", r.Header.Get("Cookie"))
		if lead && plainCookieValue(id) && (attrs == "" || attrs[0] == ';') {
			if c, err := http.ParseSetCookie(lines[0]); err == nil && c.MaxAge >= 0 {
				require.Equal(t, id, got)
			}
		}
	})
}

// plainCookieValue reports an id made of letters, digits and "-._~".
func plainCookieValue(id string) bool {
	if id == "" {
		return false
	}
	for _, c := range id {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune("-._~", c)) {
			return false
		}
	}
	return true
}

// FuzzStreamDecode checks the socket's frame dispatch: a frame that is no
// event is a *DecodeError (voip.ErrMalformed) and goes nowhere; a success
// or error message without uuid goes to the click2call waiting for it, and
// becomes that call's outcome; with no call waiting it is an event, and
// ends the wait for an owed reply; any other frame is one event, stamped
// with the subscriber, on the stream's channel or a Hub's sink.
func FuzzStreamDecode(f *testing.F) {
	addSamples(f, "events", func(b []byte) { f.Add(b, false, false, false) })
	for _, s := range []string{
		`{"event":"success"}`, `{"event":"error","message":"Subscriber not found"}`, `{"event":" success "}`,
		`{"event":"error","uuid":null,"message":{"x":1}}`, `{"event":"error","uuid":"  "}`, `{"event":"Error"}`,
		`{"event":"success","uuid":"47a968893984475b8c20e29dec144ce3"}`, `{"lastEvent":"success"}`,
		`{"event":"error","message":"` + strings.Repeat("й", 300) + `"}`, `[{"event":"success"}]`,
		`{"event":{"x":1}}`, `{"event":"success"} {"event":"error"}`, "null", "", "\x00", "{\"event\":\"\xff\"}",
	} {
		for i := range 8 {
			f.Add([]byte(s), i&1 != 0, i&2 != 0, i&4 != 0)
		}
	}
	f.Fuzz(func(t *testing.T, frame []byte, waiting, owed, hub bool) {
		if len(frame) > maxFuzzInput {
			return
		}
		s := &Stream{subscriber: "001", callTimeout: time.Hour}
		var reply chan *Event
		if waiting {
			reply = s.expect()
		}
		var owedCh chan struct{}
		if owed && !waiting { // a call waits only once no reply is owed
			owedCh = make(chan struct{})
			s.owed, s.owedUntil = owedCh, time.Now().Add(time.Hour)
		}
		var emitted, sunk []*Event
		if hub {
			s.sink = func(ev *Event) { sunk = append(sunk, ev) }
		}
		err := s.decode(websocket.MessageText, frame, func(ev *Event) { emitted = append(emitted, ev) })
		out := append(emitted, sunk...)
		if hub {
			require.Empty(t, emitted, "a Hub's event on the stream's channel")
		}

		want, perr := ParseEvent(frame)
		if perr != nil {
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			require.ErrorIs(t, err, voip.ErrMalformed)
			require.NotEmpty(t, err.Error())
			require.Empty(t, out)
			require.Len(t, reply, 0)
			require.True(t, s.waiter == reply && s.owed == owedCh, "a malformed frame changed the waits")
			return
		}
		require.NoError(t, err)
		isReply := (want.Type == EventSuccess || want.Type == EventError) && want.UUID == ""
		switch {
		case isReply && waiting:
			require.Empty(t, out, "the reply was also an event")
			require.Nil(t, s.waiter)
			require.Len(t, reply, 1)
			ev := <-reply
			require.Equal(t, string(frame), string(ev.Raw))
			callErr := replyError(ev)
			if want.Type == EventSuccess {
				require.NoError(t, callErr)
			} else {
				require.ErrorIs(t, callErr, voip.ErrBadRequest)
				require.NotErrorIs(t, callErr, voip.ErrAmbiguous)
				var e *voip.APIError
				require.ErrorAs(t, callErr, &e)
				require.Equal(t, want.Message, e.Message)
				require.NotEmpty(t, callErr.Error())
			}
			return
		case isReply && owed:
			require.Nil(t, s.owed, "the owed reply came and the wait goes on")
			require.True(t, s.owedUntil.IsZero())
			select {
			case <-owedCh:
			default:
				t.Fatal("the held call was not let go")
			}
		default:
			require.True(t, s.waiter == reply && s.owed == owedCh, "an event changed the waits")
			require.Len(t, reply, 0, "an event was taken for a reply")
		}
		require.Len(t, out, 1)
		require.Equal(t, "001", out[0].Subscriber)
		require.Equal(t, want.Type, out[0].Type)
		require.Equal(t, string(frame), string(out[0].Raw))
	})
}

// FuzzStreamCalls drives the click2call reply matching through a sequence
// of steps: a call begins (unless one is in flight, or a reply is owed:
// then it is held), a reply frame, an event frame, the call gives up
// (timeout or ctx), the call reads its reply, a reconnect, the owed
// reply's wait runs out, the send fails. A call gets the first reply after
// it began and only that; a reply owed to a call that gave up is an event
// and never the next call's; a reconnect tells a waiting call that its
// reply is lost and settles what is owed; nothing else is an event.
func FuzzStreamCalls(f *testing.F) {
	f.Add([]byte{0, 1, 5})                   // a call and its success
	f.Add([]byte{0, 2, 5})                   // a call refused
	f.Add([]byte{0, 4, 0, 2, 0, 1, 5})       // gave up; held; the late error is an event; the next call's success
	f.Add([]byte{0, 4, 7, 0, 2, 5, 1})       // gave up; the wait ran out; the next call gets the next reply
	f.Add([]byte{0, 4, 6, 0, 1, 4})          // gave up; reconnect; a call whose reply comes as it gives up
	f.Add([]byte{0, 6, 1, 5})                // the connection lost while waiting
	f.Add([]byte{0, 8, 1, 0, 3, 1, 3, 5, 3}) // the send failed: a reply with no call is an event
	f.Add([]byte{3, 1, 2, 7, 6, 4, 5, 8})    // nothing in flight
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 { // enough for every state; longer ones slow the minimizer
			return
		}
		s := &Stream{subscriber: "001", callTimeout: time.Hour}
		var events []string
		emit := func(ev *Event) { events = append(events, ev.Message) }
		var (
			inflight  chan *Event // the call waiting for its reply, if any
			delivered bool        // its reply, or the news of a reconnect, is in inflight
			answer    string      // the message of that reply; "" for a reconnect
			owed      bool        // a call gave up waiting: its reply may still come
			want      []string    // the frames that must have been events
		)
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		outcome := func(ev *Event) {
			t.Helper()
			err := replyError(ev)
			switch {
			case answer == "":
				require.Nil(t, ev)
				require.ErrorIs(t, err, voip.ErrAmbiguous)
			case strings.HasPrefix(answer, "success"):
				require.NotNil(t, ev)
				require.Equal(t, answer, ev.Message)
				require.NoError(t, err)
			default:
				require.NotNil(t, ev)
				require.Equal(t, answer, ev.Message)
				require.ErrorIs(t, err, voip.ErrBadRequest)
			}
		}
		frame := func(typ, uuid, msg string) {
			t.Helper()
			b, _ := json.Marshal(map[string]string{"event": typ, "uuid": uuid, "message": msg})
			require.NoError(t, s.decode(websocket.MessageText, b, emit))
		}
		for i, op := range ops {
			switch op % 9 {
			case 0: // a click2call begins
				if inflight != nil {
					continue // the call slot is taken
				}
				err := s.awaitOwed(cancelled)
				if owed {
					require.ErrorIs(t, err, context.Canceled, "step %d: a call went out while a reply was owed", i)
					continue
				}
				require.NoError(t, err)
				inflight, delivered, answer = s.expect(), false, ""
			case 1, 2: // a reply frame
				typ := [...]string{"success", "error"}[op%9-1]
				msg := fmt.Sprintf("%s %d", typ, i)
				frame(typ, "", msg)
				if inflight != nil && !delivered {
					delivered, answer = true, msg
				} else {
					want = append(want, msg)
					owed = false
				}
			case 3: // an event, or a reply to someone else (it has a uuid)
				msg := fmt.Sprintf("event %d", i)
				frame([...]string{"call.dial", "success", "error"}[i%3], "47a968893984475b8c20e29dec144ce3", msg)
				want = append(want, msg)
			case 4: // the call gives up: its timer fired or its ctx ended
				if inflight == nil {
					continue
				}
				ev, ok := s.abandon(inflight, true)
				require.Equal(t, delivered, ok, "step %d", i)
				if ok {
					outcome(ev)
				} else {
					owed = true
				}
				inflight = nil
			case 5: // the call reads its reply
				if inflight == nil {
					continue
				}
				select {
				case ev := <-inflight:
					require.True(t, delivered, "step %d: a reply nobody sent", i)
					outcome(ev)
					inflight = nil
				default:
					require.False(t, delivered, "step %d: the reply did not arrive", i)
				}
			case 6: // the socket reconnects
				require.NoError(t, s.connected(context.Background(), nil))
				if inflight != nil && !delivered {
					delivered, answer = true, ""
				}
				owed = false
			case 7: // the next call waited the whole call timeout for the owed reply
				if inflight != nil {
					continue
				}
				s.mu.Lock()
				if s.owed != nil {
					s.owedUntil = time.Now().Add(-time.Second)
				}
				s.mu.Unlock()
				require.NoError(t, s.awaitOwed(context.Background()))
				owed = false
			case 8: // the send failed: nothing went out
				if inflight == nil || delivered {
					continue
				}
				_, ok := s.abandon(inflight, false)
				require.False(t, ok)
				inflight = nil
			}
			s.mu.Lock()
			waiter, owedCh := s.waiter, s.owed
			s.mu.Unlock()
			require.Equal(t, inflight != nil && !delivered, waiter != nil, "step %d: waiting", i)
			if waiter != nil {
				require.True(t, waiter == inflight, "step %d: a reply would go to another call", i)
			}
			require.Equal(t, owed, owedCh != nil, "step %d: owed", i)
			require.Equal(t, want, events, "step %d: events", i)
		}
	})
}
