package phonettest

import (
	"errors"
	"net"
)

// Offline takes the server off the network while on, as a restart does:
// every connection is dropped abruptly (live sockets without a close
// frame), and new ones are refused, because the listener is closed. Off
// listens again on the same address, with the same state. The error is
// that of listening again, say when another program took the port
// meanwhile.
func (s *Server) Offline(on bool) error {
	if err := s.net.SetOffline(on); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	if on {
		s.CloseClientConnections()
		s.DropSockets()
	}
	return nil
}
