package natsjs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/natsjs"
	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

// benchChunk is how many messages each side publishes in turn: the two
// sides alternate, each going first in turn, so that a load on the
// machine weighs on both alike.
const benchChunk = 64

// BenchmarkPublish compares the rate of Publisher.Publish with a plain
// nats.go loop doing the same work on the same bytes: the same stream and
// subject, payloads of the same encoding and size (the JSON of the
// update, a real Phonet answer, made before the timed loop), the same Nats-Msg-Id and
// Nats-Expected-Stream headers, and the same wait for the stream's ack
// under a per-publish timeout. It reports both rates and their ratio
// (natsjs over plain; the target is ≥ 0.9).
func BenchmarkPublish(b *testing.B) {
	ctx := context.Background()
	js := connect(b, startNATS(b))
	p, err := natsjs.NewPublisher(ctx, js, natsjs.PublisherConfig{Tenant: "acme"})
	require.NoError(b, err)
	real := phonetAnswer(b)
	event := func(side string, i int) voip.Update {
		ev := *real
		ev.CallID = fmt.Sprintf("%s-%026d", side, i)
		return voip.Update{Event: &ev}
	}
	type plainMsg struct {
		subject, id string
		data        []byte
	}
	// The inputs are made a chunk at a time, out of the timed loops: made
	// all at once they would make a large heap for every GC to mark.
	updates := make([]voip.Update, benchChunk)
	plain := make([]plainMsg, benchChunk)
	prepare := func(start, end int) {
		for i := start; i < end; i++ {
			updates[i-start] = event("njs-x", i)
			u := event("plain", i)
			data, err := json.Marshal(struct {
				Event *voip.Event `json:"event"`
			}{u.Event})
			require.NoError(b, err)
			plain[i-start] = plainMsg{subject: p.Subject(u), id: p.MsgID(u), data: data}
		}
	}
	var tNatsjs, tPlain time.Duration
	viaNatsjs := func(n int) {
		t0 := time.Now()
		for _, u := range updates[:n] {
			if err := p.Publish(ctx, u); err != nil {
				b.Fatal(err)
			}
		}
		tNatsjs += time.Since(t0)
	}
	viaPlain := func(n int) {
		t0 := time.Now()
		for _, m := range plain[:n] {
			pctx, cancel := context.WithTimeout(ctx, natsjs.DefaultTimeout)
			ack, err := js.PublishMsg(pctx, &nats.Msg{Subject: m.subject, Data: m.data, Header: nats.Header{}},
				jetstream.WithMsgID(m.id), jetstream.WithExpectStream(natsjs.DefaultStream))
			cancel()
			if err != nil || ack.Duplicate {
				b.Fatal(err, ack)
			}
		}
		tPlain += time.Since(t0)
	}
	b.ResetTimer()
	for chunk, start := 0, 0; start < b.N; chunk, start = chunk+1, start+benchChunk {
		end := min(start+benchChunk, b.N)
		b.StopTimer()
		prepare(start, end)
		b.StartTimer()
		if chunk%2 == 0 { // each side goes first in turn
			viaNatsjs(end - start)
			viaPlain(end - start)
		} else {
			viaPlain(end - start)
			viaNatsjs(end - start)
		}
	}
	b.StopTimer()
	if st := p.Stats(); st.Stored != uint64(b.N) || st.Duplicates != 0 {
		b.Fatalf("stats %+v after %d publishes", st, b.N)
	}
	rn, rp := float64(b.N)/tNatsjs.Seconds(), float64(b.N)/tPlain.Seconds()
	b.ReportMetric(rn, "natsjs-msgs/s")
	b.ReportMetric(rp, "plain-msgs/s")
	b.ReportMetric(rn/rp, "ratio")
}

// phonetAnswer is a Phonet answer as the webhook handler makes it from the
// emulator's webhook: a real event, its Raw the whole delivery.
func phonetAnswer(b *testing.B) *voip.Event {
	pbx := phonettest.NewServer("api-key")
	defer pbx.Close()
	body, err := json.Marshal(pbx.EventWebhook(phonettest.EventBridge, "0c5e7f2a9b1d4e3f8a6b5c4d3e2f1a0b",
		phonettest.DirectionIn, "001", "+380501234567"))
	require.NoError(b, err)
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	wh, err := phonet.ParseWebhook(r)
	require.NoError(b, err)
	ev, ok := wh.Event.Voip()
	require.True(b, ok)
	return &ev
}

// BenchmarkMemoryAdd is the latency a webhook gains from its dedupe key:
// one remember-if-absent per delivery, on a NATS KV bucket (embedded
// server, loopback) and on the in-process LocalMemory. It reports the
// median and the 99th percentile of one Add.
func BenchmarkMemoryAdd(b *testing.B) {
	ctx := context.Background()
	b.Run("nats", func(b *testing.B) {
		mem, err := natsjs.NewMemory(ctx, connect(b, startNATS(b)), natsjs.MemoryConfig{})
		require.NoError(b, err)
		benchAdd(b, mem)
	})
	b.Run("local", func(b *testing.B) {
		benchAdd(b, voip.NewLocalMemory(0))
	})
}

func benchAdd(b *testing.B, mem voip.Memory) {
	ctx := context.Background()
	keys := make([]string, b.N)
	for i := range keys {
		keys[i] = fmt.Sprintf("gravitel/delivery/%032x", i) // the handlers' keys
	}
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	for i, k := range keys {
		t0 := time.Now()
		fresh, err := mem.Add(ctx, k, "", voip.DefaultDedupeWindow)
		lat[i] = time.Since(t0)
		if err != nil || !fresh {
			b.Fatal(fresh, err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Nanoseconds()), "p99-ns")
}
