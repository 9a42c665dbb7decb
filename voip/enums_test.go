package voip_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
)

func TestEnumWords(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "in", voip.DirectionIn.String())
	assert.Equal(t, "internal", voip.DirectionInternal.String())
	assert.Equal(t, "noanswer", voip.DispositionNoAnswer.String())
	assert.Equal(t, "failed", voip.DispositionFailed.String())
	assert.Equal(t, "answer", voip.EventAnswer.String())
	assert.Equal(t, "Direction(9)", voip.Direction(9).String())
	assert.Equal(t, "dropped", voip.NoticeDropped.String())
	assert.Equal(t, "stopped", voip.NoticeStopped.String())
}

func TestEnumTextRoundTrip(t *testing.T) {
	t.Parallel()
	for d := voip.DirectionUnknown; d <= voip.DirectionInternal; d++ {
		b, err := d.MarshalText()
		require.NoError(t, err)
		var back voip.Direction
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, d, back)
	}
	for d := voip.DispositionUnknown; d <= voip.DispositionFailed; d++ {
		b, err := d.MarshalText()
		require.NoError(t, err)
		var back voip.Disposition
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, d, back)
	}
	for k := voip.EventUnknown; k <= voip.EventEnd; k++ {
		b, err := k.MarshalText()
		require.NoError(t, err)
		var back voip.EventKind
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, k, back)
	}
}

func TestEnumUnmarshalIsCaseInsensitiveAndStrict(t *testing.T) {
	t.Parallel()
	var d voip.Disposition
	require.NoError(t, d.UnmarshalText([]byte(" Answered ")))
	assert.Equal(t, voip.DispositionAnswered, d)
	assert.Error(t, d.UnmarshalText([]byte("maybe")))
	_, err := voip.Direction(42).MarshalText()
	assert.Error(t, err)
}

func TestEventJSON(t *testing.T) {
	t.Parallel()
	ev := voip.Event{
		Kind: voip.EventEnd, Vendor: "gravitel", CallID: "c1", Direction: voip.DirectionIn,
		Client: "+79121234567", Ext: "101", Disposition: voip.DispositionCancel, RawStatus: "CANCELLED",
		At: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), Raw: json.RawMessage(`{"type":"CANCELLED"}`),
	}
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	assert.JSONEq(t, `{"kind":"end","vendor":"gravitel","call_id":"c1","direction":"in","client":"+79121234567",
		"ext":"101","disposition":"cancel","raw_status":"CANCELLED","at":"2026-11-21T10:00:00Z","raw":{"type":"CANCELLED"}}`, string(b))
	var back voip.Event
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, ev, back)
}

func TestCallAnswered(t *testing.T) {
	t.Parallel()
	assert.False(t, voip.Call{Disposition: voip.DispositionBusy}.Answered())
	assert.True(t, voip.Call{AnsweredAt: time.Now()}.Answered())
	assert.True(t, voip.Call{Disposition: voip.DispositionAnswered}.Answered())
}

func TestCallJSONCountsSeconds(t *testing.T) {
	t.Parallel()
	c := voip.Call{ID: "c1", Vendor: "phonet", Duration: 95 * time.Second, Talk: 88500 * time.Millisecond,
		StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Disposition: voip.DispositionAnswered}
	b, err := json.Marshal(c)
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"c1","vendor":"phonet","direction":"unknown","started_at":"2026-01-02T03:04:05Z",
		"duration":95,"talk":88.5,"disposition":"answered"}`, string(b))
	var back voip.Call
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, c, back)
}

func TestCallJSONKeepsMillisecondsAndStopsAtTheBounds(t *testing.T) {
	t.Parallel()
	// 1.001 s is written as 1.001, which is 1000999999.9999999 ns in a
	// float64: a truncating reader lost a nanosecond.
	c := voip.Call{ID: "c1", Duration: 1001 * time.Millisecond, Talk: 15 * time.Nanosecond}
	b, err := json.Marshal(c)
	require.NoError(t, err)
	var back voip.Call
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, c, back)

	// A number of seconds past Duration's range stops at its bound instead
	// of wrapping around to the other sign.
	for in, want := range map[string]time.Duration{`{"duration":1e10}`: math.MaxInt64,
		`{"duration":-1e300}`: math.MinInt64, `{"duration":9223372036.854775807}`: math.MaxInt64} {
		require.NoError(t, json.Unmarshal([]byte(in), &back), in)
		assert.Equal(t, want, back.Duration, in)
	}
	c = voip.Call{Duration: math.MaxInt64, Talk: math.MinInt64}
	b, err = json.Marshal(c)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, c, back)
}
