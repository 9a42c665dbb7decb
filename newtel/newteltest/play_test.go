package newteltest_test

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/newtel/newteltest"
)

// hook is one webhook as a receiver of this test reads it.
type hook struct {
	Event     string         `json:"event"`
	Signature string         `json:"signature"`
	Data      map[string]any `json:"data"`
	raw       string         // the data text as received
}

// collector receives webhooks, checks their signature with key and keeps
// them in order.
type collector struct {
	*httptest.Server
	mu    sync.Mutex
	hooks []hook
}

func newCollector(t *testing.T, key string) *collector {
	t.Helper()
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var h struct {
			hook
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &h); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum := sha1.Sum([]byte(h.Event + "\n" + string(h.Data) + "\n" + key))
		if h.Signature != hex.EncodeToString(sum[:]) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		h.hook.raw = string(h.Data)
		if err := json.Unmarshal(h.Data, &h.hook.Data); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.hooks = append(c.hooks, h.hook)
		c.mu.Unlock()
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *collector) got() []hook {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]hook(nil), c.hooks...)
}

func (c *collector) webhooks(key string) newteltest.Webhooks {
	return newteltest.Webhooks{URL: c.URL, Key: key, Client: c.Client()}
}

func events(hs []hook) []string {
	out := make([]string, 0, len(hs))
	for _, h := range hs {
		out = append(out, h.Event)
	}
	return out
}

// unix reads data.time.
func (h hook) unix() int64 { return int64(h.Data["time"].(float64)) }

func TestPlayInbound(t *testing.T) {
	t.Parallel()
	s := newteltest.NewServer(ak, sk)
	defer s.Close()
	now := time.Date(2025, 9, 18, 10, 0, 0, 700_000_000, time.UTC)
	s.SetClock(func() time.Time { return now })

	t.Run("answered", func(t *testing.T) {
		t.Parallel()
		c := newCollector(t, "k")
		id, err := s.PlayInbound(t.Context(), c.webhooks("k"), newteltest.InboundCall{
			Client: "79161234567", Ext: "102", Ring: 8*time.Second + 400*time.Millisecond, Talk: 87 * time.Second})
		require.NoError(t, err)
		hs := c.got()
		require.Equal(t, []string{"inboundCallStart", "ringingStart", "inboundCallAnswer", "ringingEnd", "inboundCallEnd"}, events(hs))
		for _, h := range hs {
			assert.Equal(t, id, h.Data["vpbxId"])
			assert.Equal(t, newteltest.DefaultLine, h.Data["dnid"])
			assert.Equal(t, "79161234567", h.Data["clid"])
		}
		start, end := hs[0].unix(), hs[4].unix()
		assert.Equal(t, now.Unix(), end, "the call has ended when it is played")
		assert.Equal(t, start+8, hs[2].unix(), "answered after the ring, in whole seconds")
		assert.Equal(t, start+8, hs[3].unix())
		assert.EqualValues(t, end-start, hs[4].Data["duration"])
		assert.EqualValues(t, 8, hs[4].Data["ringduration"])
		assert.Equal(t, "answered", hs[4].Data["status"])
		assert.Equal(t, "102", hs[2].Data["activeNumber"])
		assert.Equal(t, "102", hs[4].Data["fisrtAnswer"])
		assert.Equal(t, []any{"102"}, hs[4].Data["allAnswer"])
		assert.Equal(t, s.URL+"/records/"+id+".mp3", hs[4].Data["callRecordLink"])
		assert.Contains(t, hs[4].raw, `"callRecordLink":"http:\/\/`, "encoded as PHP does")
	})
	t.Run("unanswered", func(t *testing.T) {
		t.Parallel()
		c := newCollector(t, "k")
		_, err := s.PlayInbound(t.Context(), c.webhooks("k"), newteltest.InboundCall{CallID: "vpbx-1", Client: "79161234567", DID: "74950000000", Ring: 21 * time.Second})
		require.NoError(t, err)
		hs := c.got()
		require.Equal(t, []string{"inboundCallStart", "ringingStart", "ringingEnd", "inboundCallEnd"}, events(hs))
		assert.Equal(t, "vpbx-1", hs[0].Data["vpbxId"])
		assert.Equal(t, "74950000000", hs[0].Data["dnid"])
		assert.Equal(t, "100", hs[1].Data["ringingNumber"], "the default extension")
		end := hs[3]
		assert.Equal(t, "no answer", end.Data["status"])
		assert.EqualValues(t, 21, end.Data["duration"])
		assert.Equal(t, hs[0].unix()+21, end.unix())
		assert.Equal(t, end.unix(), hs[2].unix())
		assert.NotContains(t, end.Data, "callRecordLink")
		assert.NotContains(t, end.Data, "fisrtAnswer")
	})
	t.Run("negative times", func(t *testing.T) {
		t.Parallel()
		c := newCollector(t, "k")
		_, err := s.PlayInbound(t.Context(), c.webhooks("k"), newteltest.InboundCall{Ring: -time.Second})
		require.Error(t, err)
		assert.Empty(t, c.got())
	})
	t.Run("a refusal stops the call", func(t *testing.T) {
		t.Parallel()
		c := newCollector(t, "right")
		_, err := s.PlayInbound(t.Context(), c.webhooks("wrong"), newteltest.InboundCall{Ring: time.Second})
		var se *newteltest.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, http.StatusUnauthorized, se.Status)
	})
}

