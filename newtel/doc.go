// Package newtel drives New-Tel (Нью-Тел, new-tel.net) through its signed
// JSON API at https://api.new-tel.net/: the account state, Call Password
// flash calls and their status, voice codes, Call Password ID (the user calls
// us), and the PBX methods of the WebPhone article (click-to-call, the
// WebPhone widget's configuration). It also serves the callbackLink callbacks
// and the PBX's event webhooks («Webhook-оповещения») as voip values.
//
// [Client] has a typed method per known API method and a generic
// [Client.Call] for the others (method names are exported constants, since
// New-Tel renames them), and implements voip.Provider. [WidgetSnippet]
// renders the widget configuration into the article's HTML.
// [NewWebhookHandler] and [NewCallbackHandler] serve what New-Tel posts.
//
// Package newteltest is an in-process New-Tel for tests and examples; point
// a client at it with
//
//	client, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(api.BaseURL()))
//
// # Authentication and signing
//
// Every request is a POST of a JSON body to base URL + method, with
//
//	Authorization: Bearer <accessKey><unix seconds><sha256hex(method \n time \n accessKey \n body \n signKey)>
//
// computed by [Sign]. The keys come in a pair from one section of the cabinet
// (Call Password, or API): «Ключ API для авторизации запросов» is the access
// key, «Ключ API для подписи запросов» the sign key. The token is made inside
// the HTTP pipeline on every attempt, from the exact bytes sent and a clock
// read once ([WithClock] corrects a known skew); the method name in the hash
// and the URL path are the same string. The Authorization header starts with
// the access key in clear, so neither key nor token ever appears in an error
// or log line of this package.
//
// Responses may carry a Signature header, computed like a token over the
// response body (see [VerifySignature]), or, as the article's words also
// allow, the hash part alone, checked against the request's time and the
// Date header's. The client checks it whenever it is present; as the
// header is unconfirmed, a mismatch is only logged at Warn unless
// [WithRequireSignature] is set, which makes a missing or wrong one an
// error matching [ErrBadSignature]. [WithoutSignatureCheck] skips the check.
//
// # Errors
//
// An argument refused before anything is sent (an empty extension or call
// id, a phone that is not a number) is a *voip.ArgError naming the method
// and the argument; it matches voip.ErrBadRequest, and voip.ErrInvalidPhone
// for a phone.
//
// A failed call is a *voip.APIError matching one class sentinel. New-Tel
// not answering at all (connection refused or reset, DNS, TLS, timeouts)
// is voip.ErrUnreachable, after the retries of a read; for a method that
// starts a call and may have reached New-Tel it is voip.ErrAmbiguous too.
// The answer's envelope is decoded whatever the HTTP status: a top level
// {"status":"error","message":…} or a method level {"status":"success",
// "data":{"result":"error","message":…}} is an error carrying that message.
// The class follows the HTTP status when it is not 2xx (401 is
// voip.ErrUnauthorized, 429 voip.ErrRateLimited, 5xx voip.ErrServer); with
// 2xx it is guessed from the message, since New-Tel publishes no catalogue:
// words about keys, tokens, signatures or authorization mean
// voip.ErrUnauthorized, anything else voip.ErrBadRequest. An answer that is
// not the envelope matches voip.ErrBadResponse, as does a bad Signature
// (together with ErrBadSignature). A cancelled or expired ctx gives an
// error matching ctx.Err(), inside an ambiguous *voip.APIError when a
// call-starting request was already out.
//
// # Retries
//
// The reads (company/get-state, get-password-call-status, get-widget-config)
// are retried on transport errors, 429, 502, 503 and 504, each attempt signed
// anew with a fresh time ([WithRetries]). Every method that starts a call is
// sent at most once unless the connection was never made or New-Tel answered
// 429: an uncertain failure matches voip.ErrAmbiguous, and the phone may be
// ringing. That includes a 2xx answer that cannot be used (cut short, not
// the envelope, undecodable, or with a Signature refused under
// WithRequireSignature): New-Tel processed the request. [Client.Call]
// treats any method it does not know as one that starts a call. ctx bounds
// each call, retries and waits included.
//
// # Callbacks
//
// Call Password and Call Password ID POST {"callId": …} to the request's
// callbackLink; [NewCallbackHandler] serves it and [ParseCallback] reads
// one. No known example signs callbacks: put an unguessable token in the
// callbackLink's query and set it as [CallbackConfig.Token], which the
// handler checks, and match the call id against the calls you started.
//
//	cb, err := newtel.NewCallbackHandler(newtel.CallbackConfig{
//		Token:    callbackToken, // sent as …/newtel/callback?token=<callbackToken>
//		Callback: func(ctx context.Context, c *newtel.Callback) error { return verified(ctx, c.CallID) },
//	})
//
// # Webhooks
//
// The PBX posts {"event", "signature", "data"} to the URL set in the
// cabinet's «Оповещения», for the extensions chosen there.
// [NewWebhookHandler] turns inboundCallStart and outboundCallStart into
// voip.EventStart, inboundCallAnswer into voip.EventAnswer, and
// inboundCallEnd and outboundCallEnd into voip.EventEnd plus a voip.Call
// with the recording link, all for [WebhookConfig.Update]; ringingStart,
// ringingEnd and unknown events go to [WebhookConfig.Other]. The
// correlation key is data.vpbxId.
//
//	hooks, err := newtel.NewWebhookHandler(newtel.WebhookConfig{
//		Key:    webhookKey, // the cabinet's «Ключ для подписи данных»
//		Update: func(ctx context.Context, u voip.Update) error { return crm.Save(ctx, u) },
//	})
//
// New-Tel's redelivery policy is unknown; the handlers remember each
// delivery for [WebhookConfig.DedupeWindow] in [WebhookConfig.Memory] and
// answer a duplicate 200 without delivering it again. Replicas behind a
// load balancer must share one Memory.
//
// Signature verification is EXPERIMENTAL and pluggable ([WebhookVerifier]),
// because the algorithm is not published. The default,
// [VerifyWebhookSignature], accepts a SHA-1 or SHA-256 hex digest of event,
// the data text and the key («Ключ для подписи данных») over the raw data
// text or its PHP- or JavaScript-style re-encodings, and fails closed.
// NewWebhookHandler refuses to start without a key unless Verify is set;
// [SkipWebhookVerification] turns verification off for an account it does
// not match.
//
// # Unconfirmed facts
//
// The package follows public client code written against the live API; it
// accepts more than it has seen and sends what working clients send. Not
// confirmed by New-Tel:
//   - The Signature response header: only the WebPhone article describes
//     it, and no public client reads it. Its form is taken to be a token
//     (access key, time, digest) or a bare 64-hex digest whose time is the
//     request's or the Date header's (that second or the one before).
//   - call/start_simple_call and webrtc/get-widget-config: only the article
//     shows them, and not their answers. StartSimpleCall reads a call id
//     from data.callDetails.callId or data.callId and returns "" when there
//     is none; which of srcNumber and dstNumber rings first is assumed
//     (srcNumber, the operator).
//   - voip.Provider: GenerateCall is start_simple_call (unconfirmed, see
//     above). Members is voip.ErrNotSupported: no method lists users or
//     extensions. CallLink returns the webhook's callRecordLink and is
//     otherwise voip.ErrNotSupported: no method finds recordings.
//   - The HTTP statuses and messages of errors; the allowed clock skew; the
//     rate limits.
//   - Whether amounts in company/get-state are numbers or strings (both are
//     read), and state.status.
//   - The webhook payload (one public source) and its signature; the
//     meaning of time on *End events (taken as the end, so StartedAt is time
//     minus duration and the answer is ringduration after the start); and
//     fisrtAnswer, spelled so in that source (firstAnswer is read too).
//   - Callback fields other than callId, and the types of the members of
//     callDetails: all but callId are read as text whatever their type
//     (an object as its JSON), and an empty data or callDetails sent as []
//     (PHP's empty array) is read as empty.
//   - Keys: every key seen is 48 lowercase hex characters, so the token is
//     122 characters (the article's "112" is wrong). Keys are trimmed of
//     spaces and quotes, and other formats are logged as a warning, not
//     refused.
package newtel
