package natsjs_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/gravitel/graviteltest"
	"github.com/pbxkit/pbxkit/natsjs"
	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

// sampleEvent is a Phonet answer as the socket and the webhook both give
// it.
func sampleEvent() *voip.Event {
	return &voip.Event{Kind: voip.EventAnswer, Vendor: "phonet", CallID: "0c5e7f2a9b1d4e3f8a6b5c4d3e2f1a0b",
		ParentCallID: "1d6f8a3b0c2e5f4a9b7c6d5e4f3a2b1c", Direction: voip.DirectionIn, Client: "+380501234567",
		Ext: "001", Line: "+380442246595", RawStatus: "call.bridge", At: time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC),
		Raw: []byte(`{"event":"call.bridge"}`)}
}

// streamMsgs returns the messages of the stream, in order.
func streamMsgs(t *testing.T, js jetstream.JetStream, stream string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := testCtx(t)
	s, err := js.Stream(ctx, stream)
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		require.NoError(t, err)
		out = append(out, m)
	}
	return out
}

// TestPublishTwiceStoredOnce: two replicas holding the same socket during
// a handover publish the same event; the stream stores it once. Its
// receipt time does not make it another event.
func TestPublishTwiceStoredOnce(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := startNATS(t)
	js := connect(t, srv)
	a, err := natsjs.NewPublisher(ctx, js, natsjs.PublisherConfig{Tenant: "acme"})
	require.NoError(t, err)
	b, err := natsjs.NewPublisher(ctx, connect(t, srv), natsjs.PublisherConfig{Tenant: "acme"})
	require.NoError(t, err)

	ev := sampleEvent()
	require.NoError(t, a.Publish(ctx, voip.Update{Event: ev}))
	again := *ev
	again.At = again.At.Add(300 * time.Millisecond)
	require.NoError(t, b.Publish(ctx, voip.Update{Event: &again}))
	require.NoError(t, a.Publish(ctx, voip.Update{Event: ev}))
	assert.Equal(t, natsjs.PublisherStats{Stored: 1, Duplicates: 1}, a.Stats())
	assert.Equal(t, natsjs.PublisherStats{Duplicates: 1}, b.Stats())

	// Another leg, another kind, another tenant: other events.
	leg := *ev
	leg.Ext = "002"
	end := *ev
	end.Kind, end.RawStatus = voip.EventEnd, "call.hangup"
	require.NoError(t, a.Publish(ctx, voip.Update{Event: &leg}))
	require.NoError(t, a.Publish(ctx, voip.Update{Event: &end}))
	other, err := natsjs.NewPublisher(ctx, js, natsjs.PublisherConfig{Tenant: "globex"})
	require.NoError(t, err)
	require.NoError(t, other.Publish(ctx, voip.Update{Event: ev}))

	msgs := streamMsgs(t, js, natsjs.DefaultStream)
	require.Len(t, msgs, 4)
	var subjects []string
	for _, m := range msgs {
		subjects = append(subjects, m.Subject)
	}
	assert.Equal(t, []string{"pbxkit.acme.phonet.answer", "pbxkit.acme.phonet.answer", "pbxkit.acme.phonet.end",
		"pbxkit.globex.phonet.answer"}, subjects)
	u, err := natsjs.DecodeUpdate(msgs[0].Data)
	require.NoError(t, err)
	assert.Equal(t, voip.Update{Event: ev}, u, "the stored form holds the whole event")
	assert.Equal(t, a.MsgID(voip.Update{Event: ev}), msgs[0].Header.Get(jetstream.MsgIDHeader))
}

// TestPublishEventAndCall: an update with both is two messages, the call
// under the kind "call".
func TestPublishEventAndCall(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	js := connect(t, startNATS(t))
	p, err := natsjs.NewPublisher(ctx, js, natsjs.PublisherConfig{Prefix: "crm.calls", Stream: "CALLS"})
	require.NoError(t, err)
	c := &voip.Call{ID: "c1", Vendor: "my vendor.x", Direction: voip.DirectionOut, Duration: 65 * time.Second,
		Talk: time.Minute, Disposition: voip.DispositionAnswered, RawStatus: "Success"}
	require.NoError(t, p.Publish(ctx, voip.Update{Event: sampleEvent(), Call: c}))
	msgs := streamMsgs(t, js, "CALLS")
	require.Len(t, msgs, 2)
	assert.Equal(t, "crm.calls.default.phonet.answer", msgs[0].Subject)
	assert.Equal(t, "crm.calls.default.my=20vendor=2Ex.call", msgs[1].Subject, "a vendor is one token")
	u, err := natsjs.DecodeUpdate(msgs[1].Data)
	require.NoError(t, err)
	assert.Equal(t, voip.Update{Call: c}, u)

	assert.ErrorIs(t, p.Publish(ctx, voip.Update{}), natsjs.ErrInvalid)
	assert.ErrorIs(t, p.Publish(ctx, voip.Update{Event: &voip.Event{Kind: 42}}), natsjs.ErrInvalid)
}

