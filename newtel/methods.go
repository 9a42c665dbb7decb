package newtel

// The API methods, each the URL path under the base URL and the name that
// is signed. They are data, not types, because New-Tel renames methods
// (call/start-password-call became call-password/start-password-call);
// [Client.Call] takes any name.
const (
	// MethodCompanyState reads the balance. Confirmed by several clients.
	MethodCompanyState = "company/get-state"
	// MethodStartPasswordCall places a flash call whose caller ID ends in
	// the code. Confirmed.
	MethodStartPasswordCall = "call-password/start-password-call"
	// MethodPasswordCallStatus reads a flash call's status. Confirmed.
	MethodPasswordCallStatus = "call-password/get-password-call-status"
	// MethodStartVoicePasswordCall places a call that speaks the code. One
	// source.
	MethodStartVoicePasswordCall = "call-password/start-voice-password-call"
	// MethodStartInboundCallWaiting waits for the user to call a number
	// (Call Password ID). Confirmed by New-Tel's own examples.
	MethodStartInboundCallWaiting = "call-verification/start-inbound-call-waiting"
	// MethodStartWaitingModeBusy is the newer name of the inbound flow,
	// which answers the user's call with busy. Confirmed by two sources.
	MethodStartWaitingModeBusy = "call-password-id/start-waiting-mode-busy"
	// MethodLegacyStartPasswordCall is the pre-2020 name of
	// MethodStartPasswordCall. One source.
	MethodLegacyStartPasswordCall = "call/start-password-call"
	// MethodStartSimpleCall connects two numbers (click-to-call). Only the
	// seed article shows it: unconfirmed.
	MethodStartSimpleCall = "call/start_simple_call"
	// MethodWidgetConfig returns the WebPhone widget's configuration. Only
	// the seed article shows it: unconfirmed.
	MethodWidgetConfig = "webrtc/get-widget-config"
)

// isRead reports the known methods that only read, which are safe to repeat.
func isRead(method string) bool {
	switch method {
	case MethodCompanyState, MethodPasswordCallStatus, MethodWidgetConfig:
		return true
	}
	return false
}
