// Package phonettest is an in-process Phonet tenant host for tests and
// examples, in the manner of net/http/httptest: the session-cookie REST API,
// the recordings, the live socket (/live/connector/v3/easy) that pushes
// scripted call events and takes click2call, and a sender of the CRM
// webhooks. A phonet client is pointed at it with one option:
//
//	pbx := phonettest.NewServer(apiKey)
//	defer pbx.Close()
//	client, err := phonet.New(pbx.Domain, apiKey, phonet.WithBaseURL(pbx.BaseURL()))
//
// The server records what it was asked: [Server.Calls] lists the calls
// placed (makeCall and click2call), [Server.Requests] every REST request,
// oldest first. [Server.Fail] makes the next request for a path answer an
// error of your choice.
//
// The socket's faults: [Server.FailSocket] refuses handshakes,
// [Server.DropSockets] drops every live connection, [Server.Silence] makes
// connections half-open, and [Server.Offline] takes the whole server off
// the network and back on the same address, as a restart does.
// [Server.PushAll] sends one message to every live socket, a load for
// many subscriptions.
//
// [Webhooks] posts Phonet's webhooks to a CRM URL, JSON or form-encoded:
// one delivery at a time with [Webhooks.Send] ([Server.EventWebhook],
// [LookupWebhook]), or whole calls with [Server.PlayInbound] (the
// client-card lookup, call.dial, call.bridge, call.hangup) and
// [Server.PlayOutbound] (the rest of a call placed through makeCall). A
// played call joins the REST history, with a recording when it was
// answered, and its times agree: the record starts with the first event
// and ends with the last.
//
// It is a second, independent reading of the protocol notes and of
// Phonet's WSS article, written from their samples and not from package
// phonet, so that the two check each other. It answers with the quirks the
// samples show: bare JSON arrays, ids as numbers in one place and strings in
// another, timestamps in seconds in the active calls list and in the
// webhooks' dialAt and bridgeAt and milliseconds elsewhere, serverTime as a
// string on the socket, dashed uuids in the history (and so in recording
// links) and plain ones in events, null trunks on internal calls, and a
// trailing space after every audioRecUrl.
//
// Facts the notes leave open are decided here, and can be changed: a wrong
// apiKey gets 401 from authorize and 403 from the socket handshake; an
// expired session gets 403 (see [Server.SetExpiredReply]); recordings need
// no cookie unless [Server.RequireCookieForRecordings], and are served at
// the uuid the history record writes, the dashed form, only.
package phonettest