func TestPlayOutbound(t *testing.T) {
	t.Parallel()
	s := newteltest.NewServer(ak, sk)
	defer s.Close()
	now := time.Date(2025, 9, 18, 10, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	placed := newteltest.PlacedCall{Method: "call/start_simple_call", CallID: "42", SrcNumber: "101", DstNumber: "79161234567", At: now}
	for name, talk := range map[string]time.Duration{"answered": 95 * time.Second, "unanswered": 0} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newCollector(t, "k")
			require.NoError(t, s.PlayOutbound(t.Context(), c.webhooks("k"), placed, 5*time.Second, talk))
			hs := c.got()
			require.Equal(t, []string{"outboundCallStart", "outboundCallEnd"}, events(hs))
			assert.Equal(t, now.Add(-5*time.Second-talk).Unix(), hs[0].unix(), "counted back from the clock")
			assert.Equal(t, now.Unix(), hs[1].unix(), "the played call ends now")
			for _, h := range hs {
				assert.Equal(t, "42", h.Data["vpbxId"])
				assert.Equal(t, "79161234567", h.Data["dnid"])
				assert.Equal(t, "101", h.Data["internalClid"])
				assert.Equal(t, newteltest.DefaultLine, h.Data["externalClid"])
			}
			end := hs[1].Data
			assert.EqualValues(t, (5*time.Second+talk)/time.Second, end["duration"])
			assert.EqualValues(t, 5, end["ringduration"])
			if talk == 0 {
				assert.Equal(t, "no answer", end["status"])
				assert.NotContains(t, end, "callRecordLink")
				return
			}
			assert.Equal(t, "answered", end["status"])
			assert.Equal(t, s.URL+"/records/42.mp3", end["callRecordLink"])
		})
	}
}

func TestSendRefusesValuesItCannotEncode(t *testing.T) {
	t.Parallel()
	c := newCollector(t, "k")
	err := c.webhooks("k").Send(t.Context(), newteltest.RingingStart, newteltest.Field{Name: "ringingNumber", Value: 1.5})
	require.Error(t, err)
	assert.Empty(t, c.got())
	require.NoError(t, c.webhooks("k").Send(t.Context(), newteltest.RingingStart,
		newteltest.Field{Name: "time", Value: time.Unix(1758190000, 0)}, newteltest.Field{Name: "ringduration", Value: 8 * time.Second},
		newteltest.Field{Name: "status", Value: newteltest.StatusAnswered}, newteltest.Field{Name: "comment", Value: "Звонок"}))
	h := c.got()[0]
	assert.Equal(t, `{"time":1758190000,"ringduration":8,"status":"answered","comment":"\u0417\u0432\u043e\u043d\u043e\u043a"}`, h.raw)
}

func TestFail(t *testing.T) {
	t.Parallel()
	s := newteltest.NewServer(ak, sk)
	defer s.Close()
	s.Fail("", http.StatusBadGateway, "any")
	s.Fail("company/get-state", http.StatusServiceUnavailable, "get-state")
	now := time.Now()
	for _, want := range []struct {
		method string
		status int
		body   string
	}{
		{"company/get-state", http.StatusServiceUnavailable, "get-state"}, // its own queue first
		{"company/get-state", http.StatusBadGateway, "any"},
		{"company/get-state", http.StatusOK, ""},
	} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.BaseURL()+want.method, strings.NewReader("{}"))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token(want.method, "{}", now))
		resp, err := s.Client().Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, want.status, resp.StatusCode)
		if want.body != "" {
			assert.Equal(t, want.body, string(body))
		}
	}
	assert.Len(t, s.Requests(), 3, "failed requests are recorded too")
}
