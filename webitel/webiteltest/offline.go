package webiteltest

import (
	"errors"
	"fmt"
	"net"
	"sync"
)

// offlineListener is the server's TCP listener, which [Server.Offline]
// closes and opens again on the same address, as a restarted engine does:
// while it is closed the operating system refuses connections, and the
// HTTP server's Accept waits.
type offlineListener struct {
	addr net.Addr

	mu      sync.Mutex
	cur     net.Listener  // nil while offline
	online  chan struct{} // closed when cur is set again
	closed  bool
	closing chan struct{} // closed by Close
}

func newOfflineListener(l net.Listener) *offlineListener {
	return &offlineListener{addr: l.Addr(), cur: l, online: make(chan struct{}), closing: make(chan struct{})}
}

func (l *offlineListener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		cur, online, closed := l.cur, l.online, l.closed
		l.mu.Unlock()
		if closed {
			return nil, net.ErrClosed
		}
		if cur == nil {
			select {
			case <-online:
			case <-l.closing:
			}
			continue
		}
		c, err := cur.Accept()
		if err == nil {
			return c, nil
		}
		l.mu.Lock()
		current := l.cur == cur && !l.closed
		l.mu.Unlock()
		if current {
			return nil, err
		}
		// Taken offline or closed under this Accept: look again.
	}
}

// setOffline closes the listener (on) or listens again on its address.
func (l *offlineListener) setOffline(on bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return net.ErrClosed
	case on && l.cur != nil:
		err := l.cur.Close()
		l.cur, l.online = nil, make(chan struct{})
		return err
	case !on && l.cur == nil:
		ln, err := net.Listen(l.addr.Network(), l.addr.String())
		if err != nil {
			return fmt.Errorf("webiteltest: listen again on %s: %w", l.addr, err)
		}
		l.cur = ln
		close(l.online)
	}
	return nil
}

func (l *offlineListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	close(l.closing)
	if l.cur != nil {
		return l.cur.Close()
	}
	return nil
}

func (l *offlineListener) Addr() net.Addr { return l.addr }

// Offline takes the server off the network while on, as a restart does:
// every connection is dropped abruptly (sockets without a close frame) and
// new ones are refused, because the listener is closed. Off listens again
// on the same address, with the same state (users, tokens, calls,
// history). The error is that of listening again, say when another
// program took the port meanwhile.
func (s *Server) Offline(on bool) error {
	if err := s.offline.setOffline(on); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	if on {
		s.CloseClientConnections()
		s.DropSockets()
	}
	return nil
}
