package benchserver

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Route is one fixed answer.
type Route struct {
	// Path is the request path it answers; "" answers every path no other
	// route names.
	Path   string
	Status int // 0 is 200
	Header map[string]string
	Body   string
}

// Mode says where the server runs.
type Mode string

const (
	// InProcess serves from an httptest.Server in the benchmark's process.
	InProcess Mode = "inproc"
	// Process serves from a child process.
	Process Mode = "process"
)

// Modes is both, in the order the benchmarks run them.
var Modes = []Mode{InProcess, Process}

// env carries the routes to the child; its presence makes Main serve.
const env = "PBXKIT_BENCHSERVER_ROUTES"

// Start serves routes in mode and returns the server's base URL (no
// trailing slash). The server stops when tb's test ends.
func Start(tb testing.TB, mode Mode, routes []Route) string {
	tb.Helper()
	if mode == InProcess {
		s := httptest.NewServer(handler(routes))
		tb.Cleanup(s.Close)
		return s.URL
	}
	spec, err := json.Marshal(routes)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), env+"="+string(spec))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	// Closing stdin tells the child to stop.
	tb.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("benchserver: the child printed no address: %v", err)
	}
	return strings.TrimSpace(line)
}

// Main serves and exits if this process was started by Start as a server;
// otherwise it returns at once. Call it first in TestMain.
func Main() {
	spec, ok := os.LookupEnv(env)
	if !ok {
		return
	}
	var routes []Route
	if err := json.Unmarshal([]byte(spec), &routes); err != nil {
		fmt.Fprintln(os.Stderr, "benchserver:", err)
		os.Exit(2)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchserver:", err)
		os.Exit(2)
	}
	go func() { _ = http.Serve(l, handler(routes)) }()
	fmt.Println("http://" + l.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it or dies
	os.Exit(0)
}

// handler answers each request with its route, after reading the request
// body as a real server would.
func handler(routes []Route) http.Handler {
	byPath := make(map[string]Route, len(routes))
	for _, r := range routes {
		byPath[r.Path] = r
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rt, ok := byPath[r.URL.Path]
		if !ok {
			if rt, ok = byPath[""]; !ok {
				http.NotFound(w, r)
				return
			}
		}
		for k, v := range rt.Header {
			w.Header().Set(k, v)
		}
		status := rt.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, rt.Body)
	})
}

// Client returns an HTTP client of its own for a benchmark, whose idle
// connections are closed when tb's test ends, before the server stops.
// The SDK and the baseline of one benchmark share it, and so its
// connections.
func Client(tb testing.TB) *http.Client {
	t := &http.Transport{MaxIdleConnsPerHost: 4}
	tb.Cleanup(t.CloseIdleConnections)
	return &http.Client{Transport: t, Timeout: 10 * time.Second}
}
