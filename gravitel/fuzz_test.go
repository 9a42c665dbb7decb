package gravitel

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// fuzzToken is the crm_token of the samples.
const fuzzToken = "1"

// seedFiles returns the samples under testdata/dir.
func seedFiles(f *testing.F, dir string) map[string][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	require.NoError(f, err)
	require.NotEmpty(f, paths)
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		out[p] = b
	}
	return out
}

func FuzzParseWebhook(f *testing.F) {
	for path, b := range seedFiles(f, "webhooks") {
		ct := "application/x-www-form-urlencoded"
		if strings.HasSuffix(path, ".json") {
			ct = "application/json; charset=utf-8"
		}
		f.Add(b, ct)
	}
	f.Add([]byte("cmd=event&type=incoming&callid=1&crm_token=1&ext=%D0%AF&phone=%2B7+916"), "")
	f.Add([]byte(`{"cmd":"history","type":"IN","callid":{"a":1},"crm_token":1,"duration":1e3}`), "application/json")
	f.Add([]byte("cmd=history&type=in&callid=1&crm_token=1&start=2017-07-07+16%3A14%3A08.25+%2B0300"), "")
	f.Add([]byte(`{"cmd":"history","type":"out","callid":"1","crm_token":"1","start":"2017-07-07 16:14:08Z"}`), "application/json")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		if len(body) > voip.DefaultWebhookMaxBody {
			return
		}
		w, err := parseWebhook(contentType, body, fuzzToken, time.Unix(0, 0))
		if err != nil {
			var we *voip.WebhookError
			require.ErrorAs(t, err, &we)
			require.True(t, errors.Is(err, voip.ErrMalformed) || errors.Is(err, voip.ErrUnverified), err)
			require.NotEmpty(t, we.Message)
			return
		}
		require.True(t, json.Valid(w.Raw), "Raw is not JSON: %s", w.Raw)
		require.NotContains(t, string(w.Raw), `"crm_token"`)
		require.Contains(t, commands, w.Cmd)
		ev, isEvent := w.Event()
		call, isCall := w.Call()
		require.False(t, isEvent && isCall)
		if isEvent {
			_, err := json.Marshal(ev)
			require.NoError(t, err)
			require.NotEqual(t, voip.EventUnknown, ev.Kind)
		}
		if isCall {
			_, err := json.Marshal(call)
			require.NoError(t, err)
		}
	})
}

func FuzzParseHistory(f *testing.F) {
	for _, b := range seedFiles(f, "history") {
		f.Add(b)
	}
	f.Add([]byte("\"a,b\",in,+7,x,+7,2017-07-07T16:14:08+03:00,1,2,\"u\"\"rl\"\r\n"))
	f.Add([]byte("x,in,+7,x,+7,20170707T161408Z,,,\n\n\n"))
	f.Add([]byte("\ufeffuid,type,client,account,via,start,wait,duration,record,status\nx,in,+7,x,+7,2017-07-07 16:14:08,1,2,,Success,more\n"))
	f.Add([]byte("start,id,rating\n2017-07-07 16:14:08.5 +0300,x,5\n2017-07-07T16:14:08,y\n"))
	f.Add([]byte("x,out,+7,x,+7,2017-07-07 16:14:08+03,1,2,\ny,in,+7,y,+7,\"2017-07-07 16:14:08,25 -0300\",0,0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		records, err := ParseHistory(bytes.NewReader(data))
		if err != nil {
			var herr *HistoryError
			require.ErrorAs(t, err, &herr)
			require.Positive(t, herr.Line)
			return
		}
		for _, r := range records {
			require.GreaterOrEqual(t, r.Wait, time.Duration(0))
			require.GreaterOrEqual(t, r.Duration, time.Duration(0))
			require.Equal(t, time.UTC, r.Start.Location())
			c := r.Call()
			require.True(t, json.Valid(c.Raw))
			require.Equal(t, r.Wait+r.Duration, c.Duration)
		}
	})
}

