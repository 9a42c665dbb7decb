package gravitel_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/voip"
)

const crmKey = "crm-key-9876543210"

func TestParseWebhookRejects(t *testing.T) {
	t.Parallel()
	good := "cmd=event&type=INCOMING&callid=1&phone=79161234567&user=admin&crm_token=" + crmKey
	cases := []struct {
		name, body, contentType, token string
		status                         int
		is                             error
	}{
		{"wrong token", strings.Replace(good, crmKey, "guess", 1), "", crmKey, 401, gravitel.ErrInvalidToken},
		{"token differs in case", strings.Replace(good, crmKey, strings.ToUpper(crmKey), 1), "", crmKey, 401, voip.ErrUnverified},
		{"no token", "cmd=event&type=INCOMING&callid=1", "", crmKey, 401, voip.ErrUnverified},
		{"no key configured", good, "", "", 401, voip.ErrUnverified},
		{"bad escape", good + "&phone=%zz", "", crmKey, 400, voip.ErrMalformed},
		{"JSON array", `[{"cmd":"event"}]`, "application/json", crmKey, 400, voip.ErrMalformed},
		{"broken JSON", `{"cmd":`, "application/json", crmKey, 400, voip.ErrMalformed},
		{"bad start", "cmd=history&type=in&callid=1&start=yesterday&crm_token=" + crmKey, "", crmKey, 400, voip.ErrMalformed},
		{"bad duration", "cmd=history&type=in&callid=1&duration=-5&crm_token=" + crmKey, "", crmKey, 400, voip.ErrMalformed},
		{"no callid", "cmd=event&type=INCOMING&crm_token=" + crmKey, "", crmKey, 400, voip.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ct := tc.contentType
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			_, err := gravitel.ParseWebhook(webhookRequest([]byte(tc.body), ct), tc.token)
			require.ErrorIs(t, err, tc.is)
			var we *voip.WebhookError
			require.ErrorAs(t, err, &we)
			assert.Equal(t, tc.status, we.Status)
			if tc.token != "" {
				assert.NotContains(t, err.Error(), tc.token)
			}
		})
	}
}

func TestParseWebhookUnknownValues(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]gravitel.UnknownValueError{
		"cmd=hangup&callid=1":                {Cmd: "hangup", Field: "cmd", Value: "hangup"},
		"cmd=event&type=RINGING&callid=1":    {Cmd: "event", Field: "type", Value: "RINGING"},
		"cmd=history&type=internal&callid=1": {Cmd: "history", Field: "type", Value: "internal"},
		"callid=1":                           {Field: "cmd"},
	} {
		_, err := gravitel.ParseWebhook(webhookRequest([]byte(body+"&crm_token="+crmKey), "application/x-www-form-urlencoded"), crmKey)
		var unknown *gravitel.UnknownValueError
		require.True(t, errors.As(err, &unknown), body)
		assert.Equal(t, want, *unknown, body)
		assert.ErrorIs(t, err, voip.ErrMalformed)
	}
}

func TestParseWebhookLeniency(t *testing.T) {
	t.Parallel()
	// A charset parameter, enums in any case, an unknown field, a repeated
	// field (the first wins) and a JSON body sent as form.
	body := "cmd=History&type=OUT&status=notavailable&callid=7&callid=8&duration=&new_field=x&crm_token=" + crmKey
	w, err := gravitel.ParseWebhook(webhookRequest([]byte(body), "application/x-www-form-urlencoded; charset=UTF-8"), crmKey)
	require.NoError(t, err)
	assert.Equal(t, gravitel.CmdHistory, w.Cmd)
	assert.Equal(t, gravitel.CallOut, w.CallType)
	assert.Equal(t, gravitel.StatusNotAvailable, w.Status)
	assert.Equal(t, "notavailable", w.RawStatus)
	assert.Equal(t, "7", w.CallID)
	assert.Contains(t, string(w.Raw), `"new_field":"x"`)
	call, ok := w.Call()
	require.True(t, ok)
	assert.Equal(t, voip.DispositionNoAnswer, call.Disposition)
	assert.Equal(t, voip.DirectionOut, call.Direction)

	w, err = gravitel.ParseWebhook(webhookRequest([]byte(`{"cmd":"event","type":"accepted","callid":1511,"ext":701,"crm_token":"`+crmKey+`"}`), "text/plain"), crmKey)
	require.NoError(t, err)
	assert.Equal(t, gravitel.EventAccepted, w.EventType)
	assert.Equal(t, "1511", w.CallID)
	assert.Equal(t, "701", w.Ext)

	w, err = gravitel.ParseWebhook(webhookRequest([]byte("cmd=history&type=in&status=Weird&callid=1&crm_token="+crmKey), ""), crmKey)
	require.NoError(t, err)
	call, _ = w.Call()
	assert.Equal(t, voip.DispositionUnknown, call.Disposition)
	assert.Equal(t, "Weird", call.RawStatus)
}

