package phonet

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDecodeListOneWrapper: one wrapper around the list is read; a wrapper
// in a wrapper is not, so that a deeply nested body is refused at once
// instead of being read again at every level.
func TestDecodeListOneWrapper(t *testing.T) {
	items, err := decodeList[wireUser]([]byte(`{"data":[{"id":1},{"id":2}]}`), 0)
	require.NoError(t, err)
	require.Len(t, items, 2)
	require.Equal(t, `{"id":2}`, string(items[1].raw))
	_, err = decodeList[wireUser]([]byte(`{"data":{"items":[1]}}`), 0)
	require.Error(t, err)

	deep := strings.Repeat(`{"items":`, 5000) + "[]" + strings.Repeat("}", 5000)
	start := time.Now()
	_, err = decodeList[wireUser]([]byte(deep), 0)
	require.Error(t, err)
	require.Less(t, time.Since(start), time.Second)
}
