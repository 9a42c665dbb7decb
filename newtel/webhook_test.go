package newtel_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/newtel/newteltest"
	"github.com/pbxkit/pbxkit/voip"
)

// webhookKey is the «Ключ для подписи данных» of the tests.
const webhookKey = "webhook-key-0123456789"

// receiver is one test's CRM URL, collecting what WebhookHandler delivers.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	updates []voip.Update
	others  []*newtel.Webhook
}

func newReceiver(t *testing.T, key string, verify newtel.WebhookVerifier) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(newtel.WebhookHandler(key, newtel.Handler{
		Verify: verify,
		Update: func(_ context.Context, u voip.Update) error {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			rc.updates = append(rc.updates, u)
			return nil
		},
		Other: func(_ context.Context, w *newtel.Webhook) error {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			rc.others = append(rc.others, w)
			return nil
		},
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() ([]voip.Update, []*newtel.Webhook) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]voip.Update(nil), rc.updates...), append([]*newtel.Webhook(nil), rc.others...)
}

func (rc *receiver) post(t *testing.T, body string) int {
	t.Helper()
	resp, err := rc.Client().Post(rc.URL, "application/json", bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}

func TestInboundCallFromEmulator(t *testing.T) {
	t.Parallel()
	srv, _ := newEmulator(t)
	rc := newReceiver(t, webhookKey, nil)
	hooks := newteltest.Webhooks{URL: rc.URL, Key: webhookKey, Client: rc.Client()}
	id, err := srv.PlayInbound(t.Context(), hooks, newteltest.InboundCall{Client: "79161234567", DID: "74951502837",
		Ext: "102", Ring: 8 * time.Second, Talk: 87 * time.Second})
	require.NoError(t, err)

	updates, others := rc.got()
	require.Len(t, updates, 3)
	require.Len(t, others, 2, "ringingStart and ringingEnd")
	assert.Equal(t, newtel.EventRingingStart, others[0].Name)
	assert.Equal(t, "102", others[0].RingingNumber)

	start, answer, end := *updates[0].Event, *updates[1].Event, *updates[2].Event
	for _, ev := range []voip.Event{start, answer, end} {
		assert.Equal(t, id, ev.CallID)
		assert.Equal(t, voip.DirectionIn, ev.Direction)
		assert.Equal(t, "+79161234567", ev.Client)
		assert.Equal(t, "+74951502837", ev.Line)
		assert.Equal(t, newtel.Vendor, ev.Vendor)
	}
	assert.Equal(t, voip.EventStart, start.Kind)
	assert.Equal(t, voip.EventAnswer, answer.Kind)
	assert.Equal(t, "102", answer.Ext)
	assert.Equal(t, voip.EventEnd, end.Kind)
	assert.Equal(t, voip.DispositionAnswered, end.Disposition)
	assert.Nil(t, updates[0].Call)

	call := updates[2].Call
	require.NotNil(t, call)
	assert.Equal(t, id, call.ID)
	assert.Equal(t, "102", call.Ext)
	assert.Equal(t, 95*time.Second, call.Duration)
	assert.Equal(t, 87*time.Second, call.Talk)
	assert.Equal(t, start.At, call.StartedAt)
	assert.Equal(t, answer.At, call.AnsweredAt)
	assert.Equal(t, srv.URL+"/records/"+id+".mp3", call.RecordingURL)
}

func TestOutboundCallFromEmulator(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	rc := newReceiver(t, webhookKey, nil)
	_, err := c.GenerateCall(t.Context(), "101", "+7 916 123-45-67")
	require.NoError(t, err)
	hooks := newteltest.Webhooks{URL: rc.URL, Key: webhookKey, Client: rc.Client()}
	require.NoError(t, srv.PlayOutbound(t.Context(), hooks, srv.Calls()[0], 5*time.Second, time.Minute))
	updates, _ := rc.got()
	require.Len(t, updates, 2)
	ev := updates[1].Event
	assert.Equal(t, voip.DirectionOut, ev.Direction)
	assert.Equal(t, "+79161234567", ev.Client)
	assert.Equal(t, "101", ev.Ext)
	assert.Equal(t, "+74951502837", ev.Line)
	assert.Equal(t, srv.Calls()[0].CallID, updates[1].Call.ID)
	assert.Equal(t, time.Minute, updates[1].Call.Talk)
}

// The data of the signature tests: Cyrillic, a URL and a nested array, in
// a pretty-printed body, so that the raw text differs from every encoding.
const (
	prettyData = `{
    "vpbxId": "vpbx-1", "time": 1758190000, "dnid": "74951502837", "clid": "79161234567",
    "status": "answered", "duration": 95, "ringduration": 8, "fisrtAnswer": "101", "allAnswer": ["101", 102],
    "comment": "Звонок 😀", "callRecordLink": "https://records.new-tel.net/a/file.mp3"
  }`
	phpData = `{"vpbxId":"vpbx-1","time":1758190000,"dnid":"74951502837","clid":"79161234567","status":"answered","duration":95,"ringduration":8,"fisrtAnswer":"101","allAnswer":["101",102],"comment":"\u0417\u0432\u043e\u043d\u043e\u043a \ud83d\ude00","callRecordLink":"https:\/\/records.new-tel.net\/a\/file.mp3"}`
	jsData  = `{"vpbxId":"vpbx-1","time":1758190000,"dnid":"74951502837","clid":"79161234567","status":"answered","duration":95,"ringduration":8,"fisrtAnswer":"101","allAnswer":["101",102],"comment":"Звонок 😀","callRecordLink":"https://records.new-tel.net/a/file.mp3"}`
)

func sha1Hex(s string) string   { sum := sha1.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
func sha256Hex(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }

func TestWebhookSignatureVariants(t *testing.T) {
	t.Parallel()
	const event = "inboundCallEnd"
	body := func(sig, data string) string {
		return `{"event":"` + event + `","signature":"` + sig + `","data":` + data + `}`
	}
	withOwnSig := func(sig string) string { return `{"signature":"` + sig + `",` + jsData[1:] }
	accepted := map[string]string{
		"sha1 over raw pretty data":     body(sha1Hex(event+"\n"+prettyData+"\n"+webhookKey), prettyData),
		"sha1 over PHP encoding":        body(sha1Hex(event+"\n"+phpData+"\n"+webhookKey), prettyData),
		"sha1 over JSON.stringify":      body(sha1Hex(event+"\n"+jsData+"\n"+webhookKey), prettyData),
		"sha256 over PHP encoding":      body(sha256Hex(event+"\n"+phpData+"\n"+webhookKey), prettyData),
		"upper-case hex":                body(upperHex(sha1Hex(event+"\n"+jsData+"\n"+webhookKey)), jsData),
		"data's own signature left out": `{"event":"` + event + `","data":` + withOwnSig(sha1Hex(event+"\n"+jsData+"\n"+webhookKey)) + `}`,
	}
	for name, b := range accepted {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, webhookKey, nil)
			require.Equal(t, http.StatusOK, rc.post(t, b))
			updates, _ := rc.got()
			require.Len(t, updates, 1)
			assert.Equal(t, "https://records.new-tel.net/a/file.mp3", updates[0].Call.RecordingURL)
		})
	}
	rejected := map[string]string{
		"wrong key":         body(sha1Hex(event+"\n"+phpData+"\n"+"other-key"), prettyData),
		"other event":       body(sha1Hex("inboundCallStart\n"+phpData+"\n"+webhookKey), prettyData),
		"no signature":      `{"event":"` + event + `","data":` + jsData + `}`,
		"signature not hex": body("zz", jsData),
		"changed data":      body(sha1Hex(event+"\n"+jsData+"\n"+webhookKey), `{"vpbxId":"vpbx-2"}`),
	}
	for name, b := range rejected {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, webhookKey, nil)
			assert.Equal(t, http.StatusUnauthorized, rc.post(t, b))
			updates, _ := rc.got()
			assert.Empty(t, updates)
		})
	}
	t.Run("no key fails closed", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, "", nil)
		assert.Equal(t, http.StatusUnauthorized, rc.post(t, accepted["sha1 over PHP encoding"]))
	})
	t.Run("verification skipped on purpose", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, "", newtel.SkipWebhookVerification())
		assert.Equal(t, http.StatusOK, rc.post(t, rejected["no signature"]))
	})
}

