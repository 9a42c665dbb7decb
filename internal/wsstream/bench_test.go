package wsstream_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/wsstream"
)

// benchEvent is shaped like a vendor call event.
type benchEvent struct {
	Event  string `json:"event"`
	CallID string `json:"call_id"`
	From   string `json:"from"`
	To     string `json:"to"`
	At     int64  `json:"at"`
}

var benchPayload = []byte(`{"event":"call.ringing","call_id":"5f0c9a1e-7d2b-4b8e-9a51-0c3e2f6d8a44","from":"+79991234567","to":"101","at":1732200000123}`)

// benchServer waits for a "go" message, then sends n events as fast as the
// socket takes them, then drains. Waiting for "go" keeps the dial and
// handshake out of the measurement.
func benchServer(b *testing.B, n int) string {
	return newServer(b, func(w http.ResponseWriter, r *http.Request, _ int) {
		c := accept(w, r)
		if c == nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		if _, _, err := c.Read(ctx); err != nil {
			return
		}
		for range n {
			if c.Write(ctx, websocket.MessageText, benchPayload) != nil {
				return
			}
		}
		_ = drain(c)
	}).url
}

func reportRate(b *testing.B, start time.Time) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkStream measures events/s through the engine: reader, Decode
// (json.Unmarshal), the Events channel, a consumer goroutine.
func BenchmarkStream(b *testing.B) {
	url := benchServer(b, b.N)
	s, err := wsstream.Start(b.Context(), wsstream.Config[benchEvent]{
		Vendor: "bench",
		URL:    url,
		Policy: wsstream.Block, // measure throughput, not drops
		Decode: func(_ websocket.MessageType, data []byte, emit func(benchEvent)) error {
			var ev benchEvent
			if err := json.Unmarshal(data, &ev); err != nil {
				return err
			}
			emit(ev)
			return nil
		},
	})
	require.NoError(b, err)
	defer s.Close()

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	require.NoError(b, s.Send(b.Context(), websocket.MessageText, []byte("go")))
	for range b.N {
		if _, ok := <-s.Events(); !ok {
			b.Fatal("stream stopped")
		}
	}
	reportRate(b, start)
	b.StopTimer()
	require.Zero(b, s.Malformed())
}

// BenchmarkRawLoop is the baseline: a hand-written coder/websocket Read and
// json.Unmarshal loop on one goroutine, no reconnects, no channel. It reads
// under context.Background(), as the engine's reader does: under a
// cancellable context coder/websocket registers a context.AfterFunc per
// read, a cost the engine does not pay.
func BenchmarkRawLoop(b *testing.B) {
	url := benchServer(b, b.N)
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, url, nil)
	require.NoError(b, err)
	defer c.CloseNow()
	c.SetReadLimit(wsstream.DefaultReadLimit)

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	require.NoError(b, c.Write(ctx, websocket.MessageText, []byte("go")))
	var ev benchEvent
	for range b.N {
		_, data, err := c.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(data, &ev); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, start)
	b.StopTimer()
	_ = c.Close(websocket.StatusNormalClosure, "")
}
