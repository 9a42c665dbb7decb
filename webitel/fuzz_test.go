package webitel

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
)

// errorSeeds are error bodies from the notes (§5) and the engine
// (pkg/werror/error.go, webitel-go-kit interceptors/error.go), and the
// shapes around them.
var errorSeeds = []string{
	`{"id":"app.call.create.valid.busy","status":"Bad Request","detail":"...","request_id":"...","code":400}`,
	`{"id":"api.context.permissions.license","code":412,"detail":"token scope is forceless","status":"Precondition Failed"}`,
	`{"id":"grpc.call.search_history","code":400,"detail":"filter created_at or stored_at or q is required"}`,
	`{"id":"api.process.unauthenticated","detail":"…","code":401,"status":"Unauthorized"}`,
	`{"code":3,"message":"type mismatch","details":[{"@type":"x"}]}`,
	`{"id":null,"code":"400","detail":1.5}`, `{"code":1e999}`, `{"id":{}}`, `{"id":"a","id":"b"}`,
	`<html><body>502 Bad Gateway</body></html>`, "upstream\nsecond line", "\xff\xfe", `{`, `[]`, `null`, ``,
}

// FuzzAppError: any error body, with any status, gives an error of one
// class and never panics.
func FuzzAppError(f *testing.F) {
	for _, s := range errorSeeds {
		for _, status := range []int{0, 400, 401, 412, 500} {
			f.Add([]byte(s), status)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		e := parseAppError(body, status)
		require.NotNil(t, e)
		require.NotEmpty(t, e.Error())
		require.NotNil(t, e.Kind, "every error has a class")
		if status == 0 {
			require.True(t, e.StatusCode == 0 || e.StatusCode >= 100 && e.StatusCode <= 599)
		} else {
			require.Equal(t, status, e.StatusCode)
		}
	})
}

// listSeeds are list answers: the notes' history sample (§4.4), the quoted
// queue-attempt list, the tokens' list with size as a string (§1.3), and
// broken shapes.
var listSeeds = []string{
	`{"next":true,"items":[{"id":"3f6b1c1e-2f0a-4a7e-9d0e-6c1b1a2b3c4d","app_id":"fs-1","type":"call","direction":"outbound","destination":"+380501234567","from":{"type":"user","number":"101","id":"123","name":"John"},"to":{"type":"dest","number":"+380501234567","id":"","name":""},"user":{"id":"123","name":"John"},"extension":"101","created_at":"1714550000000","answered_at":"1714550005000","bridged_at":"1714550012000","hangup_at":"1714550100000","hangup_by":"A","cause":"NORMAL_CLEARING","sip_code":200,"duration":100,"bill_sec":88,"hold_sec":0,"wait_sec":12,"talk_sec":88,"variables":{"crm_lead":"42"},"files":[{"id":"555","name":"rec.mp3","size":"123456","mime_type":"audio/mp3","start_at":"1714550012000","stop_at":"1714550100000","channel":"call","type":"file_type_audio"}],"has_children":true}]}`,
	`{"items":[{"id":"10486511","member":{"id":"5520159","name":"Hello"},"created_at":"1583318072556","answered_at":"0","agent":{"id":"100","name":"AAA"},"queue":{"id":"2","name":"..."}}],"next":false}`,
	`{"page":1,"size":"16","next":false,"items":[{"id":"b1f1c2","usage":"crm-integration","user":{"id":"123","name":"John"},"created_at":"1682943253855","deleted_at":"0","deleted_by":null}]}`,
	`{"items":[{"id":"x","direction":"inbound","from":{"number":"0671234567"},"cause":"USER_BUSY","sip_code":"486","duration":"7","talk_sec":"3"}]}`,
	`{"items":[{"id":1,"created_at":-1}]}`, `{"items":[{"id":"x","created_at":"99999999999999999999"}]}`,
	`{"items":[{"id":"x","duration":9223372036854775807,"variables":{"a":[1]}}]}`,
	`{"next":"true","items":null}`, `{"items":[1,"a",null]}`, `{"items":{}}`, `{}`, `[]`, `{"next":true}`, ``,
}

// FuzzHistoryList: any list body decodes to records or an error, never a
// panic; every record read converts to a voip.Call that keeps its id and
// bytes, with a direction and a disposition of the known sets.
func FuzzHistoryList(f *testing.F) {
	for _, s := range listSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		l, err := decodeList[keyedHistory](body, 10)
		if err != nil {
			return
		}
		for i := range l.Items {
			h, err := l.Items[i].call()
			if err != nil {
				continue
			}
			c := h.Call()
			require.Equal(t, h.ID, c.ID)
			require.Equal(t, Vendor, c.Vendor)
			require.True(t, bytes.Equal(h.Raw, c.Raw))
			require.GreaterOrEqual(t, c.Duration, time.Duration(0))
			require.GreaterOrEqual(t, c.Talk, time.Duration(0))
			require.Contains(t, []voip.Direction{voip.DirectionUnknown, voip.DirectionIn, voip.DirectionOut, voip.DirectionInternal}, c.Direction)
			require.True(t, c.Disposition >= voip.DispositionUnknown && c.Disposition <= voip.DispositionFailed)
			if c.Answered() {
				require.False(t, c.AnsweredAt.IsZero() && c.Disposition != voip.DispositionAnswered)
			}
		}
	})
}

// FuzzEntity: a single-entity answer, wrapped or bare, decodes to a device
// and a user or fails cleanly.
func FuzzEntity(f *testing.F) {
	for _, s := range []string{
		`{ "id": "7287", "name": "device for user 1", "account": "sipUser1", "password": "BNZdVLryFwcB", "user": {}, "logged_in": "1682943253855", "created_at": "1682943253855", "created_by": { "id": "130", "name": "Administrator" } }`,
		`{"device":{"id":7287,"reged":"true"}}`, `{"user":{"id":"1","roles":[{"id":4}],"license":[{"id":"95309f22","prod":"CALL_CENTER"}],"presence":{"status":"sip"}}}`,
		`{"updated":{"id":"1","profile":{"a":1}}}`, `{"device":"x"}`, `{"user":{"roles":{}}}`, `{"a":{},"b":{}}`, `null`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b := unwrapEntity(body, append(deviceKeys, userKeys...)...)
		var d wireDevice
		if decodeErr := unmarshalEntity(b, &d); decodeErr == nil {
			_, _ = d.device()
		}
		var u wireUser
		if decodeErr := unmarshalEntity(b, &u); decodeErr == nil {
			_, _ = u.user()
		}
	})
}
