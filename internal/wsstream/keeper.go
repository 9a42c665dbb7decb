package wsstream

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// keeper pings one connection every interval and, when a pong is late,
// declares the connection dead and closes it, which ends the reader: that
// is how a half-open connection (the peer vanished without a FIN) is
// noticed. When the stream stops it closes the connection politely.
//
// It has no goroutine of its own while the connection is idle: a timer runs
// each ping and the stream's context runs the close, each on a goroutine
// that ends with it. An idle stream is then one goroutine, its reader, and
// not two.
type keeper struct {
	ws       *websocket.Conn
	ctx      context.Context // the stream's
	interval time.Duration   // ≤ 0: no pings
	timeout  time.Duration

	mu        sync.Mutex
	stopped   bool        // the reader ended: nothing more may start
	dead      error       // the ping failure that closed the connection
	timer     *time.Timer // the next ping; nil without pings
	running   sync.WaitGroup
	stopClose func() bool
}

// keep starts keeping ws; stop must be called once the reader ended.
func keep(ctx context.Context, ws *websocket.Conn, interval, timeout time.Duration) *keeper {
	k := &keeper{ws: ws, ctx: ctx, interval: interval, timeout: timeout}
	k.mu.Lock()
	defer k.mu.Unlock()
	if interval > 0 {
		k.timer = time.AfterFunc(interval, k.ping)
	}
	k.stopClose = context.AfterFunc(ctx, k.close)
	return k
}

// enter registers a callback that is about to work on the connection, and
// reports false once the keeper is stopped.
func (k *keeper) enter() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped {
		return false
	}
	k.running.Add(1)
	return true
}

func (k *keeper) ping() {
	if !k.enter() {
		return
	}
	defer k.running.Done()
	// The reader answers nothing here: Ping needs it running to see the
	// pong, which it is.
	ctx, cancel := context.WithTimeout(k.ctx, k.timeout)
	err := k.ws.Ping(ctx)
	cancel()
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.stopped: // the reader already ended; the ping failed because of that
	case err == nil:
		k.timer.Reset(k.interval)
	case k.ctx.Err() != nil: // stopping: close closes politely
	default:
		k.dead = fmt.Errorf("no pong within %v: %w", k.timeout, err)
		_ = k.ws.CloseNow()
	}
}

// close closes the connection politely when the stream stops.
func (k *keeper) close() {
	if !k.enter() {
		return
	}
	defer k.running.Done()
	if err := k.ws.Close(websocket.StatusNormalClosure, ""); err != nil {
		_ = k.ws.CloseNow()
	}
}

// stop ends the keeping once the reader ended: no ping or close starts any
// more, the connection is closed, and a ping or close under way is waited
// for. Closing first matters: a ping in flight when the peer went away
// would otherwise wait out its pong timeout, holding the reconnect back by
// 10 s. It returns the ping failure that closed the connection, if any.
func (k *keeper) stop() error {
	k.mu.Lock()
	k.stopped = true
	if k.timer != nil {
		k.timer.Stop()
	}
	k.mu.Unlock()
	k.stopClose()
	_ = k.ws.CloseNow() // whatever ended the reader, the socket is done
	k.running.Wait()
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.dead
}
