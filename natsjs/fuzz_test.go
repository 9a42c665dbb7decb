package natsjs

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

// realUpdates are updates as the vendor packages make them from their
// emulators' webhooks: a Gravitel event and history, a Phonet event.
func realUpdates(t testing.TB) []voip.Update {
	t.Helper()
	var out []voip.Update
	for _, form := range []url.Values{
		{"cmd": {"event"}, "type": {"INCOMING"}, "callid": {"8d2c6d0e-1111-4c3b-9a51-0d7f3c6b2a01"}, "phone": {"79161234567"},
			"diversion": {"74996861574"}, "user": {"ivan@test.gravitel.ru"}, "ext": {"702"}, "z-flag": {"0"}, "crm_token": {"k"}},
		{"cmd": {"history"}, "type": {"out"}, "status": {"Success"}, "callid": {"8d2c6d0e-3333-4c3b-9a51-0d7f3c6b2a03"},
			"phone": {"79169998877"}, "user": {"admin@test.gravitel.ru"}, "ext": {"701"}, "start": {"20260301T120000Z"},
			"duration": {"65"}, "link": {"https://example.com/r.mp3"}, "z-flag": {"0"}, "crm_token": {"k"}},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		wh, err := gravitel.ParseWebhook(r, "k")
		require.NoError(t, err)
		if ev, ok := wh.Event(); ok {
			out = append(out, voip.Update{Event: &ev})
		}
		if c, ok := wh.Call(); ok {
			out = append(out, voip.Update{Call: &c})
		}
	}
	pbx := phonettest.NewServer("api-key")
	defer pbx.Close()
	for _, typ := range []phonettest.EventType{phonettest.EventDial, phonettest.EventHangup} {
		body, err := json.Marshal(pbx.EventWebhook(typ, "0c5e7f2a9b1d4e3f8a6b5c4d3e2f1a0b", phonettest.DirectionIn, "001", "+380501234567"))
		require.NoError(t, err)
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		wh, err := phonet.ParseWebhook(r)
		require.NoError(t, err)
		ev, ok := wh.Event.Voip()
		require.True(t, ok)
		out = append(out, voip.Update{Event: &ev})
	}
	return out
}

func TestStoredFormRoundTrip(t *testing.T) {
	t.Parallel()
	for _, u := range realUpdates(t) {
		data, err := encodeUpdate(u)
		require.NoError(t, err)
		want, err := json.Marshal(storedUpdate{Event: u.Event, Call: u.Call})
		require.NoError(t, err)
		assert.JSONEq(t, string(want), string(data), "the fast encoder writes what json.Marshal does")
		got, err := DecodeUpdate(data)
		require.NoError(t, err)
		if u.Event != nil {
			u.Event.At = u.Event.At.UTC()
			got.Event.At = got.Event.At.UTC()
		}
		assert.Equal(t, u, got)
	}
}

// TestEncodeEventTimes: times in a zone, out of RFC 3339's years, and
// enums out of range are written or refused as json.Marshal does.
func TestEncodeEventTimes(t *testing.T) {
	t.Parallel()
	for _, at := range []time.Time{{}, time.Date(2026, 3, 1, 15, 0, 5, 123, time.FixedZone("MSK", 3*3600)),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Now()} {
		for _, kind := range []voip.EventKind{voip.EventStart, 9, -1} {
			ev := &voip.Event{Kind: kind, Vendor: "v", At: at}
			fast, ferr := encodeUpdate(voip.Update{Event: ev})
			slow, serr := json.Marshal(storedUpdate{Event: ev})
			require.Equal(t, serr == nil, ferr == nil, "%v %v: fast %v, json.Marshal %v", at, kind, ferr, serr)
			if serr == nil {
				assert.Equal(t, string(slow), string(fast))
			}
		}
	}
}

func TestDecodeUpdateLenient(t *testing.T) {
	t.Parallel()
	u, err := DecodeUpdate([]byte(`{"event":{"kind":"hold","vendor":"webitel","direction":"sideways","call_id":"x","new":1},"extra":true}`))
	require.NoError(t, err, "unknown words and fields of a newer writer")
	assert.Equal(t, voip.EventUnknown, u.Event.Kind)
	assert.Equal(t, voip.DirectionUnknown, u.Event.Direction)
	assert.Equal(t, "x", u.Event.CallID)

	u, err = DecodeUpdate([]byte(`{"call":{"id":"c","vendor":"phonet","duration":1e300,"disposition":"answered"}}`))
	require.NoError(t, err)
	assert.Equal(t, time.Duration(1<<63-1), u.Call.Duration, "clamped")
	assert.True(t, u.Call.Answered())

	for _, bad := range []string{``, `null`, `{}`, `[]`, `{"event":null}`, `{"event":"x"}`, `{"call":{"id":5}}`,
		`{"event":{"at":"yesterday"}}`, `{"event":{"kind":"start"}`} {
		_, err := DecodeUpdate([]byte(bad))
		assert.ErrorIs(t, err, ErrMalformed, "%q", bad)
	}
}

