package wsstream

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBackoffCeilGrowsToTheCap(t *testing.T) {
	t.Parallel()
	const lo, hi = 10 * time.Millisecond, 80 * time.Millisecond
	want := []time.Duration{10, 20, 40, 80, 80, 80}
	for n, w := range want {
		assert.Equal(t, w*time.Millisecond, backoffCeil(n, lo, hi), "n=%d", n)
	}
	// No overflow, however many attempts and however large the cap.
	assert.Equal(t, time.Duration(math.MaxInt64), backoffCeil(1000, time.Second, math.MaxInt64))
	assert.Equal(t, hi, backoffCeil(math.MaxInt, lo, hi))
}

func TestBackoffStaysWithinBounds(t *testing.T) {
	t.Parallel()
	const lo, hi = 10 * time.Millisecond, 80 * time.Millisecond
	for n := range 70 {
		ceil := backoffCeil(n, lo, hi)
		var top time.Duration
		for range 500 {
			d := backoff(n, lo, hi)
			if d < 0 || d > ceil {
				t.Fatalf("backoff(%d) = %v, want within [0, %v]", n, d, ceil)
			}
			top = max(top, d)
		}
		// Full jitter uses the whole range: 500 uniform samples all in the
		// lower half has probability 2⁻⁵⁰⁰.
		assert.Greater(t, top, ceil/2, "n=%d", n)
	}
	assert.Zero(t, backoff(3, 0, 0))
	assert.LessOrEqual(t, backoff(math.MaxInt, time.Second, math.MaxInt64), time.Duration(math.MaxInt64))
}

func TestSleepHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	assert.False(t, sleep(ctx, time.Hour))
	assert.Less(t, time.Since(start), 100*time.Millisecond)
	assert.False(t, sleep(ctx, 0))

	ctx, cancel = context.WithCancel(t.Context())
	done := make(chan bool)
	go func() { done <- sleep(ctx, time.Hour) }()
	cancel()
	select {
	case ok := <-done:
		assert.False(t, ok)
	case <-time.After(time.Second):
		t.Fatal("sleep ignored the cancellation")
	}

	assert.True(t, sleep(t.Context(), time.Millisecond))
}
