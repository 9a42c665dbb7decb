package newtel

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
)

// seedFiles returns the samples under testdata/dir.
func seedFiles(f *testing.F, dir string) [][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	require.NoError(f, err)
	require.NotEmpty(f, paths)
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		out = append(out, b)
	}
	return out
}

// envelopeSamples are the answers of the protocol notes and a few broken ones.
var envelopeSamples = []string{
	`{"status":"success","data":{"result":"success","state":{"balance":123.45,"credit":0,"currency":"RUB"}}}`,
	`{"status":"success","data":{"result":"success","callDetails":{"callId":"2096093321622464437","pin":"1234","status":"answered","oper":"МТС","region":"Москва","isValidNumber":true}}}`,
	`{"status":"error","message":"Invalid signature"}`,
	`{"status":"success","data":{"result":"error","message":"Недостаточно средств"}}`,
	`{"status":1,"message":{"a":[1]},"data":"x"}`,
	`<html>502</html>`, ``, `{"status":"succ`,
}

func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range envelopeSamples {
		for _, status := range []int{200, 400, 401, 429, 500} {
			f.Add(status, []byte(s))
		}
	}
	for _, s := range typedSamples {
		f.Add(200, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		data, e := decodeEnvelope(status, body)
		// The fast path agrees with the full decoder.
		hasData, fe := checkEnvelope(status, body)
		require.Equal(t, e == nil, fe == nil)
		if e != nil {
			require.Equal(t, e.Kind, fe.Kind)
			require.Equal(t, e.Message, fe.Message)
		} else {
			require.Equal(t, len(data) > 0 && string(data) != "null", hasData, "%s", body)
		}
		if e != nil {
			require.Nil(t, data)
			require.NotEmpty(t, e.Error())
			return
		}
		require.True(t, status >= 200 && status < 300, "success on status %d", status)
		require.True(t, len(data) == 0 || json.Valid(data))
		var state stateOf
		if json.Unmarshal(data, &state) == nil && state.validate() == nil {
			_ = state.companyState()
		}
		var details detailsOf
		_ = json.Unmarshal(data, &details)
	})
}

func FuzzParseWebhook(f *testing.F) {
	for _, b := range seedFiles(f, "webhooks") {
		f.Add(b, "")
	}
	f.Add([]byte(`{"event":"inboundCallEnd","signature":"da39a3ee5e6b4b0d3255bfef95601890afd80709","data":{"a":"\u0439\/","b":[1,{"c":null}],"signature":"x"}}`), "key")
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		if len(body) > voip.DefaultWebhookMaxBody {
			return
		}
		verifiers := []WebhookVerifier{SkipWebhookVerification(), VerifyWebhookSignature(key)}
		for _, verify := range verifiers {
			w, err := parseWebhook(body, verify, time.Unix(0, 0))
			if err != nil {
				require.True(t, errors.Is(err, voip.ErrMalformed) || errors.Is(err, voip.ErrUnverified), err)
				continue
			}
			require.NotEmpty(t, w.Name)
			require.True(t, json.Valid(w.Raw))
			require.True(t, json.Valid(w.Data))
			if ev, ok := w.Event(); ok {
				require.NotEqual(t, voip.EventUnknown, ev.Kind)
				_, err := json.Marshal(ev)
				require.NoError(t, err)
			}
			if c, ok := w.Call(); ok {
				require.GreaterOrEqual(t, c.Talk, time.Duration(0))
			}
		}
	})
}

