package ttlset_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/pbxkit/pbxkit/internal/ttlset"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func TestAddOnlyWhenAbsent(t *testing.T) {
	t.Parallel()
	s := ttlset.New(100)
	assert.True(t, s.Add("call-1/dial", "", time.Minute, t0), "first delivery")
	assert.False(t, s.Add("call-1/dial", "", time.Minute, t0.Add(30*time.Second)), "duplicate")
	assert.True(t, s.Add("call-1/dial", "", time.Minute, t0.Add(2*time.Minute)), "expired: new again")
	assert.True(t, s.Add("call-1/hangup", "", time.Minute, t0))
}

func TestGetDelete(t *testing.T) {
	t.Parallel()
	s := ttlset.New(10)
	s.Add("a", "out", time.Hour, t0)
	v, ok := s.Get("a", t0.Add(59*time.Minute))
	assert.True(t, ok)
	assert.Equal(t, "out", v)
	_, ok = s.Get("a", t0.Add(time.Hour))
	assert.False(t, ok, "expired at exactly ttl")
	s.Delete("a")
	_, ok = s.Get("a", t0)
	assert.False(t, ok)
	_, ok = s.Get("never", t0)
	assert.False(t, ok)
}

// TestKeysHaveTheirOwnTTL: one Set serves a short dedupe window and a long
// per-call memory at once.
func TestKeysHaveTheirOwnTTL(t *testing.T) {
	t.Parallel()
	s := ttlset.New(10)
	s.Add("short", "", time.Minute, t0)
	s.Add("long", "", 4*time.Hour, t0)
	_, short := s.Get("short", t0.Add(time.Hour))
	_, long := s.Get("long", t0.Add(time.Hour))
	assert.False(t, short)
	assert.True(t, long)
}

// TestBounded: keys from the network never grow the set past its limit, and
// the keys that live longest survive a prune.
func TestBounded(t *testing.T) {
	t.Parallel()
	s := ttlset.New(100)
	for i := range 1000 {
		s.Add(fmt.Sprint(i), "", time.Hour, t0.Add(time.Duration(i)*time.Second))
	}
	assert.LessOrEqual(t, s.Len(), 100)
	_, newest := s.Get("999", t0.Add(1000*time.Second))
	_, oldest := s.Get("0", t0.Add(1000*time.Second))
	assert.True(t, newest)
	assert.False(t, oldest)
}

func TestDegenerateLimits(t *testing.T) {
	t.Parallel()
	s := ttlset.New(0)
	assert.True(t, s.Add("a", "", 0, t0))
	assert.True(t, s.Add("b", "", 0, t0.Add(time.Second)))
	assert.Equal(t, 1, s.Len())
}

// TestConcurrentAddIsAtomic: of many concurrent Adds of one key exactly one
// stores it.
func TestConcurrentAddIsAtomic(t *testing.T) {
	t.Parallel()
	s := ttlset.New(1000)
	var wg sync.WaitGroup
	var won atomic.Int32
	start := make(chan struct{})
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if s.Add("the-key", "", time.Minute, t0) {
				won.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 1, won.Load())
}

func TestConcurrentUseStaysBounded(t *testing.T) {
	t.Parallel()
	s := ttlset.New(50)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				s.Add(fmt.Sprint(g, i%60), "", time.Minute, t0)
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, s.Len(), 50)
}
