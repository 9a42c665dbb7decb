package natsjs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/gravitel/graviteltest"
	"github.com/pbxkit/pbxkit/natsjs"
	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

const crmToken = "crm-key-5f0c"

// recorder is the CRM behind every replica: it keeps the updates in the
// order they arrive.
type recorder struct {
	mu      sync.Mutex
	updates []voip.Update
}

func (r *recorder) update(_ context.Context, u voip.Update) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates = append(r.updates, u)
	return nil
}

// snapshot returns the updates without what differs between two plays of
// one call: the times (receipt times, and calls back-dated from now), the
// raw messages that carry them, and the emulator's address.
func (r *recorder) snapshot() []voip.Update {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]voip.Update, len(r.updates))
	for i, u := range r.updates {
		if u.Event != nil {
			ev := *u.Event
			ev.At, ev.Raw = time.Time{}, nil
			out[i].Event = &ev
		}
		if u.Call != nil {
			c := *u.Call
			c.StartedAt, c.AnsweredAt, c.Raw = time.Time{}, time.Time{}, nil
			if u, err := url.Parse(c.RecordingURL); err == nil {
				c.RecordingURL = u.Path // the emulator's port differs
			}
			out[i].Call = &c
		}
	}
	return out
}

// balancer is a round-robin load balancer: each request goes, over HTTP,
// to the next replica's server.
type balancer struct {
	client *http.Client
	mu     sync.Mutex
	next   int
	urls   []string
	hits   []int
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	i := b.next % len(b.urls)
	b.next++
	b.hits[i]++
	b.mu.Unlock()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, b.urls[i]+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := b.client.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func (b *balancer) spread() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.hits...)
}

// serveReplicas runs each handler behind its own server, and a balancer in
// front of them; it returns the balancer and its URL.
func serveReplicas(t *testing.T, handlers ...http.Handler) (*balancer, string) {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	b := &balancer{client: &http.Client{Transport: tr, Timeout: 10 * time.Second}, hits: make([]int, len(handlers))}
	for _, h := range handlers {
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		b.urls = append(b.urls, s.URL)
	}
	front := httptest.NewServer(b)
	t.Cleanup(front.Close)
	return b, front.URL
}

func testClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// gravitelReplicas serves one Gravitel handler per memory behind a
// balancer, all delivering to rec.
func gravitelReplicas(t *testing.T, rec *recorder, mems ...voip.Memory) (*balancer, string) {
	t.Helper()
	var hs []http.Handler
	for _, m := range mems {
		h, err := gravitel.NewWebhookHandler(gravitel.WebhookConfig{CRMToken: crmToken, Update: rec.update, Memory: m})
		require.NoError(t, err)
		hs = append(hs, h)
	}
	return serveReplicas(t, hs...)
}

// playGravitel plays an answered inbound call, a missed one and an
// answered outbound one, and delivers twice one event of each (the PBX's
// duplicates), through front, the CRM URL.
func playGravitel(t *testing.T, front string) {
	t.Helper()
	ctx := testCtx(t)
	pbx := graviteltest.NewServer("pbx-key")
	defer pbx.Close()
	hooks := graviteltest.Webhooks{URL: front, CRMToken: crmToken, Client: testClient(t)}
	_, err := pbx.PlayInbound(ctx, hooks, graviteltest.InboundCall{CallID: "8d2c6d0e-1111-4c3b-9a51-0d7f3c6b2a01",
		Client: "+79161234567", Ext: "ivan", Ring: 5 * time.Second, Talk: time.Minute})
	require.NoError(t, err)
	_, err = pbx.PlayInbound(ctx, hooks, graviteltest.InboundCall{CallID: "8d2c6d0e-2222-4c3b-9a51-0d7f3c6b2a02",
		Client: "+79031112233", Ext: "alexey", Ring: 20 * time.Second})
	require.NoError(t, err)
	out := graviteltest.PlacedCall{UUID: "8d2c6d0e-3333-4c3b-9a51-0d7f3c6b2a03", Phone: "79169998877", User: "admin"}
	require.NoError(t, pbx.PlayOutbound(ctx, hooks, out, 3*time.Second, 40*time.Second))
	for _, ev := range []graviteltest.Event{
		{Type: graviteltest.EventAccepted, CallID: out.UUID, Phone: out.Phone, Diversion: "74996861574",
			User: "admin@test.gravitel.ru", Ext: "701"},
		{Type: graviteltest.EventIncoming, CallID: "8d2c6d0e-1111-4c3b-9a51-0d7f3c6b2a01", Phone: "79161234567",
			Diversion: "74996861574", User: "ivan@test.gravitel.ru", Ext: "702"},
	} {
		require.NoError(t, hooks.SendEvent(ctx, ev))
	}
}