// FuzzReencode checks the signature candidates' re-encoder: whatever it
// writes is valid JSON with the same value as its input.
func FuzzReencode(f *testing.F) {
	for _, b := range seedFiles(f, "webhooks") {
		f.Add(b)
	}
	f.Add([]byte(`{"a":"😀 й / \u0001","signature":{"x":[1,2]},"b":[[],{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, esc := range []escaping{escapeJS, escapePHP} {
			out, err := reencode(data, esc, "")
			if err != nil {
				continue
			}
			require.True(t, json.Valid(out), "%s", out)
			var a, b any
			if json.Unmarshal(data, &a) == nil {
				require.NoError(t, json.Unmarshal(out, &b))
				require.Equal(t, a, b)
			}
			_, err = reencode(data, esc, "signature")
			require.NoError(t, err)
		}
	})
}

func FuzzParseCallback(f *testing.F) {
	for _, b := range seedFiles(f, "callbacks") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		cb, err := parseCallback(body, time.Unix(0, 0))
		if err != nil {
			require.ErrorIs(t, err, voip.ErrMalformed)
			return
		}
		require.NotEmpty(t, cb.CallID)
	})
}

func FuzzVerifySignature(f *testing.F) {
	const ak, sk = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071", "f9e8d7c6b5a4938271605f4e3d2c1b0af9e8d7c6b5a49382"
	body := []byte(`{"status":"success"}`)
	f.Add(Sign("company/get-state", body, time.Unix(1700000000, 0), ak, sk), body)
	f.Add("Bearer "+ak+"1", body)
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		err := VerifySignature("company/get-state", body, sig, ak, sk)
		if err != nil {
			require.ErrorIs(t, err, ErrBadSignature)
		}
	})
}

// typedSamples are successful answers of the typed methods, in the shapes
// the protocol notes and the emulator show, and near misses.
var typedSamples = []string{
	`{"status":"success","data":{"result":"success","state":{"balance":123.45,"credit":0,"currency":"RUB","status":"active"}}}`,
	`{"status":"success","data":{"result":"success","state":{"balance":"1e400","credit":null}}}`,
	`{"status":"success","data":{"result":"success","callDetails":{"callId":"2096093321622464437","pin":"1234","status":"answered","oper":"МТС","region":"Москва","isValidNumber":true}}}`,
	`{"status":"success","data":{"result":"success","callDetails":{"callId":"…","callbackLink":"https:\/\/example.com\/?action=callback","clientNumber":"79000000000","isMnp":false,"operatorNameMnp":null,"userData":{"a":[1]},"reasonCode":8}}}`,
	`{"status":"success","data":[]}`, `{"status":"success","data":{"callId":123}}`, `{"status":"success","data":{"callDetails":[]}}`,
	`{"status":"success","data":{"result":"success","widgetConfig":{"login":"100","server":"wss://x"}}}`,
	`{"status":"success","data":{"widgetConfig":null}}`, `{"status":"SUCCESS","data":{"result":"Success","state":{}}}`,
	`{"status":" success ","data":{"result":" success ","state":{}}}`, `{"status":"success","data":{"result":"error","message":"Недостаточно средств"}}`,
	`{"status":"success","data":{"result":1,"state":{}}}`, `{"status":"success","data":null}`, `{"status":"success"}`,
	`{"status":"success","data":{"result":null,"state":{},"widgetConfig":1,"callDetails":{}}}`,
	`{"status":"success","data":{"result":"success","state":{}},"data":{"result":"error"}}`,
	`{"status":"success","data":{"result":"error"},"data":{"state":{},"callDetails":{}}}`,
	`{"status":"success","data":null,"data":{"state":{}}}`, `{"status":"success","Data":{"State":{}},"STATUS":"success"}`,
	`{"status":"error","message":"Invalid signature"}`, `{"status":1,"data":{"state":{}}}`, `{"status":"success","data":"x"}`,
	`{"status":"succ\u0065ss","data":{"result":"succ\u0065ss","state":{}}}`, "{\"status\":\"success\",\"data\":{\"state\":{\"currency\":\"\xff\"}}}",
	`null`, `[]`, ``, `<html>502</html>`, `{"status":"success","data":{"state":{}}`,
	// A member repeated, the last time as null.
	`{"status":"success","data":{"result":"success","state":{},"callDetails":{},"widgetConfig":1},"data":null}`,
	`{"status":"success","status":null,"data":{"result":"success","state":{},"callDetails":{},"widgetConfig":1}}`,
	`{"status":"success","data":{"result":"success","result":null,"state":{},"state":null}}`,
}

// TestRepeatedMemberReadsTheSame: an answer that repeats a member, the last
// time as null, reads the same on the fast paths and the generic ones.
func TestRepeatedMemberReadsTheSame(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		// The last data is null: there is no data, and the typed path
		// must not keep the first.
		`{"status":"success","data":{"result":"success","state":{"balance":1}},"data":null}`,
		// A null status after "success" leaves it so, as encoding/json
		// does for the fast envelope's string.
		`{"status":"success","status":null,"data":{"result":"success","state":{"balance":1}}}`,
		`{"status":"success","status":null,"data":{"result":"error","message":"m"}}`,
		`{"status":"success","data":{"result":"success","result":null,"state":{"balance":1}}}`,
	} {
		data, e := decodeEnvelope(200, []byte(body))
		hasData, fe := checkEnvelope(200, []byte(body))
		require.Equal(t, e == nil, fe == nil, "%s: %v / %v", body, e, fe)
		if e != nil {
			require.Equal(t, e.Kind, fe.Kind, body)
			require.Equal(t, e.Message, fe.Message, body)
			continue
		}
		require.Equal(t, len(data) > 0 && string(data) != "null", hasData, body)
		var fast, slow stateOf
		fastOK := decodeTyped(200, []byte(body), &fast) && fast.validate() == nil
		slowErr := decodeData([]byte(body), hasData, &slow)
		require.Equal(t, fastOK, slowErr == nil, "%s: %v", body, slowErr)
		if fastOK {
			require.Equal(t, fast, slow, body)
		}
	}
}

// FuzzDecodeTyped: the one-pass decoder of typed answers (decodeTyped, the
// fast path of Client.call) and the generic path it falls back to
// (checkEnvelope, then decodeData) agree. When the fast path takes an
// answer, the generic path takes it too, with the same value; when the
// generic path refuses one, its error is of a voip class.
func FuzzDecodeTyped(f *testing.F) {
	for _, s := range append(typedSamples[:len(typedSamples):len(typedSamples)], envelopeSamples...) {
		f.Add(200, []byte(s))
	}
	for _, status := range []int{0, 204, 302, 401, 500} {
		f.Add(status, []byte(typedSamples[0]))
	}
	makers := map[string]func() typedData{
		"state":   func() typedData { return new(stateOf) },
		"details": func() typedData { return new(detailsOf) },
		"widget":  func() typedData { return new(widgetOf) },
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		hasData, e := checkEnvelope(status, body)
		if e != nil {
			require.Contains(t, []error{voip.ErrBadRequest, voip.ErrUnauthorized, voip.ErrForbidden, voip.ErrNotFound,
				voip.ErrConflict, voip.ErrRateLimited, voip.ErrServer, voip.ErrBadResponse, voip.ErrNotSupported}, e.Kind)
		} else {
			require.True(t, status >= 200 && status < 300, "success on status %d", status)
		}
		for name, mk := range makers {
			fast := mk()
			fastOK := decodeTyped(status, body, fast) && fast.validate() == nil
			slow := mk()
			var slowErr error
			if e == nil {
				slowErr = decodeData(body, hasData, slow)
				if slowErr != nil {
					require.NotEmpty(t, slowErr.Error())
				}
			}
			if !fastOK {
				continue
			}
			require.Nil(t, e, "%s: the fast path took %q, the envelope check refused it: %v", name, body, e)
			require.NoError(t, slowErr, "%s: the fast path took %q", name, body)
			require.Equal(t, fast, slow, "%s: %q", name, body)
		}
	})
}

// FuzzVerifyResponse: a response's Signature header, in either form the
// client reads (a token, or the bare digest timed by the request's token or
// the Date header). One the test signs itself with the package's Sign, or
// with SHA-256 over the documented string, passes; a wrong body, key,
// method or date fails with ErrBadSignature, never quoting the digest; and
// whatever passes is one of the signed forms.
func FuzzVerifyResponse(f *testing.F) {
	const method = "company/get-state"
	ak, sk := accessKeyForFuzz, signKeyForFuzz
	for _, b := range append(typedSamples[:4:4], "", `{"status":"error","message":"Invalid signature"}`, "\xff\x00") {
		at := time.Unix(1700000000, 0)
		date := at.UTC().Format(http.TimeFormat)
		token := Sign(method, []byte(b), at, ak, sk)
		bare := token[len(ak)+10:]
		f.Add([]byte(b), at.Unix(), date, token)
		f.Add([]byte(b), at.Unix(), "", "Bearer "+strings.ToUpper(token[:len(ak)])+token[len(ak):])
		f.Add([]byte(b), int64(0), date, bare)
		f.Add([]byte(b), int64(0), at.Add(time.Second).UTC().Format(time.RFC850), strings.ToUpper(bare))
		f.Add([]byte(b), int64(0), at.Add(2*time.Second).UTC().Format(time.ANSIC), " bearer "+bare+"\r\n")
		f.Add([]byte(b), at.Unix(), "Tue, 14 Nov 2023 22:13:20 +0300", ak+"01700000000"+bare)
	}
	f.Add([]byte("{}"), int64(-1), "Mon, 01 Jan 0001 00:00:00 GMT", "")
	f.Add([]byte("{}"), int64(9223372036854775807), "x", ak+"9223372036854775808"+strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, body []byte, unix int64, date, sig string) {
		hash := func(method, ts string, body []byte, signKey string) string {
			sum := sha256.Sum256([]byte(method + "\n" + ts + "\n" + ak + "\n" + string(body) + "\n" + signKey))
			return hex.EncodeToString(sum[:])
		}
		// The times a bare digest may carry.
		var times []int64
		if unix > 0 {
			times = append(times, unix)
		}
		d, dateErr := http.ParseTime(date)
		if dateErr == nil {
			times = append(times, d.Unix(), d.Unix()-1)
		}
		var secrets []string // what no error may quote
		for _, ts := range times {
			secrets = append(secrets, hash(method, strconv.FormatInt(ts, 10), body, sk))
		}
		refused := func(sig string) {
			t.Helper()
			err := verifyResponse(method, unix, body, sig, date, ak, sk)
			require.ErrorIs(t, err, ErrBadSignature, "%q passed", sig)
			msg := err.Error()
			require.NotEmpty(t, strings.TrimPrefix(msg, ErrBadSignature.Error()))
			require.NotContains(t, msg, sk)
			for _, s := range secrets {
				require.NotContains(t, msg, s)
			}
		}

		// The fuzzed header: an error of the class, or one of the signed forms.
		if err := verifyResponse(method, unix, body, sig, date, ak, sk); err != nil {
			refused(sig)
		} else {
			s := strings.TrimSpace(sig)
			if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
				s = strings.TrimSpace(s[7:])
			}
			digest := strings.ToLower(s[max(0, len(s)-64):])
			signed := false
			if ts, ok := strings.CutPrefix(s[:len(s)-len(digest)], ak); ok && ts != "" && strings.Trim(ts, "0123456789") == "" {
				signed = digest == hash(method, ts, body, sk)
			}
			if len(s) == 64 {
				for _, ts := range times {
					signed = signed || digest == hash(method, strconv.FormatInt(ts, 10), body, sk)
				}
			}
			require.True(t, signed, "%q passed for %q at %d, Date %q", sig, body, unix, date)
		}

		// Signatures made here pass.
		if unix >= 0 {
			token := Sign(method, body, time.Unix(unix, 0), ak, sk)
			require.NoError(t, verifyResponse(method, 0, body, token, "", ak, sk))
			require.NoError(t, verifyResponse(method, unix, body, "Bearer "+token, date, ak, sk))
			require.Equal(t, ak+strconv.FormatInt(unix, 10)+hash(method, strconv.FormatInt(unix, 10), body, sk), token)

			// Wrong ones do not.
			refused(Sign(method, append(body[:len(body):len(body)], ' '), time.Unix(unix, 0), ak, sk))
			refused(Sign(method+"2", body, time.Unix(unix, 0), ak, sk))
			refused(Sign(method, body, time.Unix(unix, 0), ak, ak))
			refused(token[len(ak):])
		}
		for _, ts := range times {
			require.NoError(t, verifyResponse(method, unix, body, hash(method, strconv.FormatInt(ts, 10), body, sk), date, ak, sk))
		}
		if dateErr == nil {
			// A bare digest of a later second than Date says, or of an
			// earlier one than the second before, is refused.
			for _, ts := range []int64{d.Unix() + 1, d.Unix() - 2} {
				if ts != unix {
					refused(hash(method, strconv.FormatInt(ts, 10), body, sk))
				}
			}
		}
		if unix > 0 {
			// Without the token's time and a Date, a bare digest has no time.
			err := verifyResponse(method, 0, body, hash(method, strconv.FormatInt(unix, 10), body, sk), "", ak, sk)
			require.ErrorIs(t, err, ErrBadSignature)
		}
	})
}

// The keys of FuzzVerifyResponse: the format of New-Tel's, no account's.
const (
	accessKeyForFuzz = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071"
	signKeyForFuzz   = "f9e8d7c6b5a4938271605f4e3d2c1b0af9e8d7c6b5a49382"
)

// FuzzEmptyArray: PHP's empty array is "[]" once every space is removed,
// spaces inside included.
func FuzzEmptyArray(f *testing.F) {
	for _, s := range []string{"[]", " [ ] ", "[\n\t]", "[1]", "[][]", "[ ] [ ]", "[", "]", "", "{}", "[\u00a0]", "\x85[]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		require.Equal(t, string(bytes.Join(bytes.Fields(b), nil)) == "[]", emptyArray(b), "%q", b)
	})
}
