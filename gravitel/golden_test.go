package gravitel_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/voip"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// sampleToken is the crm_token of the samples in testdata, as in the
// protocol notes.
const sampleToken = "1"

// receivedAt replaces the parse time in golden output.
var receivedAt = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// golden compares got, as indented JSON, with testdata/golden/name.json.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(got))
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), buf.String())
}

// webhookRequest builds the PBX's POST of a sample body.
func webhookRequest(body []byte, contentType string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/gravitel", bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	return r
}

func contentTypeOf(path string) string {
	if strings.HasSuffix(path, ".json") {
		return "application/json"
	}
	return "application/x-www-form-urlencoded"
}

// TestGoldenWebhooks parses every sample webhook of the protocol notes and
// compares the typed webhook and its voip form with the golden files.
func TestGoldenWebhooks(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob("testdata/webhooks/*")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(path)
			require.NoError(t, err)
			w, err := gravitel.ParseWebhook(webhookRequest(body, contentTypeOf(path)), sampleToken)
			require.NoError(t, err)
			assert.NotContains(t, string(w.Raw), "crm_token")
			w.ReceivedAt = receivedAt
			out := struct {
				Webhook *gravitel.Webhook
				Event   *voip.Event `json:",omitempty"`
				Call    *voip.Call  `json:",omitempty"`
			}{Webhook: w}
			if ev, ok := w.Event(); ok {
				out.Event = &ev
			}
			if c, ok := w.Call(); ok {
				out.Call = &c
			}
			golden(t, "webhook_"+name, out)
		})
	}
}

// TestGoldenHistory parses the history CSV samples.
func TestGoldenHistory(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob("testdata/history/*.csv")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".csv")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(path)
			require.NoError(t, err)
			defer f.Close()
			records, err := gravitel.ParseHistory(f)
			require.NoError(t, err)
			calls := make([]voip.Call, len(records))
			for i, r := range records {
				calls[i] = r.Call()
			}
			golden(t, "history_"+name, struct {
				Records []gravitel.Record
				Calls   []voip.Call
			}{records, calls})
		})
	}
}
