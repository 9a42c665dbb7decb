package gravitel

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