// TestWebhookRedeliveredStoredOnce: a Gravitel webhook delivered twice to
// a handler that does not deduplicate (or to two replicas that do not
// share a memory) is published twice and stored once.
func TestWebhookRedeliveredStoredOnce(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	js := connect(t, startNATS(t))
	p, err := natsjs.NewPublisher(ctx, js, natsjs.PublisherConfig{})
	require.NoError(t, err)
	var hs []http.Handler
	for range 2 {
		h, err := gravitel.NewWebhookHandler(gravitel.WebhookConfig{CRMToken: crmToken, Update: p.Update(), DedupeWindow: -1})
		require.NoError(t, err)
		hs = append(hs, h)
	}
	_, front := serveReplicas(t, hs...)
	hooks := graviteltest.Webhooks{URL: front, CRMToken: crmToken, Client: testClient(t)}
	ev := graviteltest.Event{Type: graviteltest.EventIncoming, CallID: "8d2c6d0e-5555-4c3b-9a51-0d7f3c6b2a05",
		Phone: "79161234567", Diversion: "74996861574", User: "ivan@test.gravitel.ru", Ext: "702"}
	require.NoError(t, hooks.SendEvent(ctx, ev))
	time.Sleep(1100 * time.Millisecond) // a later receipt time
	require.NoError(t, hooks.SendEvent(ctx, ev))
	assert.Len(t, streamMsgs(t, js, natsjs.DefaultStream), 1)
	assert.Equal(t, natsjs.PublisherStats{Stored: 1, Duplicates: 1}, p.Stats())
}

// TestPublishNATSDown: NATS away is a typed error at once, and a webhook
// whose update cannot be published is answered 500.
func TestPublishNATSDown(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := startNATS(t)
	js := connect(t, srv)
	p, err := natsjs.NewPublisher(ctx, js, natsjs.PublisherConfig{Timeout: time.Second})
	require.NoError(t, err)
	h, err := gravitel.NewWebhookHandler(gravitel.WebhookConfig{CRMToken: crmToken, Update: p.Update()})
	require.NoError(t, err)
	_, front := serveReplicas(t, h)
	hooks := graviteltest.Webhooks{URL: front, CRMToken: crmToken, Client: testClient(t)}
	ev := graviteltest.Event{Type: graviteltest.EventIncoming, CallID: "8d2c6d0e-6666-4c3b-9a51-0d7f3c6b2a06",
		Phone: "79161234567", User: "ivan@test.gravitel.ru", Ext: "702"}

	srv.Stop()
	assertUnavailable(t, p.Publish(ctx, voip.Update{Event: sampleEvent()}))
	err = hooks.SendEvent(ctx, ev)
	var status *graviteltest.StatusError
	require.True(t, errors.As(err, &status), "%v", err)
	assert.Equal(t, http.StatusInternalServerError, status.Status)

	require.NoError(t, srv.Restart())
	waitConnected(t, js)
	require.NoError(t, hooks.SendEvent(ctx, ev), "the PBX's redelivery is handled, not taken for a duplicate")
	msgs := streamMsgs(t, js, natsjs.DefaultStream)
	require.Len(t, msgs, 1)
	u, err := natsjs.DecodeUpdate(msgs[0].Data)
	require.NoError(t, err)
	assert.Equal(t, "8d2c6d0e-6666-4c3b-9a51-0d7f3c6b2a06", u.Event.CallID)
}

// source is a voip.Source fed by the test.
type source struct {
	events  chan voip.Event
	notices chan voip.Notice
	err     error
	once    sync.Once
}

func newSource(n int) *source {
	return &source{events: make(chan voip.Event, n), notices: make(chan voip.Notice, 1)}
}
func (s *source) Events() <-chan voip.Event   { return s.events }
func (s *source) Notices() <-chan voip.Notice { return s.notices }
func (s *source) Err() error                  { return s.err }
func (s *source) Close() error {
	s.once.Do(func() { close(s.events); close(s.notices) })
	return nil
}

