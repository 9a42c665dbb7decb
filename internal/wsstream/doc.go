// Package wsstream is the vendor-neutral engine behind pbxkit's live event
// streams (Phonet, Webitel): a reconnecting WebSocket client on
// github.com/coder/websocket that turns frames into typed events. A vendor
// package supplies a [Config] — URL, auth headers, an OnConnect hook that
// authenticates and subscribes, and a Decode function — and gets a [Stream]
// with Events, Notices, Send, Err and Close. A Stream[voip.Event] is a
// voip.Source.
//
// # Connection
//
// [Start] dials and runs OnConnect synchronously, so a wrong key or URL is
// an error from Start, not a notice later. Afterwards one goroutine reads
// the connection and a second one (the keeper) pings it; nothing else reads.
// The read context never expires, because in coder/websocket an expired
// read context closes the connection: idleness is detected by pings, never
// by read timeouts. Every message goes through SetReadLimit (default 1 MiB).
//
// # Keep-alive
//
// Every PingInterval (default 25 s) the keeper sends a ping and waits
// PongTimeout (default 10 s) for the pong. A missing pong declares the
// connection dead: it is closed at once and the stream reconnects. This is
// what detects half-open connections, where the vendor vanished without
// closing TCP and the reader would otherwise wait forever.
//
// # Reconnect and backoff
//
// When a connection ends for any reason other than Close, the stream emits
// voip.NoticeDisconnected, waits, dials again, runs OnConnect again (the
// vendor re-authenticates and re-subscribes) and emits voip.NoticeConnected
// with Gap true: events may have been missed, so the consumer should
// reconcile from the vendor's active calls or history.
//
// Every wait is uniformly random ("full jitter") and ends early when the
// stream is closed. The first wait after a healthy connection dropped is
// drawn from [0, max(BackoffMin, Pacer.Spread())]: the streams of a
// restarted server spread their returns over about the time their [Pacer]
// needs to let them all through. The wait after failed attempt n is drawn
// from [0, min(BackoffMax, BackoffMin·2ⁿ)] (defaults 1 s and 30 s), and
// from no more than half the spread when that is 5 s or more: the Pacer
// then already spaces every stream's attempts. A
// connection is healthy, and resets the exponent, once it stayed up
// HealthyAfter (default 10 s) or delivered a data message: a server that
// accepts and drops at once, saying nothing, is still backed off, while a
// second and a third server restart are met exactly like the first.
//
// # Pacing
//
// Every attempt, first ones included, waits for a turn at the stream's
// Pacer before its ConnectTimeout starts, so a queue there never fails an
// attempt. The streams of one server share one Pacer: its token bucket
// lets max(100, n/12 s) dials a second through for n streams, with bursts
// of a tenth of that. After a restart of a server with 10,000 streams, all
// are back in about 12 s, no second sees more than a tenth of them, and
// while the server is down it sees at most one attempt per stream every
// 12 s. A turn woken more than 100 ms late (the process was held off the
// CPU) is traded once for a new one, so that a stall of the client does not
// reach the server as a burst. [NewFixedPacer] sets a rate that does not
// scale.
//
// # Permanent errors
//
// A handshake answered with HTTP 401 or 403 (read from the handshake
// response's status, never from error text), or an OnConnect error that
// matches [ErrPermanent], voip.ErrUnauthorized or voip.ErrForbidden, stops
// the stream instead of looping: on the first attempt Start returns it; on
// a reconnect the stream emits voip.NoticeStopped, closes Events and
// Notices, and Err returns the error. With Config.KeepTrying a first
// attempt that fails otherwise is retried like a reconnect. Handshake failures are
// *voip.APIError values with the redacted URL and the HTTP status. Every
// other failure (refused connection, 5xx, a vendor closing the socket,
// OnConnect failing) is retried.
//
// # Slow consumers
//
// Events is a buffered channel (Buffer, default 256). With [DropOldest],
// the default, a full buffer drops the oldest undelivered event, counts it
// in Dropped, and emits one voip.NoticeDropped (Gap true) per overflow
// episode; an episode ends once the consumer has drained half the buffer.
// The reader never waits, so the connection stays healthy. With [Block] the
// reader waits for the consumer and nothing is dropped, but while it waits
// no pong is read: a consumer stalled for longer than PongTimeout makes the
// connection look dead, and the stream reconnects with a gap. Notices hold
// 16 and drop the oldest notice when unread; they never hold up events.
//
// # Malformed messages
//
// A Decode error or panic is logged, counted in Malformed, and the message
// is skipped; the stream goes on. Nothing the network sends can panic the
// program.
//
// # Secrets
//
// The URL may carry a key in its query and Header carries credentials.
// Every error and log line goes through the [redact.Redactor] (plus the
// values of the URL's and Header's secret parameters, registered
// automatically), and the logger itself is wrapped in a redacting handler.
// Logging uses log/slog: Info on connect, Warn on disconnects, reconnect
// waits and malformed messages, Error on a permanent stop, Debug for
// per-connection frame counts and malformed message excerpts. A nil Logger
// is silent.
//
// # Shutdown
//
// Close, or cancelling Start's context, closes the connection with
// StatusNormalClosure (falling back to an abrupt close), waits for every
// goroutine, and closes Events and Notices. Err is then nil.
package wsstream
