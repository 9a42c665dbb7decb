package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every provider bridges to retailCRM on the emulators: the events, the
// uploaded calls, the makeCall, the DND where there is one, the recording.
func TestEveryProviderOnTheEmulators(t *testing.T) {
	for _, name := range providerNames() {
		t.Run(name, func(t *testing.T) {
			cfg, err := parseConfig([]string{"-provider", name}, func(string) string { return "" })
			require.NoError(t, err)
			var out strings.Builder
			require.NoError(t, runEmulated(t.Context(), cfg, &out, io.Discard), out.String())
			assert.Contains(t, out.String(), "all arrived")
			assert.Contains(t, out.String(), `"type":"hangup"`)
			assert.Contains(t, out.String(), "200, audio/mpeg")
		})
	}
}

func TestConfig(t *testing.T) {
	env := map[string]string{"BRIDGE_PROVIDER": "newtel", "BRIDGE_FLUSH": "3s"}
	cfg, err := parseConfig(nil, func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Equal(t, "newtel", cfg.provider)
	assert.Equal(t, "3s", cfg.flush.String())
	cfg, err = parseConfig([]string{"-provider", "phonet"}, func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Equal(t, "phonet", cfg.provider, "a flag wins over the environment")

	_, err = parseConfig([]string{"-provider", "asterisk"}, func(string) string { return "" })
	require.ErrorContains(t, err, "unknown provider")

	byExt, byEmail, err := userMap("101=1, ann@example.com=2,,")
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"101": 1}, byExt)
	assert.Equal(t, map[string]int64{"ann@example.com": 2}, byEmail)
	for _, bad := range []string{"101", "101=x", "=3", "101=0"} {
		_, _, err := userMap(bad)
		assert.Error(t, err, bad)
	}
}

// A real bridge refuses to start without what it needs, before any
// network use.
func TestRealNeedsItsSettings(t *testing.T) {
	cfg, err := parseConfig(nil, func(string) string { return "" })
	require.NoError(t, err)
	err = runReal(t.Context(), cfg, func(k string) string {
		return map[string]string{"RETAILCRM_URL": "https://example.retailcrm.ru"}[k]
	})
	require.ErrorContains(t, err, "RETAILCRM_API_KEY")
}
