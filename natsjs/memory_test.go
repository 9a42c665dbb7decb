package natsjs_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/natsjs"
	"github.com/pbxkit/pbxkit/voip"
)

func TestMemoryAddGetDelete(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	mem, err := natsjs.NewMemory(ctx, connect(t, startNATS(t)), natsjs.MemoryConfig{})
	require.NoError(t, err)
	assert.Equal(t, natsjs.DefaultMemoryBucket, mem.Bucket())

	ok, err := mem.Add(ctx, "gravitel/outgoing/0a1b", "v1", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = mem.Add(ctx, "gravitel/outgoing/0a1b", "v2", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "held already")
	v, held, err := mem.Get(ctx, "gravitel/outgoing/0a1b")
	require.NoError(t, err)
	assert.True(t, held)
	assert.Equal(t, "v1", v, "the first value stays")

	require.NoError(t, mem.Delete(ctx, "gravitel/outgoing/0a1b"))
	_, held, err = mem.Get(ctx, "gravitel/outgoing/0a1b")
	require.NoError(t, err)
	assert.False(t, held, "deleted")
	require.NoError(t, mem.Delete(ctx, "gravitel/outgoing/0a1b"), "deleting a key not held is no error")
	require.NoError(t, mem.Delete(ctx, "never-added"))
	ok, err = mem.Add(ctx, "gravitel/outgoing/0a1b", "v3", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "a deleted key is added again")
	v, _, err = mem.Get(ctx, "gravitel/outgoing/0a1b")
	require.NoError(t, err)
	assert.Equal(t, "v3", v)

	_, err = mem.Add(ctx, "", "v", time.Minute)
	assert.ErrorIs(t, err, natsjs.ErrInvalid)
}

// TestMemoryExpires: a key is held for its ttl, then gone, and can be
// added again.
func TestMemoryExpires(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	mem, err := natsjs.NewMemory(ctx, connect(t, startNATS(t)), natsjs.MemoryConfig{})
	require.NoError(t, err)
	start := time.Now()
	ok, err := mem.Add(ctx, "short", "", 1500*time.Millisecond) // held 2 s: NATS counts seconds
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = mem.Add(ctx, "long", "", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	require.Eventually(t, func() bool {
		_, held, err := mem.Get(ctx, "short")
		return err == nil && !held
	}, 10*time.Second, 50*time.Millisecond)
	assert.GreaterOrEqual(t, time.Since(start), 1500*time.Millisecond, "held for at least its ttl")
	ok, err = mem.Add(ctx, "short", "again", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "an expired key is added again")
	_, held, err := mem.Get(ctx, "long")
	require.NoError(t, err)
	assert.True(t, held)
}

// TestMemoryAddIsAtomic: of concurrent Adds of one key from three
// replicas, each on its own connection, exactly one wins, for every key,
// also when the key was deleted before (Create then races on the marker).
func TestMemoryAddIsAtomic(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := startNATS(t)
	var mems []*natsjs.Memory
	for range 3 {
		m, err := natsjs.NewMemory(ctx, connect(t, srv), natsjs.MemoryConfig{})
		require.NoError(t, err)
		mems = append(mems, m)
	}
	for round := range 2 {
		for k := range 10 {
			key := fmt.Sprintf("phonet/delivery/%02d", k)
			var wins atomic.Int32
			var wg sync.WaitGroup
			for i := range 12 {
				wg.Go(func() {
					ok, err := mems[i%3].Add(ctx, key, "", time.Minute)
					assert.NoError(t, err)
					if ok {
						wins.Add(1)
					}
				})
			}
			wg.Wait()
			assert.Equal(t, int32(1), wins.Load(), "round %d key %s", round, key)
			if round == 0 {
				require.NoError(t, mems[k%3].Delete(ctx, key))
			}
		}
	}
}

// TestMemoryKeys: any string is a key, and distinct strings are distinct
// keys: dots, spaces, '=' (the escape), non-ASCII, very long keys.
func TestMemoryKeys(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	mem, err := natsjs.NewMemory(ctx, connect(t, startNATS(t)), natsjs.MemoryConfig{})
	require.NoError(t, err)
	long := strings.Repeat("x", 300)
	keys := []string{"a.b", "a=2Eb", "a b", "a=20b", ".", "..", "a*", ">", "ключ", "=", "==", long, long + "y",
		strings.Repeat(".", 300), strings.Repeat(".", 301)}
	for i, k := range keys {
		ok, err := mem.Add(ctx, k, fmt.Sprint(i), time.Minute)
		require.NoError(t, err, "%q", k)
		assert.True(t, ok, "%q is a key of its own", k)
	}
	for i, k := range keys {
		v, held, err := mem.Get(ctx, k)
		require.NoError(t, err)
		assert.True(t, held)
		assert.Equal(t, fmt.Sprint(i), v, "%q", k)
	}
}

// TestMemoryNATSDown: while NATS is away every call fails at once with
// ErrUnavailable (voip.ErrUnreachable too); once it is back the Memory
// works again by itself, its keys kept.
func TestMemoryNATSDown(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := startNATS(t)
	js := connect(t, srv)
	mem, err := natsjs.NewMemory(ctx, js, natsjs.MemoryConfig{Timeout: time.Second})
	require.NoError(t, err)
	ok, err := mem.Add(ctx, "before", "v", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)

	srv.Stop()
	start := time.Now()
	_, err = mem.Add(ctx, "during", "", time.Hour)
	assertUnavailable(t, err)
	_, _, err = mem.Get(ctx, "before")
	assertUnavailable(t, err)
	assertUnavailable(t, mem.Delete(ctx, "before"))
	assert.Less(t, time.Since(start), 3*time.Second, "bounded by Timeout")

	require.NoError(t, srv.Restart())
	waitConnected(t, js)
	require.Eventually(t, func() bool { _, err := mem.Add(ctx, "during", "", time.Hour); return err == nil },
		10*time.Second, 20*time.Millisecond)
	v, held, err := mem.Get(ctx, "before")
	require.NoError(t, err)
	assert.True(t, held)
	assert.Equal(t, "v", v)
}

func assertUnavailable(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, natsjs.ErrUnavailable)
	assert.ErrorIs(t, err, voip.ErrUnreachable)
	var e *natsjs.Error
	assert.True(t, errors.As(err, &e))
}

func TestNewMemoryConfig(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	js := connect(t, startNATS(t))
	_, err := natsjs.NewMemory(ctx, nil, natsjs.MemoryConfig{})
	assert.ErrorIs(t, err, natsjs.ErrInvalid)
	_, err = natsjs.NewMemory(ctx, js, natsjs.MemoryConfig{MaxTTL: -time.Second})
	assert.ErrorIs(t, err, natsjs.ErrInvalid)
	_, err = natsjs.NewMemory(ctx, js, natsjs.MemoryConfig{Bucket: "bad.name"})
	assert.ErrorIs(t, err, natsjs.ErrInvalid)

	mem, err := natsjs.NewMemory(ctx, js, natsjs.MemoryConfig{Bucket: "b", MaxTTL: time.Minute, Storage: jetstream.MemoryStorage})
	require.NoError(t, err)
	kv, err := js.KeyValue(ctx, "b")
	require.NoError(t, err)
	st, err := kv.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, time.Minute, st.TTL())
	ok, err := mem.Add(ctx, "k", "", 0) // no ttl: MaxTTL
	require.NoError(t, err)
	assert.True(t, ok)
	_, err = natsjs.NewMemory(ctx, js, natsjs.MemoryConfig{Bucket: "b", MaxTTL: time.Minute, Storage: jetstream.MemoryStorage})
	require.NoError(t, err, "a second replica with the same config")
}