func FuzzCallID(f *testing.F) {
	for _, s := range []string{`{"uuid":"28187487-edcf-4d23-9f95-c8591fbd9936"}`, `{"CallID":1511}`, `"x"`, "", "OK", "<html>", `{"uuid":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := callID(body)
		if err == nil {
			require.Equal(t, strings.TrimSpace(id), id)
		}
	})
}

// errorClasses are the voip classes a failed command may match.
var errorClasses = []error{
	voip.ErrNotSupported, voip.ErrBadRequest, voip.ErrUnauthorized, voip.ErrForbidden, voip.ErrNotFound,
	voip.ErrConflict, voip.ErrRateLimited, voip.ErrServer, voip.ErrBadResponse, voip.ErrUnreachable,
}

// hasASCIIPrefixFold reports whether s starts with the ASCII prefix in any
// case, byte by byte.
func hasASCIIPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		a, b := s[i], prefix[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// requireClassified checks a failure of checkResponse: an *voip.APIError of
// exactly one voip class, the one its message names when it names one.
func requireClassified(t *testing.T, err error, status int) *voip.APIError {
	t.Helper()
	var e *voip.APIError
	require.ErrorAs(t, err, &e)
	require.Contains(t, errorClasses, e.Kind)
	matched := 0
	for _, k := range errorClasses {
		if errors.Is(err, k) {
			matched++
		}
	}
	require.Equal(t, 1, matched, "%v matches %d classes", err, matched)
	switch {
	case hasASCIIPrefixFold(e.Message, msgInvalidToken):
		require.Equal(t, voip.ErrUnauthorized, e.Kind, "%q", e.Message)
	case hasASCIIPrefixFold(e.Message, msgInvalidParameters):
		require.Equal(t, voip.ErrBadRequest, e.Kind, "%q", e.Message)
	case status >= 400:
		require.Equal(t, voip.StatusKind(status), e.Kind, "status %d, %q", status, e.Message)
	case status >= 300:
		require.Equal(t, voip.ErrNotFound, e.Kind, "status %d, %q", status, e.Message)
	default:
		// A 2xx (or an odd status) carrying an error: the PBX refused.
		require.Equal(t, voip.ErrBadRequest, e.Kind, "status %d, %q", status, e.Message)
	}
	return e
}

// errorSamples are answers of the PBX and of what sits in front of it.
var errorSamples = []string{
	`{"error":"Invalid parameters"}`, `{"error":"Invalid parameters: [cmd]"}`, `{"error":"Invalid token"}`,
	`{"error":"INVALID TOKEN for tenant"}`, `{"error":" invalid parameters "}`, `{"error":"Something odd"}`,
	`{"error":null}`, `{"error":false}`, `{"error":""}`, `{"error":"  "}`, `{"error":401}`, `{"error":1e999}`,
	`{"error":{"code":401,"message":"Invalid token"}}`, `{"error":["Invalid token"]}`, `{"ERROR":"Invalid token"}`,
	`{"error":"a","error":null}`, `{"error":"\u0000\ud800"}`, "{\"error\":\"\xff\xfe\"}", `{"status":"error","result":"x"}`,
	`{"uuid":"28187487-edcf-4d23-9f95-c8591fbd9936"}`, `{}`, `[]`, `null`, `"Invalid token"`, "OK", "",
	"502 Gateway Timeout", "<html><body>nginx</body></html>", "Invalid token\nsecond line", "\x00\x00",
	`{"error":"Invalid token"`, `{"error":"` + strings.Repeat("я", 300) + `"}`, strings.Repeat("x", 300),
}

// FuzzCheckResponse: every answer the PBX's client reads goes through
// checkResponse. A pass is a 2xx without an error member; anything else is
// an *voip.APIError of one class, consistent with its message and status.
func FuzzCheckResponse(f *testing.F) {
	for _, b := range errorSamples {
		for _, status := range []int{200, 302, 400, 401, 503, 0} {
			f.Add(status, []byte(b), "")
		}
	}
	for _, b := range seedFiles(f, "commands") {
		f.Add(200, b, "")
	}
	f.Add(301, []byte(""), "https://example.megapbx.ru/sys/crm_api.wcgp")
	f.Add(307, []byte("<html>Moved</html>"), "http://x/\"\n\xff")
	f.Add(302, []byte(`{"error":"Invalid token"}`), "/login")
	f.Fuzz(func(t *testing.T, status int, body []byte, location string) {
		resp := &rest.Response{StatusCode: status, Header: http.Header{}, Body: body}
		if location != "" {
			resp.Header["Location"] = []string{location}
		}
		err := checkResponse(resp)
		msg, hasError := errorMessage(body)
		success := status >= 200 && status < 300
		if err == nil {
			require.True(t, success && !hasError, "status %d, %q passed", status, body)
			return
		}
		require.False(t, success && !hasError, "status %d, %q failed: %v", status, body, err)
		e := requireClassified(t, err, status)
		require.Zero(t, e.StatusCode, "rest fills the status in")
		switch {
		case hasError:
			require.Equal(t, msg, e.Message)
			require.NotEqual(t, "null", e.Message)
			require.NotEqual(t, "false", e.Message)
		case status >= 300 && status < 400:
			require.True(t, strings.HasPrefix(e.Message, "redirected"), e.Message)
			if location != "" {
				require.Contains(t, e.Message, strings.TrimSpace(location))
			}
		default:
			// A text body: one line of it (the pipeline cuts it after
			// redacting).
			require.True(t, utf8.ValidString(e.Message), "%q", e.Message)
			require.NotContains(t, e.Message, "\n")
			require.NotContains(t, e.Message, "\r")
			require.Contains(t, string(body), e.Message)
			require.False(t, strings.HasPrefix(e.Message, "<"), "an HTML page is no message")
		}
	})
}

// FuzzErrorEnvelope builds {"error": …} answers around a fuzzed message and
// checks what checkResponse makes of them, with any status.
func FuzzErrorEnvelope(f *testing.F) {
	for _, msg := range []string{"Invalid token", "Invalid parameters: [cmd]", "invalid TOKEN", "Invalid", " Invalid token ",
		"", " ", "null", "Недостаточно прав", "\x00", "\xff", "Invalid parameters\u2028", "Invalid tokeN\t"} {
		for _, status := range []int{200, 301, 400, 401, 500} {
			f.Add(status, msg, int64(401))
		}
	}
	f.Add(200, "x", int64(-9223372036854775808))
	f.Fuzz(func(t *testing.T, status int, msg string, code int64) {
		quoted, err := json.Marshal(msg)
		require.NoError(t, err)
		success := status >= 200 && status < 300
		check := func(body string) *voip.APIError {
			t.Helper()
			err := checkResponse(&rest.Response{StatusCode: status, Header: http.Header{}, Body: []byte(body)})
			if err == nil {
				require.True(t, success, "%s with status %d passed", body, status)
				return nil
			}
			return requireClassified(t, err, status)
		}

		// A string: the message, trimmed. An empty one is no error.
		var want string
		require.NoError(t, json.Unmarshal(quoted, &want))
		for _, body := range []string{
			`{"error":` + string(quoted) + `}`,
			" \r\n{ \"result\" : [1, {\"a\":null}], \"error\" :\t" + string(quoted) + ", \"status\":\"error\" }\n",
			`{"Error":` + string(quoted) + `,"uuid":"1"}`,
		} {
			e := check(body)
			if want == "" {
				if success {
					require.Nil(t, e, body)
				}
				continue
			}
			require.NotNil(t, e, body)
			require.Equal(t, strings.TrimSpace(want), e.Message, body)
			if utf8.ValidString(msg) {
				require.Equal(t, strings.TrimSpace(msg), e.Message, body)
			}
		}

		// A number or an object: its JSON text.
		e := check(`{"error":` + strconv.FormatInt(code, 10) + `}`)
		require.NotNil(t, e)
		require.Equal(t, strconv.FormatInt(code, 10), e.Message)
		e = check(`{"error":{"code":` + strconv.FormatInt(code, 10) + `,"message":` + string(quoted) + `}}`)
		require.NotNil(t, e)
		var obj struct {
			Code    int64  `json:"code"`
			Message string `json:"message"`
		}
		require.NoError(t, json.Unmarshal([]byte(e.Message), &obj), e.Message)
		require.Equal(t, code, obj.Code)
		require.Equal(t, want, obj.Message)
	})
}

// FuzzCommandAnswers reads any body as the JSON answer of accounts, groups,
// subscriptionStatus and get_dnd. A failure names the command; a success
// has as many entries as the array, trimmed valid UTF-8 that reads back
// the same once encoded again.
func FuzzCommandAnswers(f *testing.F) {
	for _, b := range seedFiles(f, "commands") {
		f.Add(b)
	}
	for _, s := range []string{
		`[{"name":" admin ","realName":"Администратор","ext":701,"telnum":79161234567,"email":null,"extra":{"a":[1]}}]`,
		`[{"id":"sales","realName":"Отдел продаж","ext":"701"},{"id":1.5e3,"ext":true}]`,
		`{"status":"on"}`, `{"status":"OFF"}`, `{"status":1}`, `{"status":"maybe"}`, `{"state":true}`, `{"state":"false"}`,
		`{"state":0}`, `{"state":null}`, `{"state":{"a":1}}`, `{"status":" On ","state":" Off "}`, `{"STATE":"on"}`,
		`[]`, `null`, `[null]`, `[{}]`, `{}`, `[{"name":{"a":1}}]`, `[{"name":"\ud800"}]`, "[{\"name\":\"\xff\"}]",
		"", "   ", "OK", "<html>", `[1]`, `["a"]`, `[{"ext":1e999}]`, `[{"ext":-0.0}]`, `{"status":"on"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		entries := func() int {
			var raw []json.RawMessage
			require.NoError(t, json.Unmarshal(body, &raw))
			return len(raw)
		}
		requireText := func(vs ...string) {
			for _, v := range vs {
				require.True(t, utf8.ValidString(v), "%q", v)
				require.Equal(t, strings.TrimSpace(v), v)
			}
		}
		// A body that is not the command's JSON names the command; a flag
		// that is not one says so.
		failed := func(name string, err error) {
			require.True(t, strings.HasPrefix(err.Error(), name+": "), err.Error())
		}

		if accounts, err := parseAccounts(body); err != nil {
			failed(cmdAccounts, err)
		} else {
			require.Len(t, accounts, entries())
			wire := make([]map[string]string, len(accounts))
			for i, a := range accounts {
				requireText(a.Name, a.RealName, a.Ext, a.Telnum, a.Email)
				wire[i] = map[string]string{"name": a.Name, "realName": a.RealName, "ext": a.Ext, "telnum": a.Telnum, "email": a.Email}
			}
			again, err := parseAccounts(mustJSON(t, wire))
			require.NoError(t, err)
			require.Equal(t, accounts, again)
		}

		if groups, err := parseGroups(body); err != nil {
			failed(cmdGroups, err)
		} else {
			require.Len(t, groups, entries())
			wire := make([]map[string]string, len(groups))
			for i, g := range groups {
				requireText(g.ID, g.RealName, g.Ext)
				wire[i] = map[string]string{"id": g.ID, "realName": g.RealName, "ext": g.Ext}
			}
			again, err := parseGroups(mustJSON(t, wire))
			require.NoError(t, err)
			require.Equal(t, groups, again)
		}

		for _, flag := range []struct {
			name, member string
			parse        func([]byte) (bool, error)
		}{{cmdSubscriptionStatus, "status", parseSubscriptionStatus}, {cmdGetDND, "state", parseDND}} {
			on, err := flag.parse(body)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "unexpected state ") {
					failed(flag.name, err)
				}
				continue
			}
			require.True(t, json.Valid(body), "%s took %q", flag.name, body)
			// The member the answer was read from says the same, alone.
			var m map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(body, &m), "%s took %q", flag.name, body)
			var member json.RawMessage
			spellings := 0
			for k, v := range m {
				if strings.EqualFold(k, flag.member) {
					member = v
					spellings++
				}
			}
			if spellings > 1 {
				continue // "state" and "State": the last in the body counts
			}
			if member == nil {
				// No member reads as an empty state, which is no flag.
				require.Fail(t, "no member", "%s took %q without %q", flag.name, body, flag.member)
			}
			alone, err := flag.parse([]byte(`{"` + flag.member + `":` + string(member) + `}`))
			require.NoError(t, err)
			require.Equal(t, on, alone)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// FuzzParseFlag: the on/off words of subscriptionStatus and get_dnd, in any
// case and spacing, as a JSON string, number or bool.
func FuzzParseFlag(f *testing.F) {
	for _, s := range []string{"on", "off", "ON", " Off\n", "true", "FALSE", "1", "0", "", "yes", "01", "1.0", "on\x00", "\xff", "ｏｎ", "o\u0307n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 128 {
			// A flag is a word: longer inputs add nothing past the cut of
			// the error's quote, and only slow the minimizer down.
			return
		}
		on, err := parseFlag(s)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "unexpected state "), err.Error())
		} else {
			word := strings.ToLower(strings.TrimSpace(s))
			require.Contains(t, []string{"on", "off", "true", "false", "1", "0"}, word)
			require.Equal(t, word == "on" || word == "true" || word == "1", on)
			upper, err := parseFlag(strings.ToUpper(s))
			require.NoError(t, err)
			require.Equal(t, on, upper)
		}
		// The same word in the answers, quoted.
		quoted := mustJSON(t, s)
		status, serr := parseSubscriptionStatus([]byte(`{"status":` + string(quoted) + `}`))
		dnd, derr := parseDND([]byte(`{"state":` + string(quoted) + `}`))
		if utf8.ValidString(s) {
			require.Equal(t, err == nil, serr == nil, "%q", s)
			require.Equal(t, err == nil, derr == nil, "%q", s)
			require.Equal(t, on, status)
			require.Equal(t, on, dnd)
		}
	})
}

