package graviteltest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel/graviteltest"
)

// crm records the webhooks it receives, as form values, and answers {}.
type crm struct {
	mu  sync.Mutex
	got []url.Values
}

func newCRM(t *testing.T) (*crm, graviteltest.Webhooks) {
	t.Helper()
	c := &crm{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.got = append(c.got, r.PostForm)
		c.mu.Unlock()
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	return c, graviteltest.Webhooks{URL: srv.URL, CRMToken: "crm-key", Client: srv.Client()}
}

// steps lists each webhook as cmd, or cmd/type for events.
func (c *crm) steps() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.got))
	for i, v := range c.got {
		out[i] = v.Get("cmd")
		if v.Get("cmd") == "event" {
			out[i] += "/" + v.Get("type")
		}
	}
	return out
}

func (c *crm) last() url.Values {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got[len(c.got)-1]
}

// historyLine asks the server's history command for the line of callID.
func historyLine(t *testing.T, s *graviteltest.Server, callID string) []string {
	t.Helper()
	status, body := post(t, s, url.Values{"cmd": {"history"}, "period": {"today"}, "token": {"key"}})
	require.Equal(t, http.StatusOK, status)
	for _, line := range strings.Split(body, "\n") {
		if f := strings.Split(line, ","); f[0] == callID {
			return f
		}
	}
	t.Fatalf("no history line of %s in %q", callID, body)
	return nil
}

func TestPlayInbound(t *testing.T) {
	t.Parallel()
	s := graviteltest.NewServer("key")
	defer s.Close()
	rec, hooks := newCRM(t)
	before := time.Now().UTC().Truncate(time.Second)
	id, err := s.PlayInbound(t.Context(), hooks, graviteltest.InboundCall{
		CallID: "c-1", Client: "+79161234567", Ext: "ivan", Ring: 4 * time.Second, Talk: 61500 * time.Millisecond,
	})
	after := time.Now().UTC()
	require.NoError(t, err)
	assert.Equal(t, "c-1", id)
	assert.Equal(t, []string{"contact", "event/INCOMING", "event/ACCEPTED", "event/COMPLETED", "history"}, rec.steps())

	h := rec.last()
	assert.Equal(t, "in", h.Get("type"))
	assert.Equal(t, "Success", h.Get("status"))
	assert.Equal(t, "79161234567", h.Get("phone"), "E.164 digits, as the PBX sends them")
	assert.Equal(t, "ivan@test.gravitel.ru", h.Get("user"))
	assert.Equal(t, "702", h.Get("ext"))
	assert.Equal(t, "65", h.Get("duration"), "ring and talk, in whole seconds")
	assert.Equal(t, s.URL+"/records/c-1.mp3", h.Get("link"))

	// The record ends when its last event was sent: now, not a minute on.
	start, err := time.Parse("20060102T150405Z", h.Get("start"))
	require.NoError(t, err)
	end := start.Add(65 * time.Second)
	assert.False(t, end.Before(before), "the call ends after the play began")
	assert.False(t, end.After(after), "the call does not end after its last event")

	line := historyLine(t, s, "c-1")
	lineStart, err := time.Parse(time.RFC3339, line[5])
	require.NoError(t, err)
	assert.True(t, lineStart.Equal(start), "the history command and the webhook agree on the start")
	assert.Equal(t, []string{"c-1", "in", "+79161234567", "ivan@test.gravitel.ru", "+74996861574"}, line[:5])
	assert.Equal(t, []string{"4", "61", s.URL + "/records/c-1.mp3"}, line[6:])
}

func TestPlayUnanswered(t *testing.T) {
	t.Parallel()
	s := graviteltest.NewServer("key")
	defer s.Close()
	rec, hooks := newCRM(t)
	id, err := s.PlayInbound(t.Context(), hooks, graviteltest.InboundCall{Client: "79161234567", Ext: "702", Ring: 20 * time.Second})
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, id, "a new UUID")
	assert.Equal(t, []string{"contact", "event/INCOMING", "event/CANCELLED", "history"}, rec.steps())
	assert.Equal(t, "missed", rec.last().Get("status"))
	assert.Equal(t, "in", rec.last().Get("type"))
	assert.Empty(t, rec.last().Get("link"), "no talk, no recording")
	assert.Equal(t, []string{"missed", "20", "0", ""}, append(historyLine(t, s, id)[1:2], historyLine(t, s, id)[6:]...))

	rec, hooks = newCRM(t)
	placed := graviteltest.PlacedCall{UUID: "c-2", Phone: "79161234567", User: "admin@test.gravitel.ru"}
	require.NoError(t, s.PlayOutbound(t.Context(), hooks, placed, 30*time.Second, 0))
	assert.Equal(t, []string{"event/OUTGOING", "event/CANCELLED", "history"}, rec.steps())
	assert.Equal(t, "NotAvailable", rec.last().Get("status"))
	assert.Equal(t, "out", rec.last().Get("type"))
	assert.Equal(t, "30", rec.last().Get("duration"))
	assert.Equal(t, []string{"out", "30", "0", ""}, append(historyLine(t, s, "c-2")[1:2], historyLine(t, s, "c-2")[6:]...))
}

func TestPlayOutbound(t *testing.T) {
	t.Parallel()
	s := graviteltest.NewServer("key")
	defer s.Close()
	rec, hooks := newCRM(t)
	status, body := post(t, s, url.Values{"cmd": {"makeCall"}, "user": {"701"}, "phone": {"79161234567"}, "token": {"key"}})
	require.Equal(t, http.StatusOK, status, body)
	placed := s.Calls()[0]
	require.NoError(t, s.PlayOutbound(t.Context(), hooks, placed, 5*time.Second, 95*time.Second))
	assert.Equal(t, []string{"event/OUTGOING", "event/ACCEPTED", "event/COMPLETED", "history"}, rec.steps())
	h := rec.last()
	assert.Equal(t, placed.UUID, h.Get("callid"))
	assert.Equal(t, "admin@test.gravitel.ru", h.Get("user"), "the account of extension 701")
	assert.Equal(t, "Success", h.Get("status"))
	assert.Equal(t, "100", h.Get("duration"))
}

func TestPlayRefuses(t *testing.T) {
	t.Parallel()
	s := graviteltest.NewServer("key")
	defer s.Close()
	rec, hooks := newCRM(t)
	_, err := s.PlayInbound(t.Context(), hooks, graviteltest.InboundCall{Client: "79161234567", Ext: "nobody", Talk: time.Second})
	assert.ErrorContains(t, err, "no account")
	_, err = s.PlayInbound(t.Context(), hooks, graviteltest.InboundCall{Ext: "ivan"})
	assert.ErrorContains(t, err, "empty Client")
	err = s.PlayOutbound(t.Context(), hooks, graviteltest.PlacedCall{UUID: "x", Phone: "79161234567", User: "admin"}, -time.Second, 0)
	assert.ErrorContains(t, err, "negative")

	assert.Empty(t, rec.steps(), "nothing is sent for a call that cannot be played")

	// A CRM that refuses a webhook stops the call there.
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"Invalid token"}`, http.StatusUnauthorized)
	}))
	defer refusing.Close()
	_, err = s.PlayInbound(t.Context(), graviteltest.Webhooks{URL: refusing.URL}, graviteltest.InboundCall{Client: "79161234567", Ext: "ivan"})
	var se *graviteltest.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusUnauthorized, se.Status)
	assert.Equal(t, `{"error":"Invalid token"}`, se.Body)
}
