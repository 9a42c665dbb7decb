package testutil

import (
	"net"
	"net/http"
)

// ResetConnection answers a request by resetting its TCP connection
// (RST, not FIN) before any byte of an answer: the fault a request that
// left but got no answer meets, which a call-starting request must not
// repeat.
func ResetConnection(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
