// Package gravitel drives a Gravitel (Гравител) cloud PBX through its CRM
// API, the legacy "REST API Облачной АТС": commands sent to the tenant's
// endpoint, https://<tenant>.gravitel.ru/sys/crm_api.wcgp, and webhooks the
// PBX posts to one CRM URL.
//
// The protocol comes from the iTooLabs / CommuniGate platform and is shared
// by MegaFon ВАТС, Kcell, Moldcell and others. The endpoint is taken as
// given and the parsing is tolerant, so the client works with them too, but
// the defaults follow Gravitel. The newer JSON API at crm.aicall.ru is not
// covered.
//
// [Client] has one typed method per command ([Client.Accounts],
// [Client.Groups], [Client.MakeCall], [Client.History],
// [Client.SubscribeOnCalls], [Client.SubscriptionStatus], [Client.SetDND],
// [Client.GetDND]) and implements voip.Provider. [NewWebhookHandler] serves
// the webhooks as voip values; [ParseWebhook] reads one by hand.
//
// Package graviteltest is an in-process PBX for tests and examples; a client
// points at it with one line:
//
//	client, err := gravitel.New(pbx.BaseURL(), token)
//
// # Authentication
//
// The CRM sends the PBX key ("Ключ для авторизации", from the cabinet page
// "Интеграция с CRM") as the body field token of every command. The PBX
// sends the CRM key ("Ключ для авторизации в CRM", chosen by the CRM admin)
// as crm_token in every webhook body. Neither key appears in any error or
// log line of this package.
//
// # Encoding
//
// Commands are POSTed form-urlencoded, as the protocol's spec documents;
// [WithEncoding](EncodingJSON) sends a JSON object instead, as the ELMA365
// module does. Command names are sent in the spellings live PBXs accepted:
// subscribeoncalls and subscriptionStatus (the spec's "subscribtionstatus"
// was rejected by one).
//
// # Errors
//
// Every failure of a command is a *voip.APIError that matches one class
// sentinel through errors.Is. {"error":"Invalid token"} matches
// voip.ErrUnauthorized and {"error":"Invalid parameters…"} voip.ErrBadRequest,
// whatever the HTTP status: the PBX sends a JSON error with 200 too. Other
// statuses follow voip.StatusKind (5xx text is voip.ErrServer, with the text
// as Message); an answer that cannot be read (HTML, a broken CSV line)
// matches voip.ErrBadResponse, with a *HistoryError as cause for the history.
// Success is any 2xx without an error member: JSON, CSV, a plain OK, {} or
// an empty body. Redirects are not followed (Go would resend the POST as a
// bodiless GET, or its token to another host): a 3xx matches
// voip.ErrNotFound and names the Location.
//
// A PBX that cannot be reached (connection refused or reset, a name that
// does not resolve, TLS failing, an attempt timing out) is a *voip.APIError
// matching voip.ErrUnreachable, once the retries of a read are spent; for
// makeCall it may match voip.ErrAmbiguous too.
//
// An argument refused before anything is sent (an empty user, a phone that
// is not a number, a history query without a period or start) is a
// *voip.ArgError naming the method and the argument; it matches
// voip.ErrBadRequest, and voip.ErrInvalidPhone for a number. A cancelled
// ctx is returned as ctx.Err(), or inside an ambiguous *voip.APIError when
// makeCall was already out.
//
// # Retries
//
// Every command but makeCall only reads or sets a state, and is retried on
// transport errors, 429, 502, 503 and 504 (see [WithRetries]). makeCall
// places a real call: it is sent at most once unless the connection was
// never made or the PBX answered 429, and an uncertain failure matches voip.ErrAmbiguous: a
// transport error or 5xx after sending, ctx ending while the request is out,
// or a 2xx whose body cannot be read. ctx bounds each call, retries and
// waits included.
//
// # Webhooks
//
// The PBX posts cmd=history (a finished call, with the recording link),
// cmd=event (INCOMING, ACCEPTED, COMPLETED, CANCELLED, OUTGOING; MegaFon adds
// TRANSFERRED), cmd=contact (who is calling: the CRM answers
// {"contact_name": …, "responsible": …}, or {} for an unknown caller) and,
// on MegaFon and Kcell, cmd=rating. Bodies are read form-urlencoded or JSON,
// enums in any case, ext as a number or a string. The only authentication is
// crm_token, compared in constant time: there is no signature, so serve the
// CRM URL over HTTPS and consider an IP allow-list. A wrong token is
// answered 401 {"error":"Invalid token"} and an unreadable body 400
// {"error":"Invalid parameters"}, as the spec asks.
//
//	handler, err := gravitel.NewWebhookHandler(gravitel.WebhookConfig{
//		CRMToken: crmKey,
//		Update:   func(ctx context.Context, u voip.Update) error { … },
//		Contact:  func(ctx context.Context, w *gravitel.Webhook) (*gravitel.Contact, error) { … },
//	})
//
// Events map to voip.Event (INCOMING and OUTGOING start, ACCEPTED answers,
// COMPLETED and CANCELLED end) and history to voip.Call. Only OUTGOING says
// the direction; the handler remembers it per callid in its
// [WebhookConfig].Memory for the later events, while [Webhook.Event] on its
// own reports them as inbound. Handlers behind one load balancer share one
// Memory, so that each knows what the others saw.
//
// The handler drops the PBX's duplicates (a delivery repeated byte for
// byte within the DedupeWindow; never a contact, which needs its answer).
// One client call still fans out into one event per employee with the same
// callid, and the PBX's redelivery policy is unknown: handle updates
// idempotently, keyed on callid, cmd, type and user.
//
// # Unconfirmed facts
//
// The package follows what public integrations of the protocol show. It
// accepts more than it has seen, and sends only what live PBXs accepted.
// These are not confirmed by Gravitel:
//   - JSON command bodies (one integration); the form is the default.
//   - makeCall's clid (one client library), and its answer: {"uuid"} on
//     Gravitel, {"CallID"} on MegaFon, a bare id per the spec, or an empty
//     body (Gravitel in 2017). All are read; a missing id is "".
//   - makeCall's phone and clid are sent as E.164 digits without "+" (the
//     spec says E.164; "+" was rejected on Moldcell only); a national
//     8… number is rewritten as 7…, which no source shows the PBX needs.
//     user goes as given: a login@tenant user was seen once.
//   - A redirect means a wrong tenant name (MegaFon, one client library).
//   - subscriptionStatus, set_dnd and get_dnd were never seen in Gravitel
//     code; they follow the spec.
//   - The history CSV has no quoting rules; it is read as lenient CSV with
//     LF or CRLF, extra columns kept. Gravitel sends no header line; one
//     that some PBXs of the protocol send is skipped, and the columns are
//     then read by name.
//   - Times: start is read in RFC 3339 (Gravitel's history), the spec's
//     20060102T150405Z, or 2006-01-02 15:04:05 with an optional zone (UTC
//     without one), in webhooks and history alike.
//   - The meaning of z-flag; it is kept as sent.
//   - JSON webhook bodies (seen on MegaFon only), cmd=rating and TRANSFERRED
//     on Gravitel.
//   - {} as the answer for an unknown caller (one MegaFon integration), and
//     the PBX's timeout and redelivery policy for any webhook (none known).
//   - COMPLETED as Answered (the ELMA365 module leaves it Unknown), and the
//     direction of a call's later events taken from its OUTGOING.
//   - The mapping of statuses to voip.Disposition, which follows the
//     ELMA365 article: Missed is Cancel, NotAvailable NoAnswer, NotAllowed
//     Unknown. RawStatus always keeps the PBX's word.
package gravitel
