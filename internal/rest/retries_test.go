package rest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/rest"
)

func TestRetries(t *testing.T) {
	t.Parallel()
	for _, bad := range [][3]int{{-1, 1, 2}, {1, 0, 2}, {1, 3, 2}} {
		_, err := rest.NewRetries(bad[0], time.Duration(bad[1]), time.Duration(bad[2]))
		assert.Error(t, err, "%v", bad)
	}

	var cfg rest.Config
	rest.Retries{}.Apply(&cfg)
	assert.Zero(t, cfg.RetryMax, "the zero value keeps the defaults")

	r, err := rest.NewRetries(0, time.Millisecond, time.Second)
	require.NoError(t, err)
	r.Apply(&cfg)
	assert.Equal(t, -1, cfg.RetryMax, "0 disables retries")

	r, err = rest.NewRetries(5, time.Millisecond, time.Second)
	require.NoError(t, err)
	r.Apply(&cfg)
	assert.Equal(t, 5, cfg.RetryMax)
	assert.Equal(t, time.Millisecond, cfg.RetryWaitMin)
	assert.Equal(t, time.Second, cfg.RetryWaitMax)
}
