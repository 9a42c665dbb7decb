// Package natsjs runs pbxkit across many replicas on NATS JetStream: the
// webhook handlers' memory shared in a key-value bucket, call events and
// records fanned out into a stream with publish deduplication, a durable
// consumer that hands them to the user's function, and every manager's
// socket held by exactly one replica through leases. docs/scale.md has
// the figures; examples/cluster runs all of it.
//
// Only programs that import this package link NATS: the vendor packages
// never do.
//
// # Memory
//
// [NewMemory] returns a voip.Memory on a JetStream KV bucket; give the same
// one (or one per replica, on the same bucket) to every handler behind the
// load balancer, in WebhookConfig.Memory. A vendor's duplicate is then
// dropped wherever it lands, and what one webhook of a call taught the
// handler (Gravitel says a call goes out only in its first event) is
// known to the replica that receives the next.
//
// The handlers claim a delivery while Update runs and remember it only once
// Update has succeeded (voip.DeliverOnce): a replica that dies in between
// leaves a claim that lapses after voip.ClaimTTL, and the vendor's
// redelivery is then handled, not taken for a duplicate; the same delivery
// landing on two replicas at once is run by one, and the other answers 503
// so that the vendor delivers it again later.
//
// # Fan-out
//
// [NewPublisher] makes the stream; [Publisher.Update] plugs into any
// WebhookConfig.Update, and [Publisher.Pump] publishes a voip.Source (a
// phonet Hub's, say). Subjects are <prefix>.<tenant>.<vendor>.<kind>,
// kind being start, answer, end or call (a finished-call record). Each
// message has a Nats-Msg-Id made of the vendor's identity of the event, so
// that the same event published twice (two replicas holding one socket
// during a handover, a webhook delivered again) is stored once within the
// stream's Duplicates window. [Consume] hands the stored updates to a
// function and acks each after it succeeds; a message that keeps failing
// is terminated after MaxDeliver deliveries and logged, never retried
// forever.
//
// # Socket ownership
//
// [NewOwnership] takes the managers (subscribers) and a [Target], such as a
// phonet.Hub, and has each manager's socket held by one replica: a lease
// per manager in a KV bucket, made with create-if-absent and a TTL
// (default 10 s), renewed every TTL/3 at its revision, and written before
// its socket opens and deleted only after it closed. Each replica
// announces itself and aims at an even share; a new one takes its share,
// the others giving theirs back first, so managers per replica end within
// ±10 % of even; a dead one's leases expire and are taken within 2×TTL.
// While NATS is away the sockets stay open; when it is back each holder
// renews its leases, or closes the socket of one taken meanwhile. With
// Fence, a replica cut off from NATS alone closes its sockets before its
// leases can expire, so that no manager is ever held twice.
//
// # When NATS fails
//
// Every error is an [*Error] of a class: [ErrUnavailable] (NATS down, no
// responders, a timeout; it matches voip.ErrUnreachable too),
// [ErrRefused], [ErrInvalid], [ErrMalformed]. A webhook handler whose
// Memory or Update fails answers 500, so that the vendor delivers again:
// nothing is lost silently. While the connection is down, Memory and
// Publisher fail at once rather than queue requests that might be applied
// after the caller was told they failed.
//
// Reconnecting is nats.go's job, and is automatic with the right options.
// Connect with at least:
//
//	nc, err := nats.Connect(url,
//		nats.MaxReconnects(-1),                  // never give up (the default gives up after 60 attempts)
//		nats.ReconnectWait(250*time.Millisecond), // between attempts; default 2 s
//		nats.RetryOnFailedConnect(true),          // start even if NATS is not up yet
//	)
//
// and close it (nc.Close or nc.Drain) when the program ends. A NATS server
// that crashes or restarts closes the connection, which nats.go sees at
// once; a network that silently drops packets is only noticed by pings,
// after PingInterval × MaxPingsOutstanding (2 min × 2 by default): set
// nats.PingInterval(5*time.Second) to notice it within about 10 s.
// Requests sent during that window time out (ErrUnavailable) yet may be
// applied once the connection is back: a claim whose Add timed out may be
// taken all the same, and holds the vendor's redeliveries off (503) until
// it lapses after voip.ClaimTTL; nothing is lost. Memory,
// Publisher and Consume go on by themselves once the connection is back;
// with file storage (the default) a restart of NATS loses nothing that
// was acknowledged.
package natsjs
