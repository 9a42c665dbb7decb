package wsstream

import (
	"context"
	"math"
	"math/rand/v2"
	"time"
)

// backoff returns the wait before reconnect attempt n (counting from 0):
// uniformly random in [0, min(hi, lo·2ⁿ)], the "full jitter" of the AWS
// architecture blog. Full jitter spreads a fleet of clients that lost the
// same server, so they do not all come back in the same millisecond.
func backoff(n int, lo, hi time.Duration) time.Duration {
	return jitter(backoffCeil(n, lo, hi))
}

// jitter returns a wait drawn uniformly from [0, ceil].
func jitter(ceil time.Duration) time.Duration {
	switch {
	case ceil <= 0:
		return 0
	case ceil == math.MaxInt64:
		return rand.N(ceil) // ceil+1 would overflow; one nanosecond is no loss
	}
	return rand.N(ceil + 1) // +1: the cap itself is a valid wait
}

// backoffCeil returns min(hi, lo·2ⁿ) without overflowing for any n.
func backoffCeil(n int, lo, hi time.Duration) time.Duration {
	ceil := lo
	for i := 0; i < n && ceil < hi; i++ {
		if ceil > hi/2 {
			return hi // doubling would pass the cap (or overflow)
		}
		ceil *= 2
	}
	return min(ceil, hi)
}

// sleep waits for d or until ctx ends, and reports whether the full wait
// elapsed. It uses a timer rather than time.Sleep so that Close never waits
// out a backoff.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
