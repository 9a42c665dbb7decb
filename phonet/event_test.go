package phonet_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/voip"
)

func readSample(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", path))
	require.NoError(t, err)
	return b
}

func TestParseEventSeedSample(t *testing.T) {
	t.Parallel()
	ev, err := phonet.ParseEvent(readSample(t, "events/ws_seed_dial.json"))
	require.NoError(t, err)
	assert.Equal(t, phonet.EventDial, ev.Type)
	assert.Equal(t, "23-1453990999.41", ev.UUID)
	assert.Equal(t, phonet.DirectionIn, ev.Direction)
	assert.Equal(t, &phonet.Leg{ID: 120, Type: phonet.LegUser, Ext: "911", DisplayName: "Support Phonet"}, ev.Leg)
	assert.Nil(t, ev.Leg2)
	require.Len(t, ev.OtherLegs, 1)
	assert.Equal(t, phonet.OtherLeg{ID: "29", Name: "Тест", Num: "+380567777777", CompanyName: "Рекламное агентство",
		URL: "https://qwerty.phonet.com.ua/features/crm/contacts/edit.jsp#/?id=1", Priority: 2}, ev.OtherLegs[0])
	assert.Equal(t, time.UnixMilli(1473973200000).UTC(), ev.DialAt)
	assert.Equal(t, time.UnixMilli(1473973201000).UTC(), ev.ServerTime, "serverTime as a string")
	assert.True(t, ev.BridgeAt.IsZero())

	v, ok := ev.Voip()
	require.True(t, ok)
	assert.Equal(t, voip.Event{
		Kind: voip.EventStart, Vendor: "phonet", CallID: "23-1453990999.41", Direction: voip.DirectionIn,
		Client: "+380567777777", Ext: "911", Line: "+380567850550", RawStatus: "call.dial",
		At: time.UnixMilli(1473973200000).UTC(), Raw: ev.Raw,
	}, v)
}

func TestParseEventWebhookSamples(t *testing.T) {
	t.Parallel()
	ev, err := phonet.ParseEvent(readSample(t, "events/webhook_bridge.json"))
	require.NoError(t, err)
	assert.Equal(t, "qwerty.phonet.com.ua", ev.AccountDomain)
	assert.Equal(t, "1", ev.OtherLegs[0].ID, "an int id")
	assert.Equal(t, time.Unix(1431686112, 0).UTC(), ev.BridgeAt, "seconds")
	v, ok := ev.Voip()
	require.True(t, ok)
	assert.Equal(t, voip.EventAnswer, v.Kind)
	assert.Equal(t, voip.DirectionOut, v.Direction)
	assert.Equal(t, time.Unix(1431686112, 0).UTC(), v.At)

	ev, err = phonet.ParseEvent(readSample(t, "events/webhook_empty_trunks.json"))
	require.NoError(t, err)
	assert.Empty(t, ev.TrunkNum)
	assert.Nil(t, ev.OtherLegs)
	assert.Equal(t, int64(36), ev.Leg.ID, "a string id")
	v, ok = ev.Voip()
	require.True(t, ok)
	assert.Equal(t, voip.EventEnd, v.Kind)
	assert.Equal(t, voip.DispositionUnknown, v.Disposition, "hangup has no outcome")
	assert.Equal(t, voip.DirectionInternal, v.Direction)
	assert.Equal(t, "47a968893984475b8c20e29dec144ce3", v.CallID, "dashed, upper-case uuid normalised")
	assert.Empty(t, v.Line)
	assert.Equal(t, time.UnixMilli(1431686150123).UTC(), v.At)
}