// FuzzCheckAck: the answer of a command that carries no data passes when it
// is empty, the word OK or JSON (the protocol's {} or a later object), and
// is otherwise an error naming the command.
func FuzzCheckAck(f *testing.F) {
	for _, b := range seedFiles(f, "commands") {
		f.Add(b)
	}
	for _, s := range []string{"OK", "ok\r\n", " Ok ", "", "\n\t", "{}", `{"result":"ok"}`, "[]", "null", `"OK"`, "1", "true",
		"OK.", "OKAY", "<html>OK</html>", "{", `{"a":}`, "\x00", "\xef\xbb\xbfOK", "O\u212a", strings.Repeat("k", 100)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := checkAck(cmdSetDND, &rest.Response{StatusCode: 200, Body: body})
		b := bytes.TrimSpace(body)
		object := len(b) > 0 && (b[0] == '{' || b[0] == '[') && json.Valid(b)
		// OK in any case; Unicode's folding lets the Kelvin sign pass for a
		// K, which is harmless.
		okWord := strings.EqualFold(string(b), "ok")
		require.Equal(t, len(b) == 0 || okWord || object, err == nil, "%q: %v", body, err)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), cmdSetDND+": unexpected answer "), err.Error())
			return
		}
		// Spacing around the answer does not change it.
		spaced := append(append([]byte(" \r\n\t"), body...), " \n"...)
		require.NoError(t, checkAck(cmdSetDND, &rest.Response{StatusCode: 200, Body: spaced}))
	})
}

// TestPhone: party fields come out in E.164, or as sent.
func TestPhone(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"79161234567": "+79161234567", "89161234567": "+79161234567", "380501234567": "+380501234567",
		"101": "101", " anonymous ": "anonymous",
	} {
		require.Equal(t, want, phone(in), in)
	}
}

// FuzzForm: a command's form body is the one url.Values.Encode writes.
func FuzzForm(f *testing.F) {
	f.Add("makeCall", "79161234567", "admin@vats19910.gravitel.ru", "", "pbx key & co")
	f.Add("history", "Отдел продаж", "a=b&c", "+7 916", "%zz")
	f.Fuzz(func(t *testing.T, name, v1, v2, v3, token string) {
		cmd := command{name: name}.with("phone", v1).with("user", v2).with("clid", v3)
		want := url.Values{"cmd": {name}, "token": {token}}
		for _, p := range cmd.params {
			want.Set(p[0], p[1])
		}
		require.Equal(t, want.Encode(), string((&Client{token: token}).form(cmd)))
	})
}