func TestWebhookSamples(t *testing.T) {
	t.Parallel()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "webhooks", name))
		require.NoError(t, err)
		return b
	}
	skip := newtel.SkipWebhookVerification()

	w, err := newtel.ParseWebhook(read("inbound_call_end_openapi.json"), skip)
	require.NoError(t, err)
	call, ok := w.Call()
	require.True(t, ok)
	assert.Equal(t, "call-123", call.ID)
	assert.Equal(t, "+998901234567", call.Client)
	assert.Equal(t, "712345678", call.Line, "kept as sent when it is not a number")
	assert.Equal(t, "101", call.Ext)
	assert.Equal(t, time.Unix(1758190000-95, 0).UTC(), call.StartedAt)
	assert.Equal(t, 87*time.Second, call.Talk)

	w, err = newtel.ParseWebhook(read("outbound_call_start_strings.json"), skip)
	require.NoError(t, err)
	ev, ok := w.Event()
	require.True(t, ok)
	assert.Equal(t, voip.Event{Kind: voip.EventStart, Vendor: newtel.Vendor, CallID: "4417", Direction: voip.DirectionOut,
		Client: "+79161234567", Ext: "101", Line: "+74951502837", At: time.Unix(1758190000, 0).UTC(), Raw: w.Raw}, ev)
	_, ok = w.Call()
	assert.False(t, ok)

	w, err = newtel.ParseWebhook(read("inbound_call_end_php_sic.json"), skip)
	require.NoError(t, err)
	call, _ = w.Call()
	assert.Equal(t, voip.DispositionNoAnswer, call.Disposition)
	assert.Equal(t, "no answer", call.RawStatus)
	assert.False(t, call.Answered())
	assert.Equal(t, 21*time.Second, call.Duration)

	w, err = newtel.ParseWebhook(read("ringing_start_nested.json"), skip)
	require.NoError(t, err)
	assert.Equal(t, newtel.EventRingingStart, w.Name)
	assert.Equal(t, "102", w.RingingNumber)
	_, ok = w.Event()
	assert.False(t, ok)

	for name, body := range map[string]string{
		"not JSON":      "event=inboundCallStart",
		"no event":      `{"data":{"vpbxId":"1"}}`,
		"data array":    `{"event":"inboundCallStart","data":[]}`,
		"bad time":      `{"event":"inboundCallStart","data":{"time":"yesterday"}}`,
		"negative":      `{"event":"inboundCallEnd","data":{"duration":-1}}`,
		"bad allAnswer": `{"event":"inboundCallEnd","data":{"allAnswer":{"a":1}}}`,
	} {
		_, err := newtel.ParseWebhook([]byte(body), skip)
		assert.ErrorIs(t, err, voip.ErrMalformed, name)
	}
}
