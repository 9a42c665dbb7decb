package voip

import (
	"fmt"
	"time"
)

// Source is a live stream of call events from a vendor socket (Phonet,
// Webitel). It reconnects by itself; every time it may have missed events it
// says so with a [Notice] whose Gap is true, so that the caller can reconcile
// from the vendor's active calls or history.
//
// A typical consumer:
//
//	for {
//		select {
//		case ev, ok := <-src.Events():
//			if !ok {
//				return src.Err()
//			}
//			handle(ev)
//		case n := <-src.Notices():
//			if n.Gap {
//				reconcile()
//			}
//		}
//	}
type Source interface {
	// Events delivers the events. It is closed when the source stops.
	Events() <-chan Event
	// Notices delivers connection changes. It is closed when the source
	// stops. Notices are few; if the caller never reads them the oldest are
	// dropped, never the events.
	Notices() <-chan Notice
	// Err reports why the source stopped: nil after Close or a cancelled
	// context, the permanent error (bad credentials, say) otherwise. It is
	// meaningful once Events is closed.
	Err() error
	// Close stops the source and waits for its goroutines to end.
	Close() error
}

// NoticeKind says what happened to a [Source]'s connection.
type NoticeKind int8

// The notice kinds.
const (
	NoticeUnknown      NoticeKind = iota
	NoticeConnected               // connected and subscribed
	NoticeDisconnected            // the connection was lost; a reconnect follows unless the source stopped
	NoticeDropped                 // the consumer was too slow and events were dropped
	// NoticeStopped: the connection stopped for good on a permanent error
	// (Err: the credentials or the subscriber were refused); it is not
	// retried. A single stream then closes; a hub of sockets goes on with
	// the others.
	NoticeStopped
)

var noticeKindWords = [...]string{"unknown", "connected", "disconnected", "dropped", "stopped"}

// String returns "connected", "disconnected", "dropped", "stopped" or
// "unknown".
func (k NoticeKind) String() string { return word(noticeKindWords[:], int(k), "NoticeKind") }

// Notice is a change in a [Source]'s connection.
type Notice struct {
	Kind NoticeKind
	At   time.Time
	// Gap is true when events may have been lost before this notice: on
	// every connect but the first, and on every drop.
	Gap bool
	// Err is why the connection was lost (on NoticeDisconnected) or
	// refused for good (on NoticeStopped). It is
	// redacted: keys in URLs never appear in it.
	Err error
	// Attempt counts the failed connection attempts in a row before this
	// notice (0 on a first-try connect).
	Attempt int
	// Dropped is the total number of events dropped so far.
	Dropped uint64
	// Subscriber names the socket the notice is about, in a source that
	// merges many (a hub of managers' sockets); empty otherwise.
	Subscriber string
}

// String describes the notice for a log line.
func (n Notice) String() string {
	s := n.Kind.String()
	if n.Subscriber != "" {
		s = n.Subscriber + ": " + s
	}
	if n.Gap {
		s += " (gap)"
	}
	if n.Attempt > 0 {
		s += fmt.Sprintf(" after %d failed attempts", n.Attempt)
	}
	if n.Dropped > 0 {
		s += fmt.Sprintf(", %d events dropped so far", n.Dropped)
	}
	if n.Err != nil {
		s += ": " + n.Err.Error()
	}
	return s
}
