// Package webiteltest is an in-process Webitel tenant for tests and
// examples, in the manner of net/http/httptest: the REST API behind the
// /api gateway (login, users, user tokens, devices, calls, call history,
// call files, contact-centre agents), the storage's recordings, and the
// engine socket at /ws/websocket with scripted call and agent events.
//
//	pbx := webiteltest.NewServer("integration-token")
//	defer pbx.Close()
//	client, err := webitel.New(pbx.BaseURL(), "integration-token")
//
// The server records what it was asked: [Server.Requests] lists every
// REST request, [Server.Calls] every call created (POST /api/calls and the
// socket's call_invite), [Server.Digits] the DTMF a call received.
// [Server.Fail] makes the next REST request for a path answer an error of
// your choice. Calls are scripted with [Server.Incoming], [Server.Answer],
// [Server.Hold] and [Server.Hangup]; a finished call joins the history,
// with a recording when it was answered, and [Server.AddHistory] adds
// more.
//
// The socket's faults: [Server.FailSocket] refuses the next
// authentication, [Server.ShuffleReplies] answers concurrent actions out
// of order, [Server.DropSockets] drops every socket, [Server.Silence] makes
// connections half-open, and [Server.Offline] takes the whole server off
// the network and back on the same address, as a restart does.
//
// It is a second, independent reading of the protocol notes and of
// Webitel's code, sharing nothing with package webitel, so that the two
// check each other. It answers with the quirks the engine has:
//
//   - int64 values (ids, times in ms, file sizes) as JSON strings over
//     REST, and "0" for an unset time; int32 values (durations, sip_code)
//     as numbers; zero values present.
//   - Lists are {"next": true, "items": […]}, next left out when false;
//     users, devices and tokens also echo page and size, and the tokens'
//     size is a string (an int64 in ListUserAccessToken).
//   - POST /api/devices and every /api/users answer (POST, GET, PUT,
//     PATCH) carry the bare object, as the seed article and the admin UI
//     read them; GET, PUT and PATCH /api/devices/{id} wrap it as
//     {"device": {…}}, as devices.proto says; DELETE answers
//     {"deleted": […]}. Request bodies are read bare or wrapped.
//   - Errors are the engine's AppError, {"id","status","detail","code"},
//     with the HTTP status in code: 401 api.context.unauthorized for a
//     missing or unknown X-Webitel-Access, 400 app.call.create.valid.busy
//     for a busy operator ([Server.SetBusy]), 400 grpc.call.search_history
//     for a history search without created_at, stored_at, number, q,
//     dependency_id or id (engine grpc_api/call.go).
//   - PATCH /api/calls/active/{id}/dtmf takes a digit only from a string
//     longer than one character, as the engine's DtmfCall does: "5" sends
//     NUL ([Server.Digits] shows it as "\x00").
//   - Recordings (/api/storage/recordings/{id}/download and /stream) take
//     the token from X-Webitel-Access, Authorization: Bearer or
//     ?access_token= (webitel/storage app/authentication.go); /stream
//     serves Range with 206.
//
// The socket follows engine app/web_conn.go, app/websocket_router.go,
// model/websocket_message.go and wsapi/call.go:
//
//   - The client's first message is authentication_challenge with
//     data.token. On success hello (seq 0) is queued before the
//     {"status":"OK","seq_reply":n}. A refusal (401 unknown token, 412
//     api.context.permissions.license for a user without a licence, or
//     [Server.FailSocket]) leaves the socket open until the auth timeout
//     (15 s, [Server.SetAuthTimeout]) closes it. A challenge without a
//     string data.token closes the socket without a reply, as the router
//     does. seq ≤ 0 is refused (api.web_socket_router.bad_seq.app_error).
//   - Events are {"event":…,"data":…,"seq":n} with a per-connection n
//     from 0; replies {"status":"OK"|"FAIL","seq_reply":n,"data":…,
//     "error":{AppError}}, data and seq_reply left out when empty. Every
//     JSON frame ends with "\n".
//   - A protocol ping goes out every 60 s ([Server.SetPingInterval]); a
//     socket without a pong within 10/6 of that is dropped. In Cloudflare
//     mode (on by default, [Server.SetCloudflare]) a text frame of four
//     NUL bytes, without a newline, follows each ping once its pong is in.
//     hello's ping_interval is 30000 ([Server.SetAppPingInterval]); the
//     ping action answers {"pong":1}.
//   - Call events are {"event":"call","data":{"call":{"id","event",
//     "timestamp","domain_id","user_id","app_id","data"}}}, timestamp,
//     domain_id and user_id as strings; the sub-events are ringing,
//     active, bridge, hold and hangup (mod_grpc src/Call.h). A hangup's
//     sip is always 200 (mod_grpc's value when it knows no SIP code), and
//     talk_sec, record_start and record_stop are strings. Calls land on
//     the nodes fs-1 and fs-2 in turn; call_hangup, call_hold,
//     call_unhold and call_dtmf need the call's app_id (FAIL
//     api.websocket_handler.invalid_param.app_error without it, FAIL
//     app.call_manager.client.not_found for another node).
//   - Agent actions (cc_agent_online, cc_agent_pause, cc_agent_offline,
//     cc_agent_subscribe_status) take agent_id as a JSON number; a string
//     is an invalid parameter. agent_status events carry numbers.
//   - One socket sees only its own user's calls and agent.
//
// Facts the notes leave open are decided here, and can be changed:
//
//   - POST /api/login answers the AccessToken at the top level
//     ({"access_token","token_type","expires_in",…}), as the web UI reads
//     it; with [Server.SetTwoFactor] it answers {"id": …} only (POST
//     /api/login/2fa is not served). A wrong password, user or domain is
//     401 app.login.invalid_credentials. Every login makes a new session
//     token.
//   - POST /api/calls with a from.extension or from.id no user has is 400
//     app.call.create.valid.from. The operator's leg rings (outbound) and
//     stays ringing until [Server.Answer], which plays the auto-answer
//     (active) and the destination's answer (bridge) together.
//   - Call control on an unknown call is 404 app.call.not_found (REST and
//     socket). Blind transfer is recorded ([Server.Transferred]) and the
//     call goes on.
//   - Call events and agent_status reach every authenticated socket of the
//     user; the engine sends them only after subscribe_call and
//     cc_agent_subscribe_status, which [Server.RequireSubscriptions]
//     enforces.
//   - The seeded agents are 10 (user 1) and 11 (user 2), so that agent ids
//     differ from user ids.
//   - The history has the engine's HistoryCall fields a CRM reads; every
//     fourth call of [Server.AddHistory] is a missed NO_ANSWER with
//     sip_code 480 and no files.
//   - GET .../download ignores Range; only /stream serves parts.
package webiteltest
