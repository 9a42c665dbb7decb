// Package phonettest is an in-process Phonet tenant host for tests and
// examples, in the manner of net/http/httptest: the session-cookie REST API,
// the recordings, the live socket (/live/connector/v3/easy) that pushes
// scripted call events and takes click2call, and a sender of the CRM
// webhooks.
//
// It is a second, independent reading of the protocol notes and of
// Phonet's WSS article, written from their samples and not from package
// phonet, so that the two check each other. It answers with the quirks the
// samples show: bare JSON arrays, ids as numbers in one place and strings in
// another, timestamps in seconds in the active calls list and milliseconds
// elsewhere, serverTime as a string, dashed uuids in the history and plain
// ones in events, null trunks on internal calls, and a trailing space after
// every audioRecUrl.
//
// Facts the notes leave open are decided here, and can be changed: a wrong
// apiKey gets 401 from authorize and 403 from the socket handshake; an
// expired session gets 403 (see [Server.SetExpiredReply]); recordings need
// no cookie unless [Server.RequireCookieForRecordings].
package phonettest
