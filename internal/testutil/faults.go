package testutil

import (
	"net"
	"net/http"
	"strconv"
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

// TruncatedJSON answers 200 with a JSON body that stops after start, well
// short of the Content-Length it announced, and drops the connection: an
// answer the vendor began but that never arrived whole, so that a request
// which starts a call cannot tell whether it was acted on.
func TruncatedJSON(start string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
			strconv.Itoa(len(start)+100) + "\r\n\r\n" + start)
		_ = rw.Flush()
		_ = conn.Close()
	}
}
