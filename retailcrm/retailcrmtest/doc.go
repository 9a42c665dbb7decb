// Package retailcrmtest is an in-process retailCRM account for tests and
// examples, in the manner of net/http/httptest: the API v5 methods a PBX
// integration calls, and a sender of the callbacks retailCRM makes to the
// PBX module.
//
//	crm := retailcrmtest.NewServer("api-key")
//	defer crm.Close()
//	client, err := retailcrm.New(crm.BaseURL(), "api-key")
//
// It serves, under /api/v5:
//
//   - POST integration-modules/{code}/edit, integrationModule={…}: creates
//     (201) or replaces (200) the module and answers
//     {"success":true,"info":[]}, or info
//     {"notExistUsersIds":[…],"notExistSiteCodes":[…]} naming the
//     additionalCodes users and externalPhones stores the account lacks.
//     additionalCodes take userId and code as numbers or strings, in any mix.
//   - GET integration-modules/{code}: {"success":true,"integrationModule":{…}},
//     404 {"success":false,"errorMsg":"Not found"} when there is none.
//   - POST telephony/calls/upload, calls=[…]: at most 50 calls, stored
//     unless their externalId was stored before:
//     {"success":true,"processedCallsCount":n,"duplicateCalls":[…]}.
//   - POST telephony/call/event, event={…}:
//     {"success":true,"notExistCodes":[…],"notExistUsers":[…]}.
//   - GET telephony/manager?phone=…[&details=1][&ignoreStatus=1]:
//     {"success":true,"manager":{…},"customer":{…},"links":{…}}, ids as
//     numbers, customer and links only with details=1.
//
// The key goes in the X-API-KEY header (an apiKey query or form parameter
// is accepted too); a missing key is 403 {"success":false,"errorMsg":"\"apiKey\"
// is missing."}, a wrong one 403 {"success":false,"errorMsg":"Wrong
// \"apiKey\" value."}. Bad input is 400 with errorMsg and errors, as an
// object of field → message or, after [Server.ErrorsAsArray], an array;
// [Server.RateLimit] makes requests answer 503
// {"success":false,"errorMsg":"Rate limit exceeded"} unprocessed,
// [Server.EnforceRate] does so past a rate (retailCRM's are 10 per second,
// 40 for telephony), and [Server.Fail] answers a request with anything. [Server.Requests] lists
// every request, [Server.Calls] and [Server.Events] what was stored,
// [Server.Module] the module as sent.
//
// [Server.MakeCall], [Server.ChangeStatus] and [Server.FetchRecording] play
// the CRM's side of the callbacks: GET requests to the makeCallUrl, the
// changeUserStatusUrl and a call's recordUrl with the clientId of the
// module edited last.
//
// It is a second, independent reading of the protocol notes, the seed
// article and the official clients, written from them and not from
// package retailcrm, so that the two check each other. The sources:
// api-client-php's Telephony and Integration models and tests
// (TelephonyTest: the upload, event and manager fixtures; IntegrationTests:
// "info":[] and the GET shape; IntegrationModuleEditInfo:
// notExistUsersIds, notExistSiteCodes; CallsUploadResponse:
// processedCallsCount, duplicateCalls; CallEventResponse: notExistCodes,
// notExistUsers; SerializedAdditionalCodes: userId an int), api-client-go's
// error texts and the seed article's examples (userId "1" and code 100 in
// additionalCodes; the callbacks' queries).
//
// Facts the sources leave open are decided here, and may differ from
// retailCRM:
//
//   - An edit replaces the module as a whole; clientId is required when it
//     is created; a "code" in the JSON must match the path's. The edit
//     answers 201 on creation (the seed article, api-client-go's test) and
//     200 after. The GET answer leaves clientId out (the PHP fixture shows
//     none) and fills in integrationCode, active, freeze and native.
//   - Uploads and events need an active module with integrations.telephony:
//     else 400 "Telephony not enabled or not supports calls upload" /
//     "Telephony not enabled" (the official Python client's mocks).
//   - Over 50 calls is 400 "Errors in the input parameters" with
//     errors.calls; an empty array is accepted. A call needs date
//     ("2006-01-02 15:04:05", zero-padded), type in/out and phone; result,
//     userId and the durations are checked when present. processedCallsCount
//     counts the calls stored by this request: not the duplicates, which
//     are listed in duplicateCalls (a repeat within one request is a
//     duplicate too), nor the refused. Refused calls (invalid, or named by
//     [Server.RejectCall]) make the answer 460 when others were stored,
//     400 when none were, with errorMsg "Calls are loaded with errors",
//     errors keyed "calls[i]…" by the call's index, and the counts. The 460
//     and the wording follow retailCRM's other batch uploads
//     (api-client-go client_test.go: customers/upload answers 460
//     "Customers are loaded with errors" with what was stored); that
//     calls/upload does the same is this emulator's reading.
//   - An event needs phone and type; hangupStatus, when present, must be one
//     of the five. notExistCodes lists codes no user has, notExistUsers the
//     unknown ids; the event is stored either way.
//   - A user's extension is the module's additionalCodes entry, else
//     User.Code. The manager is returned when the customer's manager is free
//     (or ignoreStatus=1) and has an extension (the seed article); phones
//     match on their last ten digits. Links: newOrderLink always,
//     customerLink for a known customer, newCustomerLink otherwise. Empty
//     names and emails are left out, as the CRM's serializer leaves out
//     nulls.
//   - The callbacks write phone and externalPhone into the query as they
//     are, as the seed article's makeCall example shows for phone, so a "+"
//     arrives as a space; clientId comes first, in the seed's order.
//   - Malformed form JSON is 400 "Errors in the input parameters" with
//     errors naming the form field; a missing field is 400 "Parameter
//     'calls' is missing" and the like; an unknown method 404 "API method
//     not found"; a wrong HTTP method 405 "Method Not Allowed". The rate
//     limit comes before the key check.
package retailcrmtest
