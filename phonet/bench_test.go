package phonet_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/phonet"
)

// plainEvent is the hand-written baseline: the seed sample's fields in
// plain Go types, as a program that trusts the wire would declare them.
type plainEvent struct {
	Event       string `json:"event"`
	UUID        string `json:"uuid"`
	ParentUUID  string `json:"parentUuid"`
	LgDirection int    `json:"lgDirection"`
	Leg         *struct {
		ID          int    `json:"id"`
		Type        int    `json:"type"`
		DisplayName string `json:"displayName"`
		Ext         string `json:"ext"`
	} `json:"leg"`
	Leg2      json.RawMessage `json:"leg2"`
	OtherLegs []struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Num         string `json:"num"`
		CompanyName string `json:"companyName"`
		URL         string `json:"url"`
		Priority    int    `json:"priority"`
	} `json:"otherLegs"`
	DialAt     int64  `json:"dialAt"`
	BridgeAt   *int64 `json:"bridgeAt"`
	ServerTime string `json:"serverTime"`
	TrunkNum   string `json:"trunkNum"`
	TrunkName  string `json:"trunkName"`
}

// plainWebhook is the baseline's type for the webhook sample, whose
// otherLegs ids are numbers where the socket frame's are strings.
type plainWebhook struct {
	Event       string `json:"event"`
	Domain      string `json:"accountDomain"`
	UUID        string `json:"uuid"`
	ParentUUID  string `json:"parentUuid"`
	DialAt      int64  `json:"dialAt"`
	BridgeAt    int64  `json:"bridgeAt"`
	LgDirection int    `json:"lgDirection"`
	Leg         *struct {
		ID          int    `json:"id"`
		Ext         string `json:"ext"`
		DisplayName string `json:"displayName"`
	} `json:"leg"`
	Leg2      json.RawMessage `json:"leg2"`
	OtherLegs []struct {
		ID          int    `json:"id"`
		Name        string `json:"name"`
		Num         string `json:"num"`
		CompanyName string `json:"companyName"`
		URL         string `json:"url"`
	} `json:"otherLegs"`
	TrunkNum  string `json:"trunkNum"`
	TrunkName string `json:"trunkName"`
}

// BenchmarkToEvent compares a message turned into a voip.Event (the
// lenient decoder, the typed event and the conversion, phone normalisation
// included) with a plain json.Unmarshal of the same bytes into plainEvent:
// a socket frame, and a JSON webhook taken from its request as a handler
// does (the request body read, then decoded). The webhook sample's client
// number, +380000000000, is not a valid number, so it is the slow case of
// phone normalisation. Target: impl=sdk ≤ 1.3 × impl=baseline, ≤ 3 µs.
//
//	go test -run '^$' -bench ToEvent -count 10 -cpu 2 ./phonet/ | tee new.txt
//	benchstat -col /impl new.txt
func BenchmarkToEvent(b *testing.B) {
	frame := readSample(b, "events/ws_seed_dial.json")
	webhook := readSample(b, "events/webhook_bridge.json")
	b.Run("in=frame/impl=sdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ev, err := phonet.ParseEvent(frame)
			if err != nil {
				b.Fatal(err)
			}
			if v, ok := ev.Voip(); !ok || v.Client != "+380567777777" {
				b.Fatal("not a call", v)
			}
		}
	})
	b.Run("in=frame/impl=baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var ev plainEvent
			if err := json.Unmarshal(frame, &ev); err != nil || len(ev.OtherLegs) != 1 {
				b.Fatal(err)
			}
		}
	})
	// One request, its body rewound each time: building an *http.Request
	// is the server's cost, not the parser's.
	r := httptest.NewRequest(http.MethodPost, "/phonet", nil)
	r.Header.Set("Content-Type", "application/json")
	rd := bytes.NewReader(webhook)
	r.Body = io.NopCloser(rd)
	b.Run("in=webhook/impl=sdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rd.Reset(webhook)
			w, err := phonet.ParseWebhook(r)
			if err != nil || w.Event == nil {
				b.Fatal(err)
			}
			if v, ok := w.Event.Voip(); !ok || v.Client != "+380000000000" {
				b.Fatal("not a call", v)
			}
		}
	})
	b.Run("in=webhook/impl=baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rd.Reset(webhook)
			body, err := io.ReadAll(r.Body)
			if err != nil {
				b.Fatal(err)
			}
			var ev plainWebhook
			if err := json.Unmarshal(body, &ev); err != nil || len(ev.OtherLegs) != 1 {
				b.Fatal(err)
			}
		}
	})
}

// firehose is a socket server that, on each connection, writes frame as
// fast as the socket takes it until the client goes.
func firehose(b *testing.B, frame []byte) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		go func() { _, _, _ = c.Read(ctx) }() // answers pings, notices the close
		for c.Write(ctx, websocket.MessageText, frame) == nil {
		}
	}))
	b.Cleanup(s.Close)
	return s
}

