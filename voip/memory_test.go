package voip_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
)

func TestLocalMemory(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m := voip.NewLocalMemory(0)
	added, err := m.Add(ctx, "k", "out", time.Hour)
	require.NoError(t, err)
	assert.True(t, added)
	added, err = m.Add(ctx, "k", "in", time.Hour)
	require.NoError(t, err)
	assert.False(t, added, "held already")
	v, ok, err := m.Get(ctx, "k")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "out", v, "the first value stays")
	require.NoError(t, m.Delete(ctx, "k"))
	require.NoError(t, m.Delete(ctx, "never added"))
	_, ok, err = m.Get(ctx, "k")
	require.NoError(t, err)
	assert.False(t, ok)

	added, err = m.Add(ctx, "brief", "", time.Millisecond)
	require.NoError(t, err)
	assert.True(t, added)
	time.Sleep(5 * time.Millisecond)
	_, ok, _ = m.Get(ctx, "brief")
	assert.False(t, ok, "expired")
}

func TestLocalMemoryHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	m := voip.NewLocalMemory(10)
	_, err := m.Add(ctx, "k", "", time.Hour)
	assert.ErrorIs(t, err, context.Canceled)
	_, _, err = m.Get(ctx, "k")
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, m.Delete(ctx, "k"), context.Canceled)
}

func TestDeliverOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m := voip.NewLocalMemory(10)
	var runs int
	deliver := func() error { runs++; return nil }

	ran, err := voip.DeliverOnce(ctx, m, "call-1/dial", time.Minute, deliver)
	require.NoError(t, err)
	assert.True(t, ran)
	ran, err = voip.DeliverOnce(ctx, m, "call-1/dial", time.Minute, deliver)
	require.NoError(t, err)
	assert.False(t, ran, "a duplicate")
	assert.Equal(t, 1, runs)

	// A failed delivery is forgotten, so the vendor's retry is handled.
	boom := errors.New("crm down")
	ran, err = voip.DeliverOnce(ctx, m, "call-1/bridge", time.Minute, func() error { return boom })
	assert.True(t, ran)
	assert.ErrorIs(t, err, boom)
	ran, err = voip.DeliverOnce(ctx, m, "call-1/bridge", time.Minute, deliver)
	require.NoError(t, err)
	assert.True(t, ran, "the retry of a failed delivery")

	// No window, or no key: every delivery runs.
	for range 2 {
		ran, err = voip.DeliverOnce(ctx, m, "call-1/dial", -1, deliver)
		require.NoError(t, err)
		assert.True(t, ran)
		ran, err = voip.DeliverOnce(ctx, m, "", time.Minute, deliver)
		require.NoError(t, err)
		assert.True(t, ran)
	}
}

// failingMemory is a Memory whose store is down.
type failingMemory struct{ voip.Memory }

func (failingMemory) Add(context.Context, string, string, time.Duration) (bool, error) {
	return false, errors.New("store unreachable")
}

func TestDeliverOnceReportsAMemoryFailure(t *testing.T) {
	t.Parallel()
	ran, err := voip.DeliverOnce(t.Context(), failingMemory{}, "k", time.Minute, func() error {
		t.Error("delivered although the memory failed")
		return nil
	})
	assert.False(t, ran)
	assert.EqualError(t, err, "store unreachable")
}

// TestSharedMemoryDeliversOnceAcrossHandlers: two handlers sharing one
// memory deliver a duplicate pair once between them, however they race.
func TestSharedMemoryDeliversOnceAcrossHandlers(t *testing.T) {
	t.Parallel()
	m := voip.NewLocalMemory(0)
	var runs atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := voip.DeliverOnce(t.Context(), m, "uuid/call.dial", time.Minute, func() error {
				runs.Add(1)
				return nil
			})
			if err != nil {
				// Landed while the other ran it: the vendor delivers it
				// again later, and it is a duplicate then.
				assert.ErrorIs(t, err, voip.ErrInProgress)
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 1, runs.Load())
	ran, err := voip.DeliverOnce(t.Context(), m, "uuid/call.dial", time.Minute, func() error { return nil })
	require.NoError(t, err)
	assert.False(t, ran, "a duplicate once it is done")
}

// TestDeliverOnceNeverLosesADelivery: a delivery is remembered only once
// it succeeded. One that lands while the same one runs elsewhere is not
// taken for a duplicate (that one may still fail), and a handler that died
// while running it leaves a claim that only holds redeliveries off for a
// while.
func TestDeliverOnceNeverLosesADelivery(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m := voip.NewLocalMemory(0)
	inside := make(chan struct{})
	release := make(chan error)
	done := make(chan error)
	go func() {
		_, err := voip.DeliverOnce(ctx, m, "k", time.Minute, func() error {
			close(inside)
			return <-release
		})
		done <- err
	}()
	<-inside
	ran, err := voip.DeliverOnce(ctx, m, "k", time.Minute, func() error {
		t.Error("ran twice at once")
		return nil
	})
	assert.False(t, ran)
	require.ErrorIs(t, err, voip.ErrInProgress)
	var we *voip.WebhookError
	require.ErrorAs(t, err, &we)
	assert.Equal(t, 503, we.Status, "the vendor is asked to deliver again later")

	release <- errors.New("crm down") // the first one fails after all
	require.Error(t, <-done)
	ran, err = voip.DeliverOnce(ctx, m, "k", time.Minute, func() error { return nil })
	require.NoError(t, err)
	assert.True(t, ran, "the redelivery of the failed one runs")

	// A handler that died mid-delivery: its claim is there, nothing done.
	fresh, err := m.Add(ctx, "dead.claim", "", time.Millisecond)
	require.NoError(t, err)
	require.True(t, fresh)
	_, err = voip.DeliverOnce(ctx, m, "dead", time.Minute, func() error { return nil })
	require.ErrorIs(t, err, voip.ErrInProgress, "held off while the claim lasts")
	require.Eventually(t, func() bool {
		ran, err := voip.DeliverOnce(ctx, m, "dead", time.Minute, func() error { return nil })
		return err == nil && ran
	}, 2*time.Second, 5*time.Millisecond, "then run afresh: nothing lost")
}
