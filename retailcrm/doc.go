// Package retailcrm connects a PBX to retailCRM (Simla.com) through its
// telephony API v5. retailCRM is the other side of the wire: the PBX module
// registers itself, reports live call events and uploads finished calls;
// retailCRM calls the module back to start a call, to report a user's
// status and to fetch a recording.
//
// [Client] covers the module side of the API:
//
//   - [Client.EditIntegrationModule] and [Client.IntegrationModule]:
//     integration-modules/{code}/edit and integration-modules/{code}, the
//     module with its telephony block (callback URLs, event flags, the
//     user ↔ extension and store ↔ number mappings);
//   - [Client.SendCallEvent]: telephony/call/event, the call card of a
//     ringing call;
//   - [Client.UploadCalls]: telephony/calls/upload, the call history, in
//     chunks of [MaxCallsPerUpload];
//   - [Client.ResponsibleManager]: telephony/manager, whom to route a
//     client's call to.
//
// [NewCallbackHandler] serves the callbacks, and [CallEventFrom] and
// [CallRecordFrom] map any voip.Provider's events and calls to retailCRM's,
// which is what a PBX → CRM bridge needs. [Bridge] is that bridge, ready
// to use with any voip.Provider: it registers the module with the PBX's
// members mapped to CRM users ([AdditionalCodes], [UsersByExt],
// [UsersByEmail]), turns live events into call events and finished calls
// into uploads (batched, resent safely, never dropped silently), answers
// retailCRM's callbacks from the PBX (click-to-call, DND, recordings), and
// a PBX's caller lookup from the responsible manager ([Bridge.Caller]).
// examples/bridge runs it on every vendor of this module.
//
//	c, err := retailcrm.New("https://example.retailcrm.ru", apiKey)
//	...
//	if ev, ok := retailcrm.CallEventFrom(event); ok {
//		_, err = c.SendCallEvent(ctx, ev)
//	}
//
// # The wire
//
// Requests go to <account>/api/v5/… with the key in the X-API-KEY header
// only. POST bodies are forms with one field holding JSON:
// integrationModule=, calls=, event=. Answers are {"success": …}; a failure
// adds "errorMsg" and "errors", a map of field → message or a list of
// messages. Dates are "2006-01-02 15:04:05" in the account's zone, which
// the format does not carry: set it with [WithLocation] (default UTC+3).
// Numbers that retailCRM sends as numbers or strings (ids, extension
// codes) are read in either form, and objects that PHP sends as [] when
// empty are read as empty.
//
// # Rate limits and retries
//
// retailCRM allows 10 requests per second per key, and 40 on the paths
// under /telephony. The client waits its turn on two token buckets chosen
// by path (golang.org/x/time/rate, bursts of a fifth of a second;
// [WithRateLimit]), within ctx. A request over the limit is answered 503
// {"success":false,"errorMsg":"Rate limit exceeded"}: it was not processed,
// so it is waited out and sent again, call events included.
//
// Reads and uploads are retried on transport errors, 429, 502, 503 and 504
// ([WithRetries]): an upload can be sent again because retailCRM
// deduplicates calls on externalId (a chunk holding a call without one is
// sent at most once). A call event is sent at most once but for a rate
// limit or a connection never made; any other failure after it left
// matches voip.ErrAmbiguous, and it is not repeated: a second event would
// show a second card.
//
// # Errors
//
// An argument refused before sending is a *voip.ArgError. A failed request
// is a *voip.APIError whose Message is errorMsg followed by every entry of
// errors ("Errors in the entity format: calls[0].phone: …; …"), uncut, and
// whose class is read from errorMsg first and the status next:
//
//   - `"apiKey" is missing.` and `Wrong "apiKey" value.` (both 403) match
//     voip.ErrUnauthorized: the key is missing or wrong, which the voip
//     classes call unauthorized whatever the status; `Access denied.` (403,
//     a key without the scope) matches voip.ErrForbidden;
//   - `Account does not exist.`, `Not found`, a 404, and an HTML page with
//     404 or 405 (retailCRM's answer for an unknown account) match
//     voip.ErrNotFound;
//   - 429, and 503 with "Rate limit exceeded", match voip.ErrRateLimited
//     (after the retries); any other 5xx voip.ErrServer;
//   - a 2xx that says success: false matches voip.ErrBadRequest, and one
//     that is not the envelope voip.ErrBadResponse;
//   - other statuses follow voip.StatusKind (402, "insufficient funds to
//     activate the module", is voip.ErrBadRequest).
//
// [UploadCalls] returns an *[UploadError] with its result when some calls
// were not stored, naming the index of each.
//
// # Secrets
//
// The API key and every module clientId given to or read by the client are
// hidden from every error and log line, the Debug line with the request
// body included: EditIntegrationModule registers the clientId before it
// builds the request. The callback handler compares digests of the
// clientId in constant time, hides it in the errors of its functions, and
// never logs a request's query.
//
// # Callbacks
//
// retailCRM calls the module with GET requests that carry the module's
// clientId in the query, its only protection: make it long and random.
//
//	makeCallUrl?clientId=…&code=100&phone=+79121234567&userId=1[&externalPhone=…]
//	changeUserStatusUrl?clientId=…&code=100&userId=1&status=busy
//	<recordUrl of an upload>?clientId=…
//
// [NewCallbackHandler] tells them apart by their query (status, phone,
// anything else), checks clientId in constant time (401 missing, 403
// wrong), and restores the "+" of a phone that came unescaped and so as a
// space (the seed article's example does that). A failed function answers
// 500, which retailCRM reports to the user for makeCall.
//
// # Sources
//
// The protocol notes shared/vendors/retailcrm.md and the retailCRM article
// «Порядок интеграции виртуальной АТС с системой»; where they are unsure,
// the official clients: retailcrm/api-client-php (Model/Entity/Telephony
// Call and CallEvent, Model/Response/Telephony CallsUploadResponse,
// CallEventResponse and ManagerResponse, IntegrationModuleEditInfo with
// notExistUsersIds and notExistSiteCodes, and the fixtures of
// tests/src/ResourceGroup TelephonyTest and IntegrationTests: "info": [],
// ids as numbers) and retailcrm/api-client-go (rate.go for the limits,
// error.go for the errorMsg texts, error_test.go for both forms of errors,
// the commit that sends a false active).
//
// # Unconfirmed
//
//   - The callbacks' shapes come from the seed article and third-party
//     implementations; that retailCRM adds clientId to recordUrl is the
//     article's word. How retailCRM times out a makeCall is unknown.
//   - What duplicateCalls holds (taken to be externalIds), and when
//     notExistCodes and notExistUsers are filled.
//   - Whether a rate-limited request is counted per key or per address; the
//     limiters are per Client.
//   - The default zone: retailCRM gives dates without one, and the account's
//     setting is not readable through this API.
package retailcrm
