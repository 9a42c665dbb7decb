package retailcrm_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/pbxkit/pbxkit/retailcrm"
	"github.com/pbxkit/pbxkit/voip"
)

func TestCallEventFrom(t *testing.T) {
	t.Parallel()
	base := voip.Event{Vendor: "gravitel", CallID: "c-1", Client: "+79121234567", Ext: "101", Line: "+74950000000"}
	with := func(k voip.EventKind, d voip.Direction, disp voip.Disposition) voip.Event {
		ev := base
		ev.Kind, ev.Direction, ev.Disposition = k, d, disp
		return ev
	}
	want := func(typ retailcrm.EventType, st retailcrm.HangupStatus) retailcrm.CallEvent {
		return retailcrm.CallEvent{Phone: "+79121234567", Type: typ, Codes: []string{"101"}, CallExternalID: "c-1",
			ExternalPhone: "+74950000000", HangupStatus: st}
	}
	for _, tc := range []struct {
		ev   voip.Event
		want retailcrm.CallEvent
		ok   bool
	}{
		{with(voip.EventStart, voip.DirectionIn, 0), want(retailcrm.EventIn, ""), true},
		{with(voip.EventStart, voip.DirectionOut, 0), want(retailcrm.EventOut, ""), true},
		{with(voip.EventEnd, voip.DirectionIn, voip.DispositionAnswered), want(retailcrm.EventHangup, retailcrm.HangupAnswered), true},
		{with(voip.EventEnd, voip.DirectionOut, voip.DispositionBusy), want(retailcrm.EventHangup, retailcrm.HangupBusy), true},
		{with(voip.EventEnd, voip.DirectionIn, voip.DispositionCancel), want(retailcrm.EventHangup, retailcrm.HangupCancel), true},
		{with(voip.EventEnd, voip.DirectionIn, voip.DispositionNoAnswer), want(retailcrm.EventHangup, "no answered"), true},
		{with(voip.EventEnd, voip.DirectionIn, voip.DispositionFailed), want(retailcrm.EventHangup, retailcrm.HangupFailed), true},
		{with(voip.EventEnd, voip.DirectionUnknown, voip.DispositionUnknown), want(retailcrm.EventHangup, retailcrm.HangupFailed), true},
		{with(voip.EventAnswer, voip.DirectionIn, 0), retailcrm.CallEvent{}, false},
		{with(voip.EventStart, voip.DirectionInternal, 0), retailcrm.CallEvent{}, false},
		{with(voip.EventEnd, voip.DirectionInternal, voip.DispositionAnswered), retailcrm.CallEvent{}, false},
		{with(voip.EventStart, voip.DirectionUnknown, 0), retailcrm.CallEvent{}, false},
		{with(voip.EventUnknown, voip.DirectionIn, 0), retailcrm.CallEvent{}, false},
		{voip.Event{Kind: voip.EventStart, Direction: voip.DirectionIn, Ext: "101"}, retailcrm.CallEvent{}, false},
	} {
		got, ok := retailcrm.CallEventFrom(tc.ev)
		assert.Equal(t, tc.ok, ok, "%+v", tc.ev)
		assert.Equal(t, tc.want, got, "%+v", tc.ev)
	}
	ev := with(voip.EventStart, voip.DirectionIn, 0)
	ev.Ext = ""
	got, ok := retailcrm.CallEventFrom(ev)
	assert.True(t, ok)
	assert.Nil(t, got.Codes, "no extension, no codes")
}

func TestCallRecordFrom(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)
	call := voip.Call{ID: "c-1", Vendor: "gravitel", Direction: voip.DirectionIn, Client: "+79121234567", Ext: "101",
		Line: "+74950000000", StartedAt: at, Duration: 70 * time.Second, Talk: 60 * time.Second,
		Disposition: voip.DispositionAnswered, RecordingURL: "https://pbx.example/rec/c-1.mp3"}
	got, ok := retailcrm.CallRecordFrom(call)
	assert.True(t, ok)
	assert.Equal(t, retailcrm.CallRecord{Date: at, Type: retailcrm.CallIn, Phone: "+79121234567", Code: "101",
		Result: retailcrm.ResultAnswered, Duration: 60 * time.Second, DurationWaiting: 10 * time.Second, ExternalID: "c-1",
		RecordURL: "https://pbx.example/rec/c-1.mp3", ExternalPhone: "+74950000000"}, got)

	for _, tc := range []struct {
		d    voip.Disposition
		raw  string
		want retailcrm.CallResult
	}{
		{voip.DispositionBusy, "", retailcrm.ResultBusy},
		{voip.DispositionCancel, "", "no answer"},
		{voip.DispositionNoAnswer, "", "no answer"},
		{voip.DispositionFailed, "congestion", retailcrm.ResultFailed},
		{voip.DispositionFailed, "forbidden", retailcrm.ResultNotAllowed},
		{voip.DispositionUnknown, "NotAllowed", retailcrm.ResultNotAllowed},
		{voip.DispositionUnknown, "", retailcrm.ResultUnknown},
	} {
		c := call
		c.Disposition, c.RawStatus, c.Talk = tc.d, tc.raw, 0
		got, ok := retailcrm.CallRecordFrom(c)
		assert.True(t, ok)
		assert.Equal(t, tc.want, got.Result, "%v %q", tc.d, tc.raw)
		assert.Zero(t, got.Duration)
		assert.Equal(t, 70*time.Second, got.DurationWaiting, "an unanswered call waited all along")
	}
	out := call
	out.Direction = voip.DirectionOut
	got, _ = retailcrm.CallRecordFrom(out)
	assert.Equal(t, retailcrm.CallOut, got.Type)

	for _, bad := range []func(c *voip.Call){
		func(c *voip.Call) { c.Direction = voip.DirectionInternal },
		func(c *voip.Call) { c.Direction = voip.DirectionUnknown },
		func(c *voip.Call) { c.Client = " " },
		func(c *voip.Call) { c.StartedAt = time.Time{} },
	} {
		c := call
		bad(&c)
		_, ok := retailcrm.CallRecordFrom(c)
		assert.False(t, ok, "%+v", c)
	}
}

func TestTelephonySupports(t *testing.T) {
	t.Parallel()
	tel := &retailcrm.Telephony{InputEventSupported: true, HangupEventSupported: true}
	assert.True(t, tel.Supports(retailcrm.EventIn))
	assert.False(t, tel.Supports(retailcrm.EventOut))
	assert.True(t, tel.Supports(retailcrm.EventHangup))
	assert.False(t, tel.Supports("ringing"))
	assert.False(t, (*retailcrm.Telephony)(nil).Supports(retailcrm.EventIn))
}
