package natsjs_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/natsjs"
	"github.com/pbxkit/pbxkit/voip"
)

// calls are the events published by the consume tests: one per call id.
func publishCalls(t *testing.T, p *natsjs.Publisher, ids ...string) {
	t.Helper()
	for _, id := range ids {
		ev := sampleEvent()
		ev.CallID = id
		require.NoError(t, p.Publish(testCtx(t), voip.Update{Event: ev}))
	}
}

// consumed counts fn's calls per call id.
type consumed struct {
	mu    sync.Mutex
	calls map[string]int
	order []string
}

func (c *consumed) add(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[id]++
	c.order = append(c.order, id)
	return c.calls[id]
}

func (c *consumed) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[id]
}

// runConsume runs Consume until the test ends, and waits for it.
func runConsume(t *testing.T, js jetstream.JetStream, cfg natsjs.ConsumerConfig, fn func(context.Context, voip.Update) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() { done <- natsjs.Consume(ctx, js, cfg, fn) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "nil once ctx ends")
		case <-time.After(10 * time.Second):
			t.Error("Consume did not return")
		}
	})
}

// settled reports whether the consumer has nothing pending nor waiting
// for an ack; false while Consume has not made it yet.
func settled(t *testing.T, js jetstream.JetStream, durable string) bool {
	t.Helper()
	c, err := js.Consumer(testCtx(t), natsjs.DefaultStream, durable)
	if err != nil {
		return false
	}
	info, err := c.Info(testCtx(t))
	return err == nil && info.NumAckPending == 0 && info.NumPending == 0
}

// TestConsumeAcksAfterSuccess: every update reaches fn once, in order,
// and is acked: nothing is pending afterwards.
func TestConsumeAcksAfterSuccess(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	js := connect(t, startNATS(t))
	p, err := natsjs.NewPublisher(ctx, js, natsjs.PublisherConfig{})
	require.NoError(t, err)
	publishCalls(t, p, "c1", "c2", "c3")
	var got consumed
	runConsume(t, js, natsjs.ConsumerConfig{Durable: "crm"}, func(_ context.Context, u voip.Update) error {
		got.add(u.Event.CallID)
		return nil
	})
	require.Eventually(t, func() bool { return got.count("c3") == 1 }, 10*time.Second, 10*time.Millisecond)
	publishCalls(t, p, "c4")
	require.Eventually(t, func() bool {
		return got.count("c4") == 1 && settled(t, js, "crm")
	}, 10*time.Second, 10*time.Millisecond)
	got.mu.Lock()
	assert.Equal(t, []string{"c1", "c2", "c3", "c4"}, got.order)
	got.mu.Unlock()
}