func TestMsgIDIsTheVendorsIdentity(t *testing.T) {
	t.Parallel()
	ev := realUpdates(t)[0].Event
	id := msgID("acme", ev, nil)
	assert.Regexp(t, `^gravitel-[0-9a-f]{32}$`, id)
	same := *ev
	same.At, same.Raw, same.Direction = same.At.Add(time.Second), nil, voip.DirectionOut
	assert.Equal(t, id, msgID("acme", &same, nil), "times, raw and derived fields are not the identity")
	for _, change := range []func(e *voip.Event){
		func(e *voip.Event) { e.CallID += "x" },
		func(e *voip.Event) { e.ParentCallID = "p" },
		func(e *voip.Event) { e.Ext = "703" },
		func(e *voip.Event) { e.Kind = voip.EventEnd },
		func(e *voip.Event) { e.RawStatus = "COMPLETED" },
		func(e *voip.Event) { e.Vendor = "newtel" },
	} {
		other := *ev
		change(&other)
		assert.NotEqual(t, id, msgID("acme", &other, nil))
	}
	assert.NotEqual(t, id, msgID("globex", ev, nil), "tenants apart")
	c := &voip.Call{ID: ev.CallID, Vendor: ev.Vendor, Ext: ev.Ext}
	assert.NotEqual(t, id, msgID("acme", nil, c), "a record is not an event")
}

func TestKVKey(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "gravitel/delivery/0a1b", kvKey("gravitel/delivery/0a1b"))
	assert.Equal(t, "a=2Eb=3D", kvKey("a.b="))
	long := kvKey(strings.Repeat("é", 200))
	assert.Regexp(t, `^==[0-9a-f]{64}$`, long)
	assert.Equal(t, "_", token(""))
	assert.Equal(t, "a=2Eb=20c=2A=3E", token("a.b c*>"))
}

// FuzzDecodeUpdate: the decoder of the stream's messages never panics; what
// it accepts can be stored again and reads back.
func FuzzDecodeUpdate(f *testing.F) {
	for _, u := range realUpdates(f) {
		data, err := encodeUpdate(u)
		require.NoError(f, err)
		f.Add(data)
	}
	for _, s := range []string{`{}`, `not json`, `{"event":{"kind":"weird"}}`, `{"call":{"duration":1e400}}`,
		`{"event":{"raw":{"a":[1,2]}},"call":{"talk":-5}}`, `{"event":{"kind":7}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := DecodeUpdate(data)
		if err != nil {
			assert.ErrorIs(t, err, ErrMalformed)
			return
		}
		again, err := encodeUpdate(u)
		require.NoError(t, err)
		v, err := DecodeUpdate(again)
		require.NoError(t, err)
		if u.Event != nil {
			require.NotNil(t, v.Event)
			assert.Equal(t, u.Event.CallID, v.Event.CallID)
			assert.Equal(t, u.Event.Kind, v.Event.Kind)
		}
		if u.Call != nil {
			require.NotNil(t, v.Call)
			assert.Equal(t, u.Call.ID, v.Call.ID)
		}
	})
}

// FuzzEncodeEvent: the fast encoder of events agrees with json.Marshal on
// any strings and raw message: both fail, or both read back the same.
func FuzzEncodeEvent(f *testing.F) {
	for _, u := range realUpdates(f) {
		if ev := u.Event; ev != nil {
			f.Add(ev.Vendor, ev.CallID, ev.Client, ev.RawStatus, []byte(ev.Raw), int64(ev.At.UnixNano()), int8(ev.Kind))
		}
	}
	f.Add("a\u2028<b>&\x00\xff", "\"\\\n\t\b\f", "é", "", []byte(` { "a" : [1, "<&>\u2028"] } `), int64(-1), int8(2))
	f.Add("", "", "", "", []byte(`{`), int64(0), int8(0))
	f.Fuzz(func(t *testing.T, vendor, callID, client, status string, raw []byte, at int64, kind int8) {
		ev := &voip.Event{Kind: voip.EventKind(kind), Vendor: vendor, CallID: callID, Client: client, RawStatus: status,
			Ext: callID + client, At: time.Unix(0, at).UTC(), Raw: raw}
		fast, ferr := encodeUpdate(voip.Update{Event: ev})
		slow, serr := json.Marshal(storedUpdate{Event: ev})
		require.Equal(t, serr == nil, ferr == nil, "fast %v, json.Marshal %v", ferr, serr)
		if serr != nil {
			return
		}
		a, err := DecodeUpdate(fast)
		require.NoError(t, err)
		b, err := DecodeUpdate(slow)
		require.NoError(t, err)
		assert.Equal(t, sameJSON(t, b.Event.Raw), sameJSON(t, a.Event.Raw), "raw: the same JSON value")
		a.Event.Raw, b.Event.Raw = nil, nil
		assert.Equal(t, b, a)
	})
}

// sameJSON is raw decoded, to compare JSON values whatever their spacing
// and escapes.
func sameJSON(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	if raw == nil {
		return nil
	}
	var v any
	require.NoError(t, json.Unmarshal(raw, &v))
	return v
}
