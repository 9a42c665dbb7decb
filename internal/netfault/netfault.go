// Package netfault plays the faults the emulators offer: a server taken
// off the network and back on the same address, as a restart does,
// connections gone half-open, as when a peer vanishes without a FIN
// ([Listener]), and canned error replies by path ([Replies], behind each
// emulator's Fail). Every vendor's emulator uses it, so that each plays
// the faults the same way.
package netfault

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// Listener wraps a server's TCP listener. [Listener.SetOffline] closes it
// and opens it again on the same address: meanwhile the operating system
// refuses connections, not the server, and the server's Accept waits.
// [Listener.SetSilent] makes every connection it accepted half-open: what
// the server writes is lost and what it is sent is never read.
type Listener struct {
	addr   net.Addr
	silent atomic.Bool

	mu      sync.Mutex
	cur     net.Listener  // nil while offline
	online  chan struct{} // closed when cur is set again
	closed  bool
	closing chan struct{} // closed by Close
}

// Wrap takes over l; the server then serves on the Listener.
func Wrap(l net.Listener) *Listener {
	return &Listener{addr: l.Addr(), cur: l, online: make(chan struct{}), closing: make(chan struct{})}
}

// Accept waits for the next connection, across offline spells.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		cur, online, closed := l.cur, l.online, l.closed
		l.mu.Unlock()
		switch {
		case closed:
			return nil, net.ErrClosed
		case cur == nil:
			select {
			case <-online:
			case <-l.closing:
			}
			continue
		}
		c, err := cur.Accept()
		if err == nil {
			return &conn{Conn: c, silent: &l.silent}, nil
		}
		l.mu.Lock()
		current := l.cur == cur && !l.closed
		l.mu.Unlock()
		if current {
			return nil, err
		}
		// Taken offline (or closed) under this Accept: look again.
	}
}

// SetOffline closes the listener (on) or listens again on its address
// (off). Connections already accepted are the server's to drop. The error
// is that of listening again, say when another program took the port
// meanwhile; net.ErrClosed once the Listener is closed.
func (l *Listener) SetOffline(on bool) error {
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
			return fmt.Errorf("netfault: listen again on %s: %w", l.addr, err)
		}
		l.cur = ln
		close(l.online)
	}
	return nil
}

// SetSilent makes every connection half-open while on: nothing the server
// writes arrives (pongs and handshake answers included), and nothing it is
// sent is read. Off lets traffic through again; a connection whose frames
// were cut meanwhile is broken by then.
func (l *Listener) SetSilent(on bool) { l.silent.Store(on) }

// Close closes the listener for good.
func (l *Listener) Close() error {
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

// Addr is the address the listener keeps across offline spells.
func (l *Listener) Addr() net.Addr { return l.addr }

// conn is an accepted connection that loses its traffic while silent.
type conn struct {
	net.Conn
	silent *atomic.Bool
}

func (c *conn) Write(p []byte) (int, error) {
	if c.silent.Load() {
		return len(p), nil // lost on the way
	}
	return c.Conn.Write(p)
}

func (c *conn) Read(p []byte) (int, error) {
	for {
		n, err := c.Conn.Read(p)
		if err != nil || !c.silent.Load() {
			return n, err
		}
		// Lost on the way, as on a dead path.
	}
}
