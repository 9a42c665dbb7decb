package voip

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPhoneCacheAnswersAsTheUncachedPath: a cached result, success or
// failure, is the one the uncached path gives, the first time and the next.
func TestPhoneCacheAnswersAsTheUncachedPath(t *testing.T) {
	t.Parallel()
	for _, tt := range phoneTests {
		want, wantErr := normalizePhone(tt.raw, tt.region)
		for range 2 {
			got, err := NormalizePhone(tt.raw, tt.region)
			assert.Equal(t, want, got, "%q in %q", tt.raw, tt.region)
			if wantErr == nil {
				assert.NoError(t, err)
				continue
			}
			require.Error(t, err)
			assert.Equal(t, wantErr.Error(), err.Error())
			assert.ErrorIs(t, err, ErrInvalidPhone)
		}
	}
}

// TestPhoneCacheKeepsFailures: an invalid number is answered from the
// cache the second time, not by the library again.
func TestPhoneCacheKeepsFailures(t *testing.T) {
	t.Parallel()
	const raw = "+380000000000"
	_, err := NormalizePhone(raw, "UA")
	require.ErrorIs(t, err, ErrInvalidPhone)
	r, ok := phoneResults.get(raw, "UA")
	require.True(t, ok, "the failure is kept")
	assert.Equal(t, err, r.err)
	assert.Empty(t, r.e164)
}

// TestPhoneCacheIsBounded: many distinct numbers, from many goroutines,
// never grow the cache past its bound, and each answer is still right.
func TestPhoneCacheIsBounded(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range phoneCacheSize {
				raw := fmt.Sprintf("+7912%07d", g*phoneCacheSize+i)
				got, err := NormalizePhone(raw, "RU")
				if !assert.NoError(t, err) || !assert.Equal(t, raw, got) {
					return
				}
			}
		}()
	}
	wg.Wait()
	phoneResults.mu.Lock()
	n := len(phoneResults.m)
	phoneResults.mu.Unlock()
	assert.LessOrEqual(t, n, phoneCacheSize)
}

// TestPhoneCacheSkipsLongInput: a garbage field is answered but not kept.
func TestPhoneCacheSkipsLongInput(t *testing.T) {
	t.Parallel()
	raw := fmt.Sprintf("%0300d", 7)
	_, err := NormalizePhone(raw, "RU")
	require.ErrorIs(t, err, ErrInvalidPhone)
	_, ok := phoneResults.get(raw, "RU")
	assert.False(t, ok)
}

// BenchmarkNormalizePhoneUncached is the cost of a number's first sight:
// NormalizePhone without its cache, for the inputs BenchmarkNormalizePhone
// repeats (where the cache answers), and for an invalid number.
func BenchmarkNormalizePhoneUncached(b *testing.B) {
	for _, in := range []struct{ name, raw, region string }{
		{"e164", "+79121234567", "RU"},
		{"national", "8 (912) 123-45-67", "RU"},
		{"invalid", "+380000000000", "UA"},
	} {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = normalizePhone(in.raw, in.region)
			}
		})
	}
}