// TestConsumeRetriesThenPoison: a failing fn is retried with backoff and
// the message acked once fn succeeds; one that keeps failing is delivered
// MaxDeliver times, then terminated and logged, while the others go on.
func TestConsumeRetriesThenPoison(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	js := connect(t, startNATS(t))
	p, err := natsjs.NewPublisher(ctx, js, natsjs.PublisherConfig{})
	require.NoError(t, err)
	publishCalls(t, p, "flaky", "poison", "fine")
	var logs testutil.Logs
	var got consumed
	var times sync.Map
	runConsume(t, js, natsjs.ConsumerConfig{Durable: "crm", MaxDeliver: 3, Backoff: 20 * time.Millisecond, Logger: logs.Logger()},
		func(_ context.Context, u voip.Update) error {
			id := u.Event.CallID
			n := got.add(id)
			times.Store(id+string(rune('0'+n)), time.Now())
			switch {
			case id == "flaky" && n < 3:
				return errors.New("CRM busy")
			case id == "poison":
				return errors.New("CRM refuses it")
			}
			return nil
		})
	require.Eventually(t, func() bool {
		return got.count("fine") == 1 && got.count("flaky") == 3 && got.count("poison") == 3 && settled(t, js, "crm")
	}, 10*time.Second, 10*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // nothing more comes
	assert.Equal(t, 3, got.count("poison"), "never past MaxDeliver")
	assert.Equal(t, 3, got.count("flaky"), "acked once it succeeded")
	first, _ := times.Load("flaky1")
	second, _ := times.Load("flaky2")
	third, _ := times.Load("flaky3")
	assert.GreaterOrEqual(t, second.(time.Time).Sub(first.(time.Time)), 20*time.Millisecond, "backoff")
	assert.GreaterOrEqual(t, third.(time.Time).Sub(second.(time.Time)), 40*time.Millisecond, "doubled")
	out := logs.String()
	assert.Contains(t, out, "poison message terminated")
	assert.Contains(t, out, `"reason":"max deliveries"`)
	assert.Equal(t, 1, strings.Count(out, "poison message terminated"))
}

// TestConsumeTerminatesMalformed: a message that is not a stored update
// is terminated at once and logged; fn never sees it.
func TestConsumeTerminatesMalformed(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	js := connect(t, startNATS(t))
	p, err := natsjs.NewPublisher(ctx, js, natsjs.PublisherConfig{})
	require.NoError(t, err)
	for _, bad := range []string{`not json`, `{"event":"call.dial"}`, `{}`} {
		_, err = js.Publish(ctx, "pbxkit.default.phonet.start", []byte(bad))
		require.NoError(t, err)
	}
	publishCalls(t, p, "after")
	var logs testutil.Logs
	var got consumed
	runConsume(t, js, natsjs.ConsumerConfig{Durable: "crm", Logger: logs.Logger()}, func(_ context.Context, u voip.Update) error {
		got.add(u.Event.CallID)
		return nil
	})
	require.Eventually(t, func() bool {
		return got.count("after") == 1 && settled(t, js, "crm")
	}, 10*time.Second, 10*time.Millisecond)
	got.mu.Lock()
	assert.Equal(t, []string{"after"}, got.order)
	got.mu.Unlock()
	assert.Equal(t, 3, strings.Count(logs.String(), `"reason":"malformed"`))
}

// TestConsumeAcrossARestart: Consume goes on by itself when NATS comes
// back, from where it was.
func TestConsumeAcrossARestart(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := startNATS(t)
	js := connect(t, srv)
	p, err := natsjs.NewPublisher(ctx, js, natsjs.PublisherConfig{})
	require.NoError(t, err)
	publishCalls(t, p, "before")
	var got consumed
	runConsume(t, js, natsjs.ConsumerConfig{Durable: "crm", FilterSubject: "pbxkit.*.phonet.>"},
		func(_ context.Context, u voip.Update) error {
			got.add(u.Event.CallID)
			return nil
		})
	require.Eventually(t, func() bool { return got.count("before") == 1 }, 10*time.Second, 10*time.Millisecond)
	srv.Stop()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, srv.Restart())
	waitConnected(t, js)
	require.Eventually(t, func() bool { return p.Publish(ctx, voip.Update{Event: withID("after")}) == nil },
		10*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { return got.count("after") == 1 }, 20*time.Second, 10*time.Millisecond)
	assert.Equal(t, 1, got.count("before"), "acked before the restart: not delivered again")
}

func withID(id string) *voip.Event {
	ev := sampleEvent()
	ev.CallID = id
	return ev
}

func TestConsumeConfig(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	js := connect(t, startNATS(t))
	fn := func(context.Context, voip.Update) error { return nil }
	assert.ErrorIs(t, natsjs.Consume(ctx, nil, natsjs.ConsumerConfig{Durable: "d"}, fn), natsjs.ErrInvalid)
	assert.ErrorIs(t, natsjs.Consume(ctx, js, natsjs.ConsumerConfig{}, fn), natsjs.ErrInvalid)
	assert.ErrorIs(t, natsjs.Consume(ctx, js, natsjs.ConsumerConfig{Durable: "d"}, nil), natsjs.ErrInvalid)
	assert.ErrorIs(t, natsjs.Consume(ctx, js, natsjs.ConsumerConfig{Durable: "d", MaxDeliver: -1}, fn), natsjs.ErrInvalid)
	err := natsjs.Consume(ctx, js, natsjs.ConsumerConfig{Durable: "d", Stream: "NO_SUCH_STREAM"}, fn)
	assert.ErrorIs(t, err, natsjs.ErrRefused, "no stream: NATS refuses the consumer")
	assert.ErrorIs(t, err, jetstream.ErrStreamNotFound)
}

// TestConsumeRemadeWhenDeleted: a consumer deleted under Consume (by an
// operator, or lost with a memory-stored stream) is made again, and the
// stream is delivered from its start: at least once.
func TestConsumeRemadeWhenDeleted(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	js := connect(t, startNATS(t))
	p, err := natsjs.NewPublisher(ctx, js, natsjs.PublisherConfig{})
	require.NoError(t, err)
	publishCalls(t, p, "first")
	var got consumed
	runConsume(t, js, natsjs.ConsumerConfig{Durable: "crm"}, func(_ context.Context, u voip.Update) error {
		got.add(u.Event.CallID)
		return nil
	})
	require.Eventually(t, func() bool { return got.count("first") == 1 && settled(t, js, "crm") }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, js.DeleteConsumer(ctx, natsjs.DefaultStream, "crm"))
	publishCalls(t, p, "second")
	require.Eventually(t, func() bool { return got.count("second") == 1 }, 20*time.Second, 10*time.Millisecond)
	assert.Equal(t, 2, got.count("first"), "delivered again from the stream's start")
}
