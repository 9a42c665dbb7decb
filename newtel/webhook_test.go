package newtel_test

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// receiver is one test's CRM URL, collecting what NewWebhookHandler
// delivers.
type receiver struct {
	*httptest.Server
	sink
}

// sink collects the deliveries of one or more handlers, in order.
type sink struct {
	mu      sync.Mutex
	updates []voip.Update
	others  []*newtel.Webhook
}

// config is a WebhookConfig with the test key whose callbacks fill s.
func (s *sink) config() newtel.WebhookConfig {
	return newtel.WebhookConfig{
		Key: webhookKey,
		Update: func(_ context.Context, u voip.Update) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.updates = append(s.updates, u)
			return nil
		},
		Other: func(_ context.Context, w *newtel.Webhook) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.others = append(s.others, w)
			return nil
		},
	}
}

func (s *sink) got() ([]voip.Update, []*newtel.Webhook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.updates), slices.Clone(s.others)
}

// newHandler is NewWebhookHandler(cfg), which must build.
func newHandler(t *testing.T, cfg newtel.WebhookConfig) http.Handler {
	t.Helper()
	h, err := newtel.NewWebhookHandler(cfg)
	require.NoError(t, err)
	return h
}

// newReceiver serves a handler with key and verify (Verify nil: the
// default) whose deliveries it collects.
func newReceiver(t *testing.T, key string, verify newtel.WebhookVerifier) *receiver {
	t.Helper()
	rc := &receiver{}
	cfg := rc.config()
	cfg.Key, cfg.Verify = key, verify
	rc.Server = httptest.NewServer(newHandler(t, cfg))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) post(t *testing.T, body string) int {
	t.Helper()
	resp, err := rc.Client().Post(rc.URL, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}

func (rc *receiver) hooks() newteltest.Webhooks {
	return newteltest.Webhooks{URL: rc.URL, Key: webhookKey, Client: rc.Client()}
}

func TestInboundCallFromEmulator(t *testing.T) {
	t.Parallel()
	srv, _ := newEmulator(t)
	rc := newReceiver(t, webhookKey, nil)
	id, err := srv.PlayInbound(t.Context(), rc.hooks(), newteltest.InboundCall{Client: "79161234567", DID: "74951502837",
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
	assert.Equal(t, srv.URL+"/records/"+id+".mp3", call.RecordingURL)
	// The events and the record tell one story.
	assert.Equal(t, start.At, call.StartedAt)
	assert.Equal(t, start.At.Add(8*time.Second), answer.At)
	assert.Equal(t, answer.At, call.AnsweredAt)
	assert.Equal(t, start.At.Add(95*time.Second), end.At)
	assert.Equal(t, others[1].Time, answer.At, "ringing ends at the answer")
}

func TestUnansweredInboundCallFromEmulator(t *testing.T) {
	t.Parallel()
	srv, _ := newEmulator(t)
	rc := newReceiver(t, webhookKey, nil)
	id, err := srv.PlayInbound(t.Context(), rc.hooks(), newteltest.InboundCall{Client: "79161234567", Ext: "102", Ring: 21 * time.Second})
	require.NoError(t, err)

	updates, others := rc.got()
	require.Len(t, updates, 2, "start and end, no answer")
	require.Len(t, others, 2)
	start, end := *updates[0].Event, *updates[1].Event
	assert.Equal(t, voip.EventStart, start.Kind)
	assert.Equal(t, voip.EventEnd, end.Kind)
	assert.Equal(t, voip.DispositionNoAnswer, end.Disposition)
	assert.Equal(t, "+"+newteltest.DefaultLine, end.Line)
	call := updates[1].Call
	require.NotNil(t, call)
	assert.Equal(t, id, call.ID)
	assert.False(t, call.Answered())
	assert.Equal(t, "no answer", call.RawStatus)
	assert.Empty(t, call.RecordingURL)
	assert.Zero(t, call.Talk)
	assert.True(t, call.AnsweredAt.IsZero())
	assert.Equal(t, 21*time.Second, call.Duration)
	assert.Equal(t, start.At, call.StartedAt)
	assert.Equal(t, start.At.Add(21*time.Second), end.At)
	assert.Equal(t, end.At, others[1].Time, "ringing ends with the call")
}

func TestOutboundCallFromEmulator(t *testing.T) {
	t.Parallel()
	for name, talk := range map[string]time.Duration{"answered": time.Minute, "unanswered": 0} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, c := newEmulator(t)
			rc := newReceiver(t, webhookKey, nil)
			_, err := c.GenerateCall(t.Context(), "101", "+7 916 123-45-67")
			require.NoError(t, err)
			placed := srv.Calls()[0]
			require.NoError(t, srv.PlayOutbound(t.Context(), rc.hooks(), placed, 5*time.Second, talk))
			updates, _ := rc.got()
			require.Len(t, updates, 2)
			start, end := updates[0].Event, updates[1].Event
			assert.Equal(t, voip.EventStart, start.Kind)
			assert.Equal(t, voip.DirectionOut, end.Direction)
			assert.Equal(t, "+79161234567", end.Client)
			assert.Equal(t, "101", end.Ext)
			assert.Equal(t, "+74951502837", end.Line)
			assert.Equal(t, start.At.Add(5*time.Second+talk), end.At)
			assert.False(t, end.At.After(time.Now()), "a played call ends when it is played")
			call := updates[1].Call
			assert.Equal(t, placed.CallID, call.ID)
			assert.Equal(t, start.At, call.StartedAt)
			assert.Equal(t, talk, call.Talk)
			if talk == 0 {
				assert.Equal(t, voip.DispositionNoAnswer, call.Disposition)
				assert.Empty(t, call.RecordingURL)
				assert.True(t, call.AnsweredAt.IsZero())
				return
			}
			assert.Equal(t, voip.DispositionAnswered, call.Disposition)
			assert.Equal(t, start.At.Add(5*time.Second), call.AnsweredAt)
			assert.Equal(t, srv.URL+"/records/"+placed.CallID+".mp3", call.RecordingURL)
		})
	}
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
	t.Run("the default verifier fails closed without a key", func(t *testing.T) {
		t.Parallel()
		_, err := newtel.ParseWebhook(request(accepted["sha1 over PHP encoding"]), newtel.VerifyWebhookSignature(""))
		require.ErrorIs(t, err, newtel.ErrWebhookSignature)
		require.ErrorIs(t, err, voip.ErrUnverified)
	})
	t.Run("verification skipped on purpose", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, "", newtel.SkipWebhookVerification())
		assert.Equal(t, http.StatusOK, rc.post(t, rejected["no signature"]))
	})
}

func TestWebhookSamples(t *testing.T) {
	t.Parallel()
	read := func(name string) *http.Request {
		b, err := os.ReadFile(filepath.Join("testdata", "webhooks", name))
		require.NoError(t, err)
		return request(string(b))
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
		_, err := newtel.ParseWebhook(request(body), skip)
		assert.ErrorIs(t, err, voip.ErrMalformed, name)
	}
}

// request is a POST of body, as a handler receives it.
func request(body string) *http.Request {
	return httptest.NewRequest(http.MethodPost, "/newtel/webhook", strings.NewReader(body))
}
