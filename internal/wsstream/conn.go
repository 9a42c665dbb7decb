package wsstream

import (
	"context"
	"sync/atomic"

	"github.com/coder/websocket"
)

// Conn is the connection handed to [Config.OnConnect]. It is a thin wrapper
// over *websocket.Conn that keeps the single-reader rule: Read works only
// while OnConnect runs, because afterwards the stream's reader owns the
// connection.
type Conn struct {
	ws        *websocket.Conn
	setup     atomic.Bool // true while OnConnect runs
	reconnect bool
}

// Read reads one whole data message. It is only valid inside OnConnect;
// afterwards it returns an error without touching the connection. As with
// any coder/websocket call, an error (an expired ctx included) closes the
// connection.
func (c *Conn) Read(ctx context.Context) (websocket.MessageType, []byte, error) {
	if !c.setup.Load() {
		return 0, nil, errReadAfterConnect
	}
	return c.ws.Read(ctx)
}

// Write writes one message. It is safe to call concurrently with the
// stream's reader and with [Stream.Send]. An error, an expired ctx included,
// closes the connection, and the stream reconnects.
func (c *Conn) Write(ctx context.Context, typ websocket.MessageType, data []byte) error {
	return c.ws.Write(ctx, typ, data)
}

// WriteText writes one text message, the usual frame for JSON protocols.
func (c *Conn) WriteText(ctx context.Context, data []byte) error {
	return c.ws.Write(ctx, websocket.MessageText, data)
}

// Subprotocol returns the subprotocol the server chose, "" if none.
func (c *Conn) Subprotocol() string { return c.ws.Subprotocol() }

// Reconnect reports whether this connection replaces a lost one, so that
// OnConnect can, say, log differently or request a snapshot; it is false
// only for the connection Start makes.
func (c *Conn) Reconnect() bool { return c.reconnect }
