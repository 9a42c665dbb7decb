// Package webitel drives a Webitel tenant (cloud.webitel.com, webitel.ua,
// or a self-hosted one) from a CRM: the REST API behind its /api gateway,
// the call recordings of its storage service, and the engine socket.
//
// [New] takes the tenant's address and an access token: an integration
// token made for a user ([Client.AddUserToken], [Client.Provision]) or the
// session token [Login] returns. The address may be given as the Webitel
// article gives the REST endpoint, https://cloud.webitel.com/api/: a
// trailing /api and slashes are dropped. The token goes in the
// X-Webitel-Access header of every request (swagger securityDefinitions,
// protos swagger/api.json).
//
// # What is supported
//
//   - Directory: devices ([Client.CreateDevice], [Client.Device],
//     [Client.Devices], [Client.UpdateDevice], [Client.DeleteDevice]),
//     users ([Client.CreateUser], [Client.User], [Client.Users],
//     [Client.UpdateUser], [Client.DeleteUser]) and user access tokens
//     ([Client.AddUserToken], [Client.UserTokens],
//     [Client.DeleteUserToken]), presence ([Client.SetPresence]);
//     [Client.Provision] runs the seed article's
//     flow: a device, a user with it, a token.
//   - Calls: click-to-call ([Client.CreateCall], voip's GenerateCall),
//     [Client.HangupCall], [Client.Hold], [Client.Unhold],
//     [Client.BlindTransfer], [Client.Eavesdrop], [Client.ActiveCalls],
//     [Client.CallFiles]; the history ([Client.History]) with
//     [HistoryCall.Call] for the neutral record.
//   - Contact centre: [Client.CreateAgent], [Client.Agents],
//     [Client.SetAgentStatus].
//   - Recordings: [Client.DownloadRecording], [Client.DownloadRecordingRange]
//     and [Client.RecordingURL].
//   - voip.Provider: TestConnection (GET /api/userinfo), Members (users
//     with an extension), GenerateCall, CallLink.
//
// # The socket
//
// [Client.Subscribe] opens the engine socket of the token's user
// (ws(s)://host/ws/websocket) and keeps it open: [Stream.Events] delivers
// its call events (ringing, active, bridge, hold, dtmf, hangup…) and, with
// [WithAgentStatus], its agent's status; [Stream.Source] is the same as a
// voip.Source: ringing is Start, the first active or bridge is Answer (an
// active after a hold is the resume, not a second answer), hangup is End
// with [Disposition] of the cause and whether the call was answered. One
// socket sees only its own user's calls: a CRM opens one per operator.
//
// The protocol, read in the engine (app/web_conn.go,
// app/websocket_router.go, app/web_hub.go, model/websocket_message.go,
// wsapi/call.go, wsapi/agent.go) and the JS SDK (webitel_sdk
// src/socket/client.ts, call.ts):
//   - Requests carry seq ≥ 1 (the router refuses seq ≤ 0); replies carry
//     seq_reply and come in any order, each request being served apart.
//     A FAIL reply is a *voip.APIError, its Code the AppError id.
//   - authentication_challenge comes first. hello is queued before its
//     reply, so it is read while waiting; it is never delivered, because
//     its session token echoes the secret, which is redacted like the
//     token. A refused authentication (401; 412, a user without a licence)
//     leaves the socket open until the engine's timeout (15 s in the
//     engine read here, 20 s in older notes): Subscribe gives up at once,
//     and the error is permanent (voip.ErrUnauthorized,
//     voip.ErrForbidden).
//   - hello's ping_interval asks for an application ping; a pong that does
//     not come in half the interval (3 s for short ones) means the
//     engine's reader for this socket is gone, and the connection is
//     replaced. The protocol pings (WithPing) find half-open connections;
//     the four-NUL frames the engine sends after them behind Cloudflare,
//     and the newline after every frame, are skipped.
//   - Call control over the socket (Hangup, Hold, Unhold, DTMF) needs the
//     call's app_id (its FreeSWITCH node), which only the call's own
//     events and subscribe_call's list carry: the stream remembers it per
//     live call (at most 1024) and forgets it at hangup. Agent actions
//     send agent_id as a JSON number.
//   - [Stream.Call] (call_invite) is sent at most once: a connection lost
//     or a timeout after it left matches voip.ErrAmbiguous.
//   - [Stream.DTMF] is the way to send digits: the REST handler drops a
//     single digit.
//   - A lost connection is replaced with backoff ([WithBackoff]), the
//     stream authenticates and subscribes again, and a voip.Notice with
//     Gap says events may have been missed: reconcile from
//     [Client.ActiveCalls] or the history. An error event that ends the
//     session (api.context.session_expired.app_error) does the same; a
//     token refused then stops the stream (Err).
//
// # Errors
//
// Every failed request is a *voip.APIError whose Code is the AppError id
// Webitel sends ({id, code, detail, status}, engine pkg/werror/error.go;
// grpc-gateway's {code, message} as a fallback) and whose Message is its
// detail. It matches one voip class through errors.Is: the id decides where
// it says more than the status (a missing licence, 412, is
// voip.ErrForbidden; [IDBusy] is voip.ErrConflict), the HTTP status
// otherwise. Arguments refused before anything is sent are a
// *voip.ArgError. Neither the token, a password given to the client, a
// token it made, nor Login's password ever appears in an error or a log
// line.
//
// # Calls are never doubled
//
// POST /api/calls (and Eavesdrop, which places one) is sent at most once:
// it is retried only when the connection could not be made or Webitel
// answered 429. A failure after the request left (a reset, a timeout, a
// 5xx, a 2xx that cannot be read, ctx ending) matches voip.ErrAmbiguous:
// the call may be ringing. Reads, HangupCall, Hold, Unhold and
// SetAgentStatus are retried ([WithRetries]).
//
// # Quirks, and how they are handled
//
// Facts read in Webitel's code (cited by repository and path):
//   - int64 values (ids, times) are JSON strings; times are Unix ms and
//     "0" means unset. They are read as strings or numbers and sent as
//     strings (protos swagger/api.json, format int64).
//   - Lists are {next, items}; next is omitted when false; the engine reads
//     size+1 rows to set it and caps size at 20000 (engine
//     model/search_list.go). Users, devices and tokens also echo page and
//     size, tokens' size as a string: they are not read. The pager starts
//     at page 1 and stops on next false, an empty page, or a page that
//     repeats the previous one (a server that ignores page would otherwise
//     be read forever): that is an error matching voip.ErrBadResponse.
//   - The history needs one anchor filter: created_at, stored_at, number,
//     q, dependency_id or id (engine grpc_api/call.go searchHistoryCall);
//     [Client.History] refuses a query without one before sending it.
//     Numbers in the history are masked when the token lacks the "view
//     numbers" permission, and files are listed only with the recording
//     permission (the same file): a masked number stays as sent in
//     voip.Call.Client.
//   - POST /api/calls takes the operator as from.extension without a user
//     lookup, or as from.id; without from, the token's own user is rung; a
//     busy user is 400 app.call.create.valid.busy (engine grpc_api/call.go
//     CreateCall, app/call.go).
//   - REST DTMF drops a single digit: DtmfCall sets it only when the
//     string is longer than one character (engine grpc_api/call.go).
//     [Client.DTMF] therefore sends nothing and matches
//     voip.ErrNotSupported; use the socket's Stream.DTMF.
//   - The eavesdrop handler answers without the new call's id (engine
//     grpc_api/call.go EavesdropCall).
//   - Agent status over REST accepts online, pause or offline and answers
//     {"status":"OK"} (engine grpc_api/cc_agent.go).
//   - Recordings are served by the storage service at
//     /api/storage/recordings/{id}/download and /stream (Range, 206), with
//     the token in a header (webitel/storage apis/call_record_files.go,
//     app/authentication.go). A link this package returns never carries the
//     token: the integration token grants the whole API, and a CRM stores
//     links and shows them to people.
//
// Not confirmed on a live tenant, and handled leniently:
//   - The login answer: access_token is read at the top level (the
//     official UI, webitel/web-client-auth src/api/auth/auth.ts), then
//     under authorization (protos webitel-go/auth.proto). An answer with
//     neither but with a 2FA session id is [ErrTwoFactor]; Login never
//     returns an empty token without an error.
//   - Single-entity answers: the proto wraps some ({"device":…},
//     {"user":…}, {"updated":…}), the seed article and the admin UI read
//     them bare (webitel/client devices.js, users.js). An object whose only
//     key is such a wrapper holding an object is unwrapped; any other is
//     read as the entity.
//   - The error body: {id, code, detail, status} with the HTTP status from
//     code is inferred from the UI's error handling; any other body gives
//     its text as the Message and the status decides the class.
//   - Zero values are expected but not required; every field may be
//     missing, null, a string or a number.
//   - The history's hangup cause and whether the leg was answered
//     (answered_at or bridged_at set) give the disposition ([Disposition]):
//     mod_grpc reports SIP 200 when it knows no code, so sip_code alone
//     cannot tell.
//   - Numbers without a country code are read as Ukrainian when a voip
//     value is made; GenerateCall dials a phone number in E.164.
package webitel
