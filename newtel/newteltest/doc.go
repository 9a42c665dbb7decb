// Package newteltest is an in-process New-Tel for tests and examples, in the
// manner of net/http/httptest: the signed JSON API under one base URL, the
// callbackLink callbacks, and the PBX's event webhooks («Webhook-оповещения»).
//
// Point a client at it with its BaseURL:
//
//	api := newteltest.NewServer(accessKey, signKey)
//	defer api.Close()
//	client, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(api.BaseURL()))
//
// The Server records what it receives (Requests) and the calls it placed
// (Calls), and answers a chosen request with a failure (Fail). Toward the
// CRM it plays the webhooks of a whole call (PlayInbound, PlayOutbound) or
// sends one (Webhooks.Send), and POSTs a placed call's callbackLink
// (Callback).
//
// It is a second, independent reading of the protocol notes and the WebPhone
// article, written from them and not from package newtel, with which it
// shares no code, so that the two check each other. It checks every token
// (the access key, the 10-digit time within MaxSkew, the SHA-256 of method,
// time, access key, exact body and sign key) and answers a bad one with 401
// and the error envelope; it signs every answer in a Signature header with
// the same scheme over the answer's bytes, as the article describes; and it
// answers the methods with data shaped like the public samples.
//
// Facts the notes leave open are chosen here and may differ from New-Tel:
// the HTTP status of errors (401 for auth, 404 for an unknown method, 200
// for a method-level error), the allowed skew, the answers of
// call/start_simple_call and webrtc/get-widget-config, the webhook
// signature (SHA-1 of event, "\n", the data object as sent, "\n", the key,
// the data encoded as PHP's json_encode does), the order of a call's
// webhooks, and their times: an inbound call ends when it is played, an
// outbound one starts when it was placed.
package newteltest
