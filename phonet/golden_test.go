package phonet_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/voip"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

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

// TestGoldenEvents reads every event sample (the protocol notes' and the
// seed article's) into the typed event and its voip form.
func TestGoldenEvents(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ev, err := phonet.ParseEvent(readSample(t, filepath.Join("events", filepath.Base(path))))
			require.NoError(t, err)
			ev.ReceivedAt, ev.Raw = receivedAt, nil
			out := struct {
				Event    *phonet.Event
				Voip     *voip.Event      `json:",omitempty"`
				Presence *phonet.Presence `json:",omitempty"`
			}{Event: ev}
			if v, ok := ev.Voip(); ok {
				v.Raw = nil
				out.Voip = &v
			}
			if p, ok := ev.Presence(); ok {
				out.Presence = &p
			}
			golden(t, "event_"+name, out)
		})
	}
}

// TestGoldenRecords reads every history sample into the record and its
// voip.Call.
func TestGoldenRecords(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "records", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, err := phonet.ParseRecord(readSample(t, filepath.Join("records", filepath.Base(path))))
			require.NoError(t, err)
			c := r.Call()
			r.Raw, c.Raw = nil, nil
			golden(t, "record_"+name, struct {
				Record phonet.Record
				Call   voip.Call
			}{r, c})
		})
	}
}
