// Package phonet drives a Phonet (phonet.ua, phonet.com.ua) cloud PBX from a
// CRM: the tenant's REST API with its session cookie, the recordings, the
// per-employee live socket ("live connector v3 easy"), and the webhooks of
// the cabinet page «Інша CRM система» / «Другие CRM системы».
//
// Each tenant has its own host, <company>.phonet.com.ua, which is also the
// "Phonet домен" credential; REST, recordings and socket all live there.
// [New] takes that domain and the "Phonet ApiKey". [Client] has one method
// per endpoint ([Client.MakeCall], [Client.HangupCall],
// [Client.ActiveCalls], [Client.CompanyCalls], [Client.UsersCalls],
// [Client.MissedCalls], [Client.Users], [Client.DownloadRecording]) and
// implements voip.Provider. [Client.Subscribe] opens one employee's socket
// and [Client.Watch] many as one [Hub]. [NewWebhookHandler] serves the
// webhooks. One decoder, [ParseEvent], reads socket frames, webhook bodies
// and active calls alike.
//
// Package phonettest is an in-process tenant for tests and examples; a
// client is pointed at it with one option:
//
//	client, err := phonet.New(pbx.Domain, apiKey, phonet.WithBaseURL(pbx.BaseURL()))
//
// # Authentication
//
// The client opens a session lazily with POST /rest/security/authorize,
// {"domain": …, "apiKey": …}, and sends the JSESSIONID cookie it got with
// every call. When Phonet refuses the session (401, 403, or a redirect
// toward a login page; redirects are never followed) the client authorizes
// again, once for all the requests that saw the refusal, and repeats the
// request once. A refused request was not processed, so this holds for
// MakeCall too. The socket carries the apiKey in its URL's query, as the
// protocol requires. Neither the apiKey nor the session id appears in any
// error or log line of this package, even where Phonet quotes them in an
// error body.
//
// # Errors
//
// Every failed call is a *voip.APIError matching one class sentinel through
// errors.Is: voip.ErrUnauthorized, voip.ErrForbidden, voip.ErrBadRequest,
// voip.ErrNotFound, voip.ErrRateLimited, voip.ErrServer, voip.ErrBadResponse
// (an answer that cannot be read, an HTML page where JSON was due), or
// voip.ErrUnreachable when no answer came from Phonet at all (the
// connection was refused or reset, the host did not resolve, TLS failed,
// an attempt timed out), once the retries of a read are spent. A failed
// MakeCall that Phonet may have acted on matches voip.ErrAmbiguous too.
// Phonet has no known error envelope: the status decides, and a short text
// body becomes the Message.
//
// An argument refused before anything is sent is a *voip.ArgError naming
// the method and the argument: an empty extension or a phone that is not a
// number (MakeCall, GenerateCall; the number's error matches
// voip.ErrInvalidPhone too), an empty uuid (HangupCall,
// DownloadRecording), an unknown recording channel, a voip.Call with
// neither id nor link (CallLink), a [HistoryQuery] without From or out of
// range (the history iterators yield it). It matches voip.ErrBadRequest.
// Messages from Phonet that cannot be read (webhooks, socket frames) are a
// *DecodeError, which matches voip.ErrMalformed.
//
// # Retries
//
// Reads (and HangupCall, which is harmless to repeat) are retried on
// transport errors, 429, 502, 503 and 504 with exponential backoff and
// jitter ([WithRetries]). MakeCall places a real call: it is sent at most
// once unless the connection was never made, and an uncertain failure
// matches voip.ErrAmbiguous; so does ctx ending while makeCall was on its
// way (the error matches ctx's error too). A click2call over the socket likewise reports
// a missing reply as voip.ErrAmbiguous. ctx bounds each call, retries and
// waits included.
//
// # Live stream
//
// [Client.Subscribe] opens wss://{domain}/live/connector/v3/easy for one
// subscriber (an extension or an email) on pbxkit's reconnecting stream: it
// pings the server (Phonet documents no keep-alive), declares a connection
// dead when a pong is late, reconnects with exponential backoff and full
// jitter, and sends a notice with Gap true after each reconnect, since
// events of the gap are lost: reconcile with [Client.ActiveCalls]. Events
// come out typed ([Stream.Events]: calls, pauses, errors, unknown types
// with their raw message) or as a voip.Source ([Stream.Source]: calls
// only). Subscribe returns the error of its first attempt: a refused apiKey
// or subscriber matches voip.ErrForbidden, no answer voip.ErrUnreachable,
// and a context that ended first gives ctx.Err(), as REST calls do.
//
// # Reconnects
//
// Every socket of a Client, of Subscribe and of Watch alike, dials through
// one pacer: n sockets may dial max(100, n/12) times a second, with bursts
// of a tenth of that ([WithDialRate] sets a fixed rate instead). A socket
// that lost a healthy connection waits a random time over the pacer's
// spread (n divided by that rate, at least the WithBackoff minimum) before
// its turn, and a failed attempt backs off (WithBackoff, default 1 s
// doubling to 30 s, full jitter; at most half the spread when that is 5 s
// or more, as the pacer then spaces the attempts itself). A connection is healthy once it stayed up
// 10 s or delivered a message; that resets the backoff, so every server
// restart is met the same way. With the defaults, after a restart under
// 10,000 sockets all are back in about 12 s, no second sees more than a
// tenth of them, and a server that stays down sees at most one attempt per
// socket every 12 s. Waiting for a turn never counts against the 30 s
// connection timeout.
//
// [Stream.Call] sends a click2call, {"action":"call","to":…}, with the
// number as international digits without "+". The protocol has no request
// id, so replies are matched by order: one click2call is in flight per
// socket, and its reply is the next {"event":"success"} or
// {"event":"error"}. A call that gets no reply within [WithCallTimeout] is
// voip.ErrAmbiguous, and its reply is then owed: the next click2call waits
// until it comes (it is passed on as an event) or one more timeout has
// passed (it is taken as lost). A late reply is never taken for the next
// call's, and a lost one never shifts later ones; only a reply later than
// twice the timeout could be, which is the price of a protocol without
// ids.
//
// lgDirection 32 and 64 are an operator going away and coming back, not
// calls: they have no voip form; see [Event.Presence].
//
// # Hub
//
// A socket watches one employee; a CRM that follows every manager opens one
// each. [Client.Watch] does that in one call and merges the events into one
// channel, each event carrying its Subscriber; [Hub.Source] is the same as
// a voip.Source of every manager's calls. A socket whose first attempt
// fails is retried like any reconnect, never dropped: only Phonet's refusal (401, 403) stops a
// socket for good, reported as a voip.NoticeStopped and in [Hub.Failed].
// Every notice names its Subscriber. Managers join and leave a running Hub
// with [Hub.Add] and [Hub.Remove]. A Hub whose every socket was refused (a
// revoked apiKey) stops, and [Hub.Err] says why.
//
// # Webhooks
//
// [NewWebhookHandler] serves the URLs of the cabinet page; one URL can take
// them all. Phonet posts call events (the socket's shape plus
// accountDomain); the client-card lookup, without event but with
// otherLegNum (null for a hidden number), which the CRM answers with a
// [Card]; and the full information of a finished call, read as a history
// [Record] when the body has endAt, disposition, billSecs or duration (see
// [WebhookConfig].Record). Anything else is answered 400 and calls
// nothing. Bodies are read as JSON or as forms with PHP-style nested keys
// (leg[id]=36); a GET's query is read as a form.
//
// Phonet may deliver an event twice: the handler drops a repeated (uuid,
// event), and a repeated finished call, within WebhookConfig.DedupeWindow
// (default voip.DefaultDedupeWindow), remembered in WebhookConfig.Memory.
// Handlers of one process can share one voip.LocalMemory; replicas behind a
// load balancer need a Memory on a shared store, or each drops only the
// duplicates it saw itself. Phonet signs nothing; the handler offers a
// constant-time URL token check, whose token never reaches a delivery's
// Raw, and an allowlist of source addresses ([PhonetAddresses]) that
// trusts X-Forwarded-For only from the proxies you name. [ParseWebhook]
// reads one delivery from a request, for a handler of your own.
//
// # Recordings
//
// A recording is at /rest/public/calls/{uuid}/audio on the tenant host
// ({uuid}-rx and {uuid}-tx for one side). The history's audioRecUrl writes
// the uuid dashed (8-4-4-4-12), while events, the socket, makeCall and
// voip values carry 32 plain hex digits. [Client.RecordingURL] and
// [Client.CallLink] write such a uuid dashed; [Client.DownloadRecording]
// takes the uuid in any form, and asks for it as given when the dashed
// link is not found. Recordings are fetched without the session first,
// then with it.
//
// # Unconfirmed facts
//
// The package is lenient in what it accepts and precise in what it sends.
// Not confirmed by Phonet (see the protocol notes):
//   - Timestamps are read as seconds below 1e12 and milliseconds above, as
//     numbers or strings: samples show both. History queries send ms.
//   - Ids (otherLegs[].id, leg.id) are read as numbers or strings; uuids are
//     opaque (plain hex, dashed, Asterisk-style). voip values carry them
//     through [NormalizeUUID], so that dashed history ids match event ids.
//   - History answers are bare arrays; wrappers (items, data, …) that one
//     client guessed are accepted too. limit is capped at 50 (the most two
//     clients send, not a documented maximum). Paging stops on a short
//     page, and with an error when a page repeats the one before (a server
//     that ignores offset).
//   - The directions filter is sent indexed (directions[0]=2) by default;
//     [DirectionsBitmask] sends the sum instead.
//   - What an expired session gets (401, 403 or a redirect) and its
//     lifetime; all three are handled. That such a refusal means the
//     request was not processed, which lets MakeCall be repeated once after
//     it, is inferred from those clients re-authorizing and retrying.
//   - The hangup endpoint (GET, empty answer) is single-sourced.
//   - Whether recordings need the session: they are fetched without it
//     first, then with it. The split channels (-rx, -tx) are single-sourced.
//     That every recording link names the dashed uuid rests on the one
//     history sample; the plain form is tried when it is not found.
//   - How the socket refuses a wrong apiKey or subscriber: a refused
//     handshake (401, 403) stops the stream; an error event is passed on.
//   - Webhook body encoding (JSON or form), the required reply (200 [] is
//     sent), and the published source addresses, which may be stale. That
//     a lookup always carries otherLegNum (the field the vendor's
//     documentation names), so that a body with neither event, otherLegNum
//     nor a finished call's fields can be refused.
//   - The payload of «Передача повної інформації про дзвінок»: no sample is
//     known; it is taken to be a company.api record.
//   - The socket (its URL, click2call and its replies) is described by
//     Phonet's WSS article and three public clients; that the next success
//     or error answers the click2call in flight is inferred.
//   - The mapping of history dispositions to voip.Disposition (0 answered,
//     1 no answer, 2 and 3 failed, 4 busy); RawStatus keeps the code. A
//     hangup event carries no outcome: it is Answered when bridged, else
//     Unknown.
package phonet