func TestEventMapping(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		kind voip.EventKind
		dir  voip.Direction
		disp voip.Disposition
	}{
		"INCOMING":  {voip.EventStart, voip.DirectionIn, voip.DispositionUnknown},
		"ACCEPTED":  {voip.EventAnswer, voip.DirectionIn, voip.DispositionUnknown},
		"COMPLETED": {voip.EventEnd, voip.DirectionIn, voip.DispositionAnswered},
		"CANCELLED": {voip.EventEnd, voip.DirectionIn, voip.DispositionCancel},
		"OUTGOING":  {voip.EventStart, voip.DirectionOut, voip.DispositionUnknown},
	}
	for typ, want := range cases {
		w, err := gravitel.ParseWebhook(webhookRequest([]byte("cmd=event&callid=1&phone=89161234567&user=ivan@t.gravitel.ru&type="+typ+"&crm_token="+crmKey), ""), crmKey)
		require.NoError(t, err)
		ev, ok := w.Event()
		require.True(t, ok, typ)
		assert.Equal(t, want.kind, ev.Kind, typ)
		assert.Equal(t, want.dir, ev.Direction, typ)
		assert.Equal(t, want.disp, ev.Disposition, typ)
		assert.Equal(t, typ, ev.RawStatus)
		assert.Equal(t, "+79161234567", ev.Client, "a national number goes through voip.NormalizePhone")
		assert.Equal(t, "ivan", ev.Ext, "the login stands in for a missing ext")
		_, isCall := w.Call()
		assert.False(t, isCall)
	}
}

func TestHistoryStatusMapping(t *testing.T) {
	t.Parallel()
	for status, want := range map[string]voip.Disposition{
		"Success": voip.DispositionAnswered, "Busy": voip.DispositionBusy, "Missed": voip.DispositionCancel,
		"missed": voip.DispositionCancel, "NotAvailable": voip.DispositionNoAnswer, "NotAllowed": voip.DispositionUnknown,
		"Cancel": voip.DispositionCancel, "NotFound": voip.DispositionFailed, "": voip.DispositionUnknown,
	} {
		w, err := gravitel.ParseWebhook(webhookRequest([]byte("cmd=history&type=in&callid=1&duration=60&status="+status+"&crm_token="+crmKey), ""), crmKey)
		require.NoError(t, err)
		c, ok := w.Call()
		require.True(t, ok)
		assert.Equal(t, want, c.Disposition, status)
		assert.Equal(t, status, c.RawStatus)
		if want == voip.DispositionAnswered {
			assert.Equal(t, c.Duration, c.Talk)
		} else {
			assert.Zero(t, c.Talk)
		}
	}
}

func TestParseWebhookCapsTheBody(t *testing.T) {
	t.Parallel()
	body := "cmd=contact&callid=1&crm_token=" + crmKey + "&pad=" + strings.Repeat("x", voip.DefaultWebhookMaxBody)
	_, err := gravitel.ParseWebhook(webhookRequest([]byte(body), ""), crmKey)
	var we *voip.WebhookError
	require.ErrorAs(t, err, &we)
	assert.Equal(t, http.StatusRequestEntityTooLarge, we.Status)
}