func TestPresenceAndOtherEventsAreKept(t *testing.T) {
	t.Parallel()
	ev, err := phonet.ParseEvent(readSample(t, "events/ws_pause.json"))
	require.NoError(t, err)
	_, ok := ev.Voip()
	assert.False(t, ok, "a pause is not a call")
	p, ok := ev.Presence()
	require.True(t, ok)
	assert.Equal(t, phonet.Presence{Ext: "001", Name: "Иван Иванов", Away: true, At: time.UnixMilli(1473973200000).UTC()}, p)

	ev, err = phonet.ParseEvent(readSample(t, "events/ws_unknown.json"))
	require.NoError(t, err)
	assert.Equal(t, phonet.EventType("user.status"), ev.Type)
	assert.Contains(t, string(ev.Raw), `"status":"online"`)
	assert.False(t, ev.IsCall())

	ev, err = phonet.ParseEvent(readSample(t, "events/ws_error.json"))
	require.NoError(t, err)
	assert.Equal(t, phonet.EventError, ev.Type)
	assert.Equal(t, "Subscriber not found", ev.Message)
}

func TestParseEventRejectsGarbage(t *testing.T) {
	t.Parallel()
	for _, in := range []string{``, `[]`, `"x"`, `{"event":`, `{"lgDirection":{}}`, `{"dialAt":"yesterday"}`, `{"leg":"x"}`} {
		_, err := phonet.ParseEvent([]byte(in))
		var de *phonet.DecodeError
		assert.ErrorAs(t, err, &de, in)
		assert.ErrorIs(t, err, voip.ErrMalformed, in)
	}
}

func TestParseRecordSamples(t *testing.T) {
	t.Parallel()
	r, err := phonet.ParseRecord(readSample(t, "records/internal.json"))
	require.NoError(t, err)
	assert.Equal(t, "https://podium.betell.com.ua/rest/public/calls/f457486f-a539-45dd-c5f5-e735a5870b92/audio", r.AudioRecURL, "trailing space trimmed")
	c := r.Call()
	assert.Equal(t, "f457486fa53945ddc5f5e735a5870b92", c.ID)
	assert.Equal(t, time.UnixMilli(1435319298470-4000).UTC(), c.StartedAt)
	assert.Equal(t, time.UnixMilli(1435319298470-3000).UTC(), c.AnsweredAt)
	assert.Equal(t, "001", c.Ext)
	assert.Empty(t, c.Client)

	r, err = phonet.ParseRecord(readSample(t, "records/outgoing.json"))
	require.NoError(t, err)
	assert.Equal(t, "380442249895", r.Line())
	c = r.Call()
	assert.Equal(t, "+380442249895", c.Line)
	assert.Equal(t, "+380993034330", c.Client)
	assert.Equal(t, voip.DirectionOut, c.Direction)
	assert.Equal(t, 15*time.Second, c.Duration)
	assert.Equal(t, 4*time.Second, c.Talk)

	for code, want := range map[string]voip.Disposition{"0": voip.DispositionAnswered, "1": voip.DispositionNoAnswer,
		"2": voip.DispositionFailed, `"3"`: voip.DispositionFailed, "4": voip.DispositionBusy, "9": voip.DispositionUnknown} {
		r, err := phonet.ParseRecord([]byte(`{"uuid":"u","disposition":` + code + `}`))
		require.NoError(t, err)
		assert.Equal(t, want, r.Call().Disposition, code)
	}
	_, err = phonet.ParseRecord([]byte(`{"duration":-5}`))
	assert.ErrorIs(t, err, voip.ErrMalformed)
}

func TestNormalizeUUID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"47A96889-3984-475B-8C20-E29DEC144CE3": "47a968893984475b8c20e29dec144ce3",
		" 47a968893984475b8c20e29dec144ce3 ":   "47a968893984475b8c20e29dec144ce3",
		"23-1453990999.41":                     "23-1453990999.41",
		"47a96889-3984-475b-8c20-e29dec144cez": "47a96889-3984-475b-8c20-e29dec144cez",
		"----47a968893984475b8c20e29dec144c":   "----47a968893984475b8c20e29dec144c",
		"":                                     "",
	} {
		assert.Equal(t, want, phonet.NormalizeUUID(in), in)
	}
}