// TestGravitelReplicasShareMemory is the proof: three Gravitel
// handlers with one natsjs.Memory behind a round-robin balancer receive
// the calls' webhooks spread across them, and deliver exactly what one
// handler delivers. With a memory each they do not.
func TestGravitelReplicasShareMemory(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	oneRec := &recorder{}
	_, front := gravitelReplicas(t, oneRec, voip.NewLocalMemory(0))
	playGravitel(t, front)
	one := oneRec.snapshot()
	require.Len(t, one, 11, "3 calls: 3+2+3 events and 3 records; the duplicates dropped")
	var dirs []string
	for _, u := range one[7:] {
		if u.Event != nil {
			dirs = append(dirs, u.Event.Kind.String()+"/"+u.Event.Direction.String())
		} else {
			dirs = append(dirs, "call/"+u.Call.Direction.String())
		}
	}
	require.Equal(t, []string{"start/out", "answer/out", "end/out", "call/out"}, dirs)

	mem, err := natsjs.NewMemory(ctx, connect(t, startNATS(t)), natsjs.MemoryConfig{})
	require.NoError(t, err)
	rec := &recorder{}
	b, front := gravitelReplicas(t, rec, mem, mem, mem)
	playGravitel(t, front)
	assert.Equal(t, one, rec.snapshot())
	for i, n := range b.spread() {
		assert.GreaterOrEqual(t, n, 4, "replica %d received its share", i)
	}

	each := &recorder{}
	_, front = gravitelReplicas(t, each, voip.NewLocalMemory(0), voip.NewLocalMemory(0), voip.NewLocalMemory(0))
	playGravitel(t, front)
	assert.NotEqual(t, one, each.snapshot(), "the control: replicas that do not share their memory differ")
}

// phonetReplicas serves one Phonet handler per memory behind a balancer.
func phonetReplicas(t *testing.T, rec *recorder, mems ...voip.Memory) (*balancer, string) {
	t.Helper()
	var hs []http.Handler
	for _, m := range mems {
		h, err := phonet.NewWebhookHandler(phonet.WebhookConfig{Update: rec.update, Memory: m})
		require.NoError(t, err)
		hs = append(hs, h)
	}
	return serveReplicas(t, hs...)
}

// playPhonet plays an inbound call through front, then delivers its hangup
// twice more in a row: with a round-robin, to two replicas.
func playPhonet(t *testing.T, front string) {
	t.Helper()
	ctx := testCtx(t)
	pbx := phonettest.NewServer("api-key")
	defer pbx.Close()
	hooks := phonettest.Webhooks{URL: front, Client: testClient(t)}
	const uuid = "0c5e7f2a9b1d4e3f8a6b5c4d3e2f1a0b"
	_, err := pbx.PlayInbound(ctx, hooks, phonettest.InboundCall{CallID: uuid, Client: "+380501234567", Ext: "001",
		Ring: 4 * time.Second, Talk: 30 * time.Second})
	require.NoError(t, err)
	dup := pbx.EventWebhook(phonettest.EventHangup, uuid, phonettest.DirectionIn, "001", "+380501234567")
	for range 2 {
		_, err := hooks.Send(ctx, dup)
		require.NoError(t, err)
	}
}

