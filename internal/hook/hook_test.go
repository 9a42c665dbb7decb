package hook_test

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/hook"
	"github.com/pbxkit/pbxkit/voip"
)

func TestNewMemoryDefaults(t *testing.T) {
	t.Parallel()
	m := hook.NewMemory(nil, 0)
	require.NotNil(t, m.Memory)
	assert.Equal(t, voip.DefaultDedupeWindow, m.Window)

	shared := voip.NewLocalMemory(10)
	m = hook.NewMemory(shared, -1)
	assert.Same(t, shared, m.Memory)
	assert.Equal(t, time.Duration(-1), m.Window)
}

func TestOnce(t *testing.T) {
	t.Parallel()
	m := hook.NewMemory(nil, time.Minute)
	runs := 0
	for range 2 {
		_, err := m.Once(t.Context(), "k", func() error { runs++; return nil })
		require.NoError(t, err)
	}
	assert.Equal(t, 1, runs)

	off := hook.NewMemory(nil, -1)
	for range 2 {
		_, err := off.Once(t.Context(), "k", func() error { runs++; return nil })
		require.NoError(t, err)
	}
	assert.Equal(t, 3, runs, "a negative window delivers every time")

	boom := errors.New("boom")
	_, err := m.Once(t.Context(), "j", func() error { return boom })
	assert.ErrorIs(t, err, boom)
}

func TestKey(t *testing.T) {
	t.Parallel()
	a := hook.Key("gravitel", "delivery", []byte("cmd=event"), []byte("x"))
	assert.Equal(t, a, hook.Key("gravitel", "delivery", []byte("cmd=event"), []byte("x")), "stable")
	assert.NotEqual(t, a, hook.Key("gravitel", "delivery", []byte("cmd=eventx")), "parts are separated")
	assert.NotEqual(t, a, hook.Key("newtel", "delivery", []byte("cmd=event"), []byte("x")))
	assert.Regexp(t, regexp.MustCompile(`^gravitel/delivery/[0-9a-f]{32}$`), a)
}
