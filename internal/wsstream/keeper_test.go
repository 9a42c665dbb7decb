package wsstream

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAPingInFlightDoesNotHoldTheReconnect: the peer goes away while a
// ping waits for its pong (an hour away); the keeper stops at once, not
// when the ping gives up, so the reconnect is not held back.
func TestAPingInFlightDoesNotHoldTheReconnect(t *testing.T) {
	t.Parallel()
	pinged := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OnPingReceived: func(context.Context, []byte) bool {
			once.Do(func() { close(pinged) })
			return false // no pong
		}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		go func() { <-pinged; _ = c.CloseNow() }() // gone, with the ping unanswered
		_, _, _ = c.Read(context.Background())
	}))
	defer srv.Close()

	ws, _, err := websocket.Dial(t.Context(), testURL(srv), nil)
	require.NoError(t, err)
	defer ws.CloseNow()
	// Straight to the keeper: a stream caps the pong timeout to the ping
	// interval, and this needs a ping that would wait long.
	k := keep(t.Context(), ws, time.Millisecond, time.Hour)
	_, _, err = ws.Read(context.Background()) // the reader, until the peer goes
	require.Error(t, err)
	stopped := make(chan error, 1)
	go func() { stopped <- k.stop() }()
	select {
	case err := <-stopped:
		assert.NoError(t, err, "the peer went away; no pong was late")
	case <-time.After(5 * time.Second): // a hang, not a measure: the pong is an hour away
		t.Fatal("the keeper waited for the ping in flight")
	}
}
