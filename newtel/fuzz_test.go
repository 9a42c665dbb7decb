package newtel

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
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