// BenchmarkSocket measures one socket's throughput to the end product a
// user reads: voip.Events from a Phonet Stream's Source (the engine, the
// decoder, the conversion, phone normalisation), counting only the events
// delivered, against a raw coder/websocket read-and-unmarshal loop on the
// same kind of server. Both read under context.Background(), as the
// engine's reader does. Targets: ≥ 100,000 events/s and impl=sdk ≥ 1.0 ×
// impl=baseline in events/s (≤ 1.0 × in sec/op).
//
//	go test -run '^$' -bench Socket -count 10 -cpu 2 ./phonet/ | tee new.txt
//	benchstat -col /impl new.txt
func BenchmarkSocket(b *testing.B) {
	frame := readSample(b, "events/ws_seed_dial.json")
	b.Run("impl=sdk", func(b *testing.B) {
		s := firehose(b, frame)
		c, err := phonet.New("bench.phonet.com.ua", apiKey, phonet.WithBaseURL(s.URL))
		require.NoError(b, err)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		st, err := c.Subscribe(context.Background(), "001", phonet.WithBuffer(1024))
		require.NoError(b, err)
		src := st.Source()
		for range b.N {
			if _, ok := <-src.Events(); !ok {
				b.Fatal("stream stopped", src.Err())
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		_ = src.Close()
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(st.Dropped())/float64(b.N), "dropped/op")
	})
	b.Run("impl=baseline", func(b *testing.B) {
		s := firehose(b, frame)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		ctx := context.Background()
		conn, _, err := websocket.Dial(ctx, "ws"+s.URL[len("http"):], nil)
		require.NoError(b, err)
		conn.SetReadLimit(1 << 20)
		for range b.N {
			_, data, err := conn.Read(ctx)
			if err != nil {
				b.Fatal(err)
			}
			var ev plainEvent
			if err := json.Unmarshal(data, &ev); err != nil {
				b.Fatal(err)
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		_ = conn.CloseNow()
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	})
}

// idleSubscriptions is how many sockets the memory benchmark holds.
const idleSubscriptions = 200

// BenchmarkIdleSubscription measures the memory (heap and stacks) that one
// idle subscription holds in the client process, against an idle raw
// coder/websocket connection with its one reader goroutine. The server
// runs in a child process (this test binary, see idleServerMain), so that
// its side is not counted. Target ≤ 40 KiB per subscription.
func BenchmarkIdleSubscription(b *testing.B) {
	base := startIdleServer(b)
	measure := func(b *testing.B, open func(ctx context.Context) (func(), error)) {
		for b.Loop() {
			before := inUse()
			ctx, cancel := context.WithCancel(b.Context())
			closers := make([]func(), 0, idleSubscriptions)
			for range idleSubscriptions {
				cl, err := open(ctx)
				require.NoError(b, err)
				closers = append(closers, cl)
			}
			b.ReportMetric(float64(inUse()-before)/idleSubscriptions, "bytes/sub")
			for _, cl := range closers {
				cl()
			}
			cancel()
		}
	}
	c, err := phonet.New("bench.phonet.com.ua", apiKey, phonet.WithBaseURL(base), phonet.WithDialRate(10000, 1000))
	require.NoError(b, err)
	b.Run("phonet", func(b *testing.B) {
		measure(b, func(ctx context.Context) (func(), error) {
			st, err := c.Subscribe(ctx, "001")
			if err != nil {
				return nil, err
			}
			return func() { _ = st.Close() }, nil
		})
	})
	b.Run("hub", func(b *testing.B) {
		subs := make([]string, idleSubscriptions)
		for i := range subs {
			subs[i] = "m" + strconv.Itoa(i)
		}
		for b.Loop() {
			before := inUse()
			hub, err := c.Watch(b.Context(), subs)
			require.NoError(b, err)
			b.ReportMetric(float64(inUse()-before)/idleSubscriptions, "bytes/sub")
			_ = hub.Close()
		}
	})
	b.Run("baseline", func(b *testing.B) {
		u := "ws" + base[len("http"):]
		measure(b, func(ctx context.Context) (func(), error) {
			conn, _, err := websocket.Dial(ctx, u, nil)
			if err != nil {
				return nil, err
			}
			conn.SetReadLimit(1 << 20)
			done := make(chan struct{})
			go func() { defer close(done); _, _, _ = conn.Read(context.Background()) }() // the one reader it needs
			return func() { _ = conn.CloseNow(); <-done }, nil
		})
	})
}

// inUse is the heap and stack memory in use after a collection.
func inUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

// idleServerEnv makes the test binary an idle socket server (see TestMain).
const idleServerEnv = "PHONET_BENCH_IDLE_SERVER"

// startIdleServer runs this test binary as an idle socket server in a
// child process and returns its base URL.
func startIdleServer(b *testing.B) string {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), idleServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(b, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(b, err)
	require.NoError(b, cmd.Start())
	b.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(b, err)
	return strings.TrimSpace(line)
}

// idleServerMain accepts sockets and holds them, reading, until its stdin
// closes.
func idleServerMain() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, _, _ = c.Read(context.Background())
	})}
	go func() { _ = srv.Serve(l) }()
	fmt.Println("http://" + l.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin)
}