// TestPumpRidesOutARestart: Pump publishes a source's events; those that
// arrive while NATS is down wait in the source and are published once it
// is back. Pump returns the source's error when its events close.
func TestPumpRidesOutARestart(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := startNATS(t)
	js := connect(t, srv)
	p, err := natsjs.NewPublisher(ctx, js, natsjs.PublisherConfig{Timeout: time.Second})
	require.NoError(t, err)
	src := newSource(16)
	src.err = errors.New("socket refused")
	done := make(chan error, 1)
	go func() { done <- p.Pump(ctx, src) }()

	ev := func(i int) voip.Event {
		e := *sampleEvent()
		e.CallID = string(rune('a'+i)) + e.CallID[1:]
		return e
	}
	src.events <- ev(0)
	require.Eventually(t, func() bool { return p.Stats().Stored == 1 }, 5*time.Second, 10*time.Millisecond)
	srv.Stop()
	for i := 1; i <= 3; i++ {
		src.events <- ev(i)
	}
	src.events <- ev(1) // the same event again, from the other replica
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, srv.Restart())
	require.Eventually(t, func() bool { return p.Stats().Stored+p.Stats().Duplicates == 5 }, 15*time.Second, 10*time.Millisecond)
	require.NoError(t, src.Close())
	select {
	case err := <-done:
		assert.EqualError(t, err, "socket refused")
	case <-ctx.Done():
		t.Fatal("Pump did not return")
	}
	assert.Equal(t, natsjs.PublisherStats{Stored: 4, Duplicates: 1}, p.Stats())
	assert.Len(t, streamMsgs(t, js, natsjs.DefaultStream), 4)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, p.Pump(cctx, newSource(1)), context.Canceled)
}

func TestNewPublisherConfig(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	js := connect(t, startNATS(t))
	for _, cfg := range []natsjs.PublisherConfig{
		{Stream: "A.B"}, {Prefix: "a..b"}, {Prefix: "a.*"}, {Duplicates: -1},
		{MaxAge: time.Minute, Duplicates: 2 * time.Minute},
	} {
		_, err := natsjs.NewPublisher(ctx, js, cfg)
		assert.ErrorIs(t, err, natsjs.ErrInvalid, "%+v", cfg)
	}
	_, err := natsjs.NewPublisher(ctx, nil, natsjs.PublisherConfig{})
	assert.ErrorIs(t, err, natsjs.ErrInvalid)
	p, err := natsjs.NewPublisher(ctx, js, natsjs.PublisherConfig{Duplicates: 30 * time.Second})
	require.NoError(t, err)
	s, err := js.Stream(ctx, natsjs.DefaultStream)
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, info.Config.Duplicates)
	assert.Equal(t, []string{"pbxkit.>"}, info.Config.Subjects)
	assert.Equal(t, jetstream.FileStorage, info.Config.Storage)
	assert.Equal(t, "pbxkit.default.phonet.answer", p.Subject(voip.Update{Event: sampleEvent()}))
	assert.Empty(t, p.MsgID(voip.Update{}))
}

// TestHandoverStoredOnce: two replicas hold the same manager's socket
// during a handover (two Hubs on one subscriber of the emulator), each
// pumping its Hub into the stream: every event of the call reaches the
// stream twice and is stored once.
func TestHandoverStoredOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	const apiKey = "api-key-7c1e"
	pbx := phonettest.NewServer(apiKey)
	t.Cleanup(pbx.Close)
	srv := startNATS(t)
	js := connect(t, srv)
	var pubs []*natsjs.Publisher
	var pumps sync.WaitGroup
	for range 2 {
		c, err := phonet.New(pbx.Domain, apiKey, phonet.WithBaseURL(pbx.BaseURL()))
		require.NoError(t, err)
		hub, err := c.Watch(ctx, []string{"001"}, phonet.WithPing(time.Minute, 30*time.Second))
		require.NoError(t, err)
		p, err := natsjs.NewPublisher(ctx, connect(t, srv), natsjs.PublisherConfig{})
		require.NoError(t, err)
		pubs = append(pubs, p)
		src := hub.Source()
		pumps.Go(func() {
			assert.ErrorIs(t, p.Pump(ctx, src), context.Canceled)
			assert.NoError(t, src.Close())
		})
	}
	defer pumps.Wait()
	defer cancel()
	require.NoError(t, pbx.AwaitSockets(ctx, 2))
	uuid := pbx.Incoming("001", "+380501234567")
	require.True(t, pbx.Answer(uuid))
	require.True(t, pbx.Hangup(uuid))

	require.Eventually(t, func() bool {
		a, b := pubs[0].Stats(), pubs[1].Stats()
		return a.Stored+a.Duplicates == 3 && b.Stored+b.Duplicates == 3
	}, 10*time.Second, 10*time.Millisecond)
	a, b := pubs[0].Stats(), pubs[1].Stats()
	assert.Equal(t, uint64(3), a.Stored+b.Stored, "each event stored once")
	assert.Equal(t, uint64(3), a.Duplicates+b.Duplicates, "and dropped once")
	var kinds []string
	for _, m := range streamMsgs(t, js, natsjs.DefaultStream) {
		u, err := natsjs.DecodeUpdate(m.Data)
		require.NoError(t, err)
		assert.Equal(t, phonet.NormalizeUUID(uuid), u.Event.CallID)
		kinds = append(kinds, u.Event.Kind.String())
	}
	assert.ElementsMatch(t, []string{"start", "answer", "end"}, kinds)
}
