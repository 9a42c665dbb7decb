// Package natstest runs an embedded NATS server with JetStream for tests
// and examples: on loopback, on a port of its own, its file storage in a
// directory the caller owns, so that a restart on the same port and
// directory keeps every stream and key-value bucket. It is the
// scale-out's test bed; nothing outside tests and examples imports it.
package natstest

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// readyIn bounds the wait for a server to accept connections.
const readyIn = 10 * time.Second

// Server is an embedded NATS server with JetStream. Its methods are safe
// for concurrent use.
type Server struct {
	dir  string
	port int

	mu  sync.Mutex
	srv *server.Server // nil while stopped
}

// Start runs a server with JetStream whose storage is dir (a test's
// t.TempDir()), on a free loopback port.
func Start(dir string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, port: port}
	if err := s.Restart(); err != nil {
		return nil, err
	}
	return s, nil
}

// URL is the address clients connect to; it stays the same across
// restarts.
func (s *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

// Stop shuts the server down, as a crash of the engine does for its
// clients (they see the connection drop and reconnect on their own). Its
// storage stays on disk. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
}

// Restart starts the server again on the same port and storage (or for
// the first time). It is an error while it runs.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("natstest: the server is running")
	}
	opts := &server.Options{
		Host:      "127.0.0.1",
		Port:      s.port,
		JetStream: true,
		StoreDir:  s.dir,
		NoLog:     true,
		NoSigs:    true,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("natstest: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(readyIn) {
		srv.Shutdown()
		return fmt.Errorf("natstest: the server was not ready in %v", readyIn)
	}
	s.srv = srv
	return nil
}

// freePort asks the system for a loopback port nobody listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("natstest: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
