// Package graviteltest is an in-process Gravitel PBX for tests and examples,
// in the manner of net/http/httptest: the CRM API at /sys/crm_api.wcgp with
// every command, and a sender of the PBX's webhooks.
//
//	pbx := graviteltest.NewServer("pbx-key")
//	defer pbx.Close()
//	client, err := gravitel.New(pbx.BaseURL(), "pbx-key")
//
// It is a second, independent reading of the protocol notes, written from
// their samples and not from package gravitel, with which it shares no
// code, so that the two check each other. It answers as Gravitel does:
// accounts and groups as JSON (ext a string in one place and a number in
// another), the history as headerless CSV with local-offset times (see
// [Server.HistoryHeader] for the PBXs that send a header), subscribeoncalls
// with a plain OK, makeCall with {"uuid": …}, and {"error": …} with 400 or
// 401 on bad input.
//
// [Server.Calls] and [Server.Requests] show what a client sent, and
// [Server.Fail] makes the next request fail. [Webhooks] posts the PBX's
// webhooks to a CRM URL; [Server.PlayInbound] and [Server.PlayOutbound]
// play a whole call through it, and add the call to the history.
package graviteltest
