// Package voip is pbxkit's vendor-neutral vocabulary: what a CRM needs to
// know about calls, whatever cloud PBX carries them.
//
// Every vendor package of pbxkit (newtel, webitel, phonet, gravitel,
// retailcrm) speaks its own dialect on the wire and translates it into these
// types, so that a CRM written against voip works with each of them.
//
// # Events and calls
//
// A live [Event] (EventStart, EventAnswer, EventEnd) drives pop-ups while a
// call is in progress. A [Call] is the finished record, often with a
// recording, that arrives at or after the end. Parties are relative to the
// company whatever the direction: Client is the outside party (E.164 when it
// is a phone number, see [NormalizePhone]), Ext the operator, Line the
// company number. The vendor's own outcome word is always kept in RawStatus
// next to the coarse [Disposition], and the vendor's original message in Raw.
//
// # Providers
//
// [Provider] is the contract of the ELMA365 VoIP module: test the
// connection, list the members, start a call, find a recording. A vendor
// that lacks an operation returns an error matching [ErrNotSupported]. The
// package voiptest checks any Provider against the contract.
//
// # Errors
//
// API failures are [*APIError] values (status, vendor code and message,
// method, redacted URL, body excerpt) and match one class sentinel through
// errors.Is: [ErrUnauthorized], [ErrForbidden], [ErrNotFound],
// [ErrRateLimited], [ErrBadRequest], [ErrServer], [ErrBadResponse], and
// [ErrUnreachable] when no answer came at all (refused, reset, DNS, TLS,
// timeout). A request that starts a call and fails in a way that leaves its
// fate unknown matches [ErrAmbiguous]: it was not retried, and the call may
// be ringing. An argument refused before anything is sent (an empty
// extension, a phone that is not a number) is an [*ArgError] matching
// [ErrBadRequest], and [ErrInvalidPhone] for a number. A context that ends
// first gives ctx.Err() itself. No pbxkit error ever carries a key, token or
// password.
//
// # Webhooks
//
// Every vendor's webhook handler is built by its NewWebhookHandler from a
// WebhookConfig with the same fields for the same things: Update receives
// [Update] values, Logger, MaxBody, DedupeWindow and Memory. [Webhook] is
// the http.Handler under each of them: it checks the method, caps the body
// at 1 MiB, and turns verification and parse failures into 401 and 400
// replies. Vendors that must answer with data write their own reply.
//
// Handlers remember deliveries (to drop a vendor's duplicates, see
// [DeliverOnce]) and facts about calls in a [Memory]. Handlers behind one
// load balancer share one, or each replica sees only the deliveries it
// received; [LocalMemory] serves the handlers of one process.
//
// # Live streams
//
// A [Source] delivers events from a vendor socket, or from a hub of many,
// and reconnects by itself. Each reconnect and each overflow of its buffer
// is announced by a [Notice] with Gap set, so that the caller can reconcile
// from active calls or history instead of silently missing a call; a socket
// refused for good says so with [NoticeStopped].
package voip