// TestPhonetDuplicateToTwoReplicas: Phonet's duplicate delivered to two
// replicas sharing a natsjs.Memory is delivered once, as by one replica.
func TestPhonetDuplicateToTwoReplicas(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	oneRec := &recorder{}
	_, front := phonetReplicas(t, oneRec, voip.NewLocalMemory(0))
	playPhonet(t, front)
	one := oneRec.snapshot()
	require.Len(t, one, 3, "dial, bridge, hangup; the duplicates dropped")

	js := connect(t, startNATS(t))
	var mems []voip.Memory
	for range 3 { // a Memory per replica, on one bucket
		m, err := natsjs.NewMemory(ctx, js, natsjs.MemoryConfig{})
		require.NoError(t, err)
		mems = append(mems, m)
	}
	rec := &recorder{}
	b, front := phonetReplicas(t, rec, mems...)
	playPhonet(t, front)
	assert.Equal(t, one, rec.snapshot())
	assert.Equal(t, []int{2, 2, 2}, b.spread(), "lookup, dial, bridge, hangup and the two duplicates, round-robin")

	each := &recorder{}
	_, front = phonetReplicas(t, each, voip.NewLocalMemory(0), voip.NewLocalMemory(0), voip.NewLocalMemory(0))
	playPhonet(t, front)
	assert.NotEqual(t, one, each.snapshot(), "the control: the duplicate is delivered twice more")
}

// TestReplicasSurviveNATSRestart: a NATS restart (file storage) loses
// nothing. A webhook that arrives while NATS is down is answered 500, so
// that the PBX delivers it again; once NATS is back, what was remembered
// before (the call went out, a delivery was handled) still holds.
func TestReplicasSurviveNATSRestart(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := startNATS(t)
	var mems []voip.Memory
	var conns []interface{ IsConnected() bool }
	for range 3 {
		js := connect(t, srv)
		m, err := natsjs.NewMemory(ctx, js, natsjs.MemoryConfig{Timeout: time.Second})
		require.NoError(t, err)
		mems = append(mems, m)
		conns = append(conns, js.Conn())
	}
	rec := &recorder{}
	_, front := gravitelReplicas(t, rec, mems...)
	hooks := graviteltest.Webhooks{URL: front, CRMToken: crmToken, Client: testClient(t)}
	event := func(typ graviteltest.EventType) graviteltest.Event {
		return graviteltest.Event{Type: typ, CallID: "5b0e3c1a-4444-4c3b-9a51-0d7f3c6b2a04", Phone: "79161234567",
			Diversion: "74996861574", User: "admin@test.gravitel.ru", Ext: "701"}
	}
	require.NoError(t, hooks.SendEvent(ctx, event(graviteltest.EventOutgoing)))
	require.NoError(t, hooks.SendEvent(ctx, event(graviteltest.EventAccepted)))

	srv.Stop()
	err := hooks.SendEvent(ctx, event(graviteltest.EventCompleted))
	var status *graviteltest.StatusError
	require.True(t, errors.As(err, &status), "%v", err)
	assert.Equal(t, http.StatusInternalServerError, status.Status, "500: the PBX delivers again")

	require.NoError(t, srv.Restart())
	for _, c := range conns {
		require.Eventually(t, c.IsConnected, 10*time.Second, 10*time.Millisecond)
	}
	require.NoError(t, hooks.SendEvent(ctx, event(graviteltest.EventAccepted)), "the PBX's duplicate from before")
	require.NoError(t, hooks.SendEvent(ctx, event(graviteltest.EventCompleted)), "the redelivery")

	var got []string
	for _, u := range rec.snapshot() {
		got = append(got, u.Event.Kind.String()+"/"+u.Event.Direction.String())
	}
	assert.Equal(t, []string{"start/out", "answer/out", "end/out"}, got,
		"the duplicate dropped and the call still known to go out, after the restart")
}
