package webitel

import (
	"strings"

	"github.com/pbxkit/pbxkit/voip"
)

// Disposition is the neutral outcome of a call leg from its hangup cause
// (a FreeSWITCH cause name such as "NORMAL_CLEARING") and whether the leg
// was answered. The cause alone cannot say it: mod_grpc reports SIP 200
// and NORMAL_CLEARING for a leg it has no SIP code for, answered or not,
// so an answered leg is Answered whatever the cause, and an unanswered
// NORMAL_CLEARING is NoAnswer (the far end stopped ringing it).
func Disposition(cause string, answered bool) voip.Disposition {
	if answered {
		return voip.DispositionAnswered
	}
	switch strings.ToUpper(strings.TrimSpace(cause)) {
	case "USER_BUSY":
		return voip.DispositionBusy
	case "ORIGINATOR_CANCEL", "LOSE_RACE", "PICKED_OFF":
		return voip.DispositionCancel
	case "NO_ANSWER", "NO_USER_RESPONSE", "ALLOTTED_TIMEOUT", "NORMAL_CLEARING", "RECOVERY_ON_TIMER_EXPIRE":
		return voip.DispositionNoAnswer
	case "CALL_REJECTED", "UNALLOCATED_NUMBER", "INVALID_NUMBER_FORMAT", "NO_ROUTE_DESTINATION",
		"NORMAL_CIRCUIT_CONGESTION", "SWITCH_CONGESTION", "DESTINATION_OUT_OF_ORDER",
		"NORMAL_TEMPORARY_FAILURE", "NETWORK_OUT_OF_ORDER", "SERVICE_UNAVAILABLE",
		"INCOMPATIBLE_DESTINATION", "MANDATORY_IE_MISSING", "OUTGOING_CALL_BARRED",
		"INCOMING_CALL_BARRED", "BEARERCAPABILITY_NOTAUTH", "FACILITY_REJECTED",
		"EXCHANGE_ROUTING_ERROR", "USER_NOT_REGISTERED", "SUBSCRIBER_ABSENT", "GATEWAY_DOWN",
		"MEDIA_TIMEOUT", "NUMBER_CHANGED", "REQUESTED_CHAN_UNAVAIL", "CHAN_NOT_IMPLEMENTED":
		return voip.DispositionFailed
	}
	return voip.DispositionUnknown
}
