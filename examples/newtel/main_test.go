package main

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a strings.Builder safe for the logger's writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRealClientShowsWarnings: with a real account the client's warnings
// reach the writer (here a key in the wrong format), without the key.
func TestRealClientShowsWarnings(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	const key = "NOT-A-NEWTEL-KEY"
	c, err := realClient(key, "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071", &out)
	require.NoError(t, err)
	require.NotNil(t, c)
	assert.Contains(t, out.String(), "not 48 lowercase hex")
	assert.NotContains(t, out.String(), key)
}
