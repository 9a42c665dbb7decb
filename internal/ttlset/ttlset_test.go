package ttlset_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/pbxkit/pbxkit/internal/ttlset"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func TestSeenWithinTheWindow(t *testing.T) {
	t.Parallel()
	s := ttlset.New(time.Minute, 100)
	assert.False(t, s.Seen("call-1/dial", t0), "first delivery")
	assert.True(t, s.Seen("call-1/dial", t0.Add(30*time.Second)), "duplicate")
	assert.False(t, s.Seen("call-1/dial", t0.Add(2*time.Minute)), "expired: new again")
	assert.False(t, s.Seen("call-1/hangup", t0))
}

func TestAddHasDelete(t *testing.T) {
	t.Parallel()
	s := ttlset.New(time.Hour, 10)
	s.Add("a", t0)
	assert.True(t, s.Has("a", t0.Add(59*time.Minute)))
	assert.False(t, s.Has("a", t0.Add(time.Hour)))
	s.Delete("a")
	assert.False(t, s.Has("a", t0))
	assert.False(t, s.Has("never", t0))
}

// TestBounded: keys from the network never grow the set past its limit, and
// the newest keys survive a prune.
func TestBounded(t *testing.T) {
	t.Parallel()
	s := ttlset.New(time.Hour, 100)
	for i := range 1000 {
		s.Add(fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second))
	}
	assert.LessOrEqual(t, s.Len(), 100)
	assert.True(t, s.Has("999", t0.Add(1000*time.Second)))
	assert.False(t, s.Has("0", t0.Add(1000*time.Second)))
}

func TestDegenerateLimits(t *testing.T) {
	t.Parallel()
	s := ttlset.New(0, 0)
	assert.False(t, s.Seen("a", t0))
	assert.False(t, s.Seen("b", t0.Add(time.Second)))
	assert.Equal(t, 1, s.Len())
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s := ttlset.New(time.Minute, 50)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				s.Seen(fmt.Sprint(g, i%60), t0)
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, s.Len(), 50)
}
