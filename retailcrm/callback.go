package retailcrm

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/pbxkit/pbxkit/voip"
)

// MakeCallRequest is retailCRM asking the PBX to call Phone for the user
// with extension Code (makeCallUrl).
type MakeCallRequest struct {
	// ClientID is the module's clientId the request carried, already
	// checked against CallbackConfig.ClientID. It is a secret.
	ClientID string
	// Code is the user's extension; UserID the CRM user.
	Code   string
	Phone  string
	UserID int64
	// ExternalPhone is the store's number to call from, when the module
	// maps stores to numbers.
	ExternalPhone string
}

// UserStatus is a CRM user's status.
type UserStatus string

// The user statuses. retailCRM may add others; they are passed on as sent.
const (
	StatusFree   UserStatus = "free"
	StatusBusy   UserStatus = "busy"
	StatusDinner UserStatus = "dinner"
	StatusBreak  UserStatus = "break"
)

// StatusChange is retailCRM reporting that a user's status changed
// (changeUserStatusUrl).
type StatusChange struct {
	ClientID string
	UserID   int64
	Code     string
	Status   UserStatus
}

// RecordingRequest is retailCRM fetching a call's recording from the
// RecordURL of its upload.
type RecordingRequest struct {
	ClientID string
	// URL is the request's URL without the clientId parameter: the path
	// and query of the RecordURL you uploaded.
	URL *url.URL
}

// callbackKind tells the three callbacks apart.
type callbackKind int8

const (
	kindRecording callbackKind = iota
	kindMakeCall
	kindStatus
)

// callback is one callback as read from its query.
type callback struct {
	kind     callbackKind
	clientID string
	call     MakeCallRequest
	status   StatusChange
	rest     url.Values // the query without clientId
}

// readCallback reads a callback's query: status → a status change, phone →
// a call, otherwise a recording. A phone whose "+" arrived unescaped, and
// so as a space (the seed article's example sends phone=+7…), gets it back.
// A query that does not parse, or a userId that is not a number, is an
// error matching voip.ErrMalformed; the errors never quote clientId.
func readCallback(rawQuery string) (*callback, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("retailcrm: callback query does not parse: %w", voip.ErrMalformed)
	}
	cb := &callback{clientID: q.Get("clientId")}
	delete(q, "clientId")
	cb.rest = q
	userID := func() (int64, error) {
		s := strings.TrimSpace(q.Get("userId"))
		if s == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("retailcrm: callback userId %.40q is not an id: %w", s, voip.ErrMalformed)
		}
		return n, nil
	}
	switch {
	case q.Has("status"):
		cb.kind = kindStatus
		st := UserStatus(strings.TrimSpace(q.Get("status")))
		if st == "" {
			return nil, fmt.Errorf("retailcrm: status callback with an empty status: %w", voip.ErrMalformed)
		}
		id, err := userID()
		if err != nil {
			return nil, err
		}
		cb.status = StatusChange{ClientID: cb.clientID, UserID: id, Code: strings.TrimSpace(q.Get("code")), Status: st}
	case q.Has("phone"):
		cb.kind = kindMakeCall
		phone := restorePlus(q.Get("phone"))
		if phone == "" {
			return nil, fmt.Errorf("retailcrm: makeCall callback with an empty phone: %w", voip.ErrMalformed)
		}
		id, err := userID()
		if err != nil {
			return nil, err
		}
		cb.call = MakeCallRequest{ClientID: cb.clientID, Code: strings.TrimSpace(q.Get("code")), Phone: phone,
			UserID: id, ExternalPhone: restorePlus(q.Get("externalPhone"))}
	default:
		cb.kind = kindRecording
	}
	return cb, nil
}

// restorePlus trims a phone and gives back the "+" that an unescaped query
// turned into a space: " 79121234567" is "+79121234567".
func restorePlus(s string) string {
	if len(s) > 1 && s[0] == ' ' && s[1] >= '0' && s[1] <= '9' {
		return "+" + strings.TrimSpace(s)
	}
	return strings.TrimSpace(s)
}

// errNoFunc is the cause of a callback whose function is not configured.
var errNoFunc = errors.New("retailcrm: no function for this callback")
