package newtel

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// CompanyState reads the account state (company/get-state), the cheapest
// call that proves the keys work.
func (c *Client) CompanyState(ctx context.Context) (*CompanyState, error) {
	var out stateOf
	if err := c.call(ctx, MethodCompanyState, rest.Idempotent, nil, &out); err != nil {
		return nil, err
	}
	return out.companyState(), nil
}

// PasswordCallRequest is a flash call: New-Tel calls DstNumber from a number
// whose last digits are the code.
type PasswordCallRequest struct {
	// DstNumber is the number to call, in any format NormalizePhone reads;
	// it is sent as digits without "+".
	DstNumber string
	// Pin is the code, 4 digits on current accounts (5 in old documents).
	// Empty lets New-Tel generate it; it comes back in CallDetails.Pin.
	Pin string
	// Async makes New-Tel answer at once, before the call's status is known.
	Async bool
	// Timeout is how long the call rings, in seconds (about 20 to 99); 0
	// leaves New-Tel's default.
	Timeout int
	// CallbackLink is POSTed to when the call ends: see NewCallbackHandler.
	CallbackLink string
}

type passwordCallWire struct {
	DstNumber    string `json:"dstNumber"`
	Async        int    `json:"async"`
	Pin          string `json:"pin,omitempty"`
	Timeout      int    `json:"timeout,omitempty"`
	CallbackLink string `json:"callbackLink,omitempty"`
}

// StartPasswordCall places a flash call (call-password/start-password-call).
// It is sent at most once: an error matching voip.ErrAmbiguous means the
// phone may be ringing.
func (c *Client) StartPasswordCall(ctx context.Context, r PasswordCallRequest) (*CallDetails, error) {
	dst, err := wireNumber("StartPasswordCall", "DstNumber", r.DstNumber)
	if err != nil {
		return nil, err
	}
	return c.details(ctx, MethodStartPasswordCall, rest.NotIdempotent, passwordCallWire{
		DstNumber: dst, Async: flag(r.Async), Pin: strings.TrimSpace(r.Pin), Timeout: r.Timeout, CallbackLink: r.CallbackLink,
	})
}

// PasswordCallStatus polls a flash call (call-password/get-password-call-status).
// Status stays empty or "null" while the call is in progress.
func (c *Client) PasswordCallStatus(ctx context.Context, callID string) (*CallDetails, error) {
	if strings.TrimSpace(callID) == "" {
		return nil, argError("PasswordCallStatus", "callID", errors.New("empty"))
	}
	return c.details(ctx, MethodPasswordCallStatus, rest.Idempotent, map[string]string{"callId": callID})
}

// VoicePasswordCallRequest is a call that speaks Text, the code.
type VoicePasswordCallRequest struct {
	DstNumber string
	Text      string
	Async     bool
}

// StartVoicePasswordCall places a call that speaks the code
// (call-password/start-voice-password-call; one source). It is sent at most
// once.
func (c *Client) StartVoicePasswordCall(ctx context.Context, r VoicePasswordCallRequest) (*CallDetails, error) {
	dst, err := wireNumber("StartVoicePasswordCall", "DstNumber", r.DstNumber)
	if err != nil {
		return nil, err
	}
	return c.details(ctx, MethodStartVoicePasswordCall, rest.NotIdempotent, struct {
		DstNumber string `json:"dstNumber"`
		Async     int    `json:"async"`
		Text      string `json:"text"`
	}{dst, flag(r.Async), r.Text})
}

// InboundCallRequest starts Call Password ID: the user calls
// CallDetails.ConfirmationNumber from ClientNumber, and New-Tel then POSTs
// {"callId": …} to CallbackLink.
type InboundCallRequest struct {
	ClientNumber string
	CallbackLink string
	// Timeout is how long New-Tel waits for the call, in seconds: 30 to 120,
	// 60 when 0.
	Timeout int
	// UserData is echoed back in CallDetails.UserData.
	UserData string
}

type inboundCallWire struct {
	ClientNumber string `json:"clientNumber"`
	CallbackLink string `json:"callbackLink"`
	Timeout      int    `json:"timeout,omitempty"`
	UserData     string `json:"userData,omitempty"`
}

// StartInboundCallWaiting starts Call Password ID
// (call-verification/start-inbound-call-waiting). It is sent at most once.
func (c *Client) StartInboundCallWaiting(ctx context.Context, r InboundCallRequest) (*CallDetails, error) {
	return c.inbound(ctx, "StartInboundCallWaiting", MethodStartInboundCallWaiting, r)
}

// StartWaitingModeBusy is StartInboundCallWaiting under its newer name
// (call-password-id/start-waiting-mode-busy), which answers the user's call
// with busy so that it costs them nothing. It is sent at most once.
func (c *Client) StartWaitingModeBusy(ctx context.Context, r InboundCallRequest) (*CallDetails, error) {
	return c.inbound(ctx, "StartWaitingModeBusy", MethodStartWaitingModeBusy, r)
}

func (c *Client) inbound(ctx context.Context, fn, method string, r InboundCallRequest) (*CallDetails, error) {
	client, err := wireNumber(fn, "ClientNumber", r.ClientNumber)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(r.CallbackLink) == "" {
		return nil, argError(fn, "CallbackLink", errors.New("empty"))
	}
	return c.details(ctx, method, rest.NotIdempotent, inboundCallWire{
		ClientNumber: client, CallbackLink: r.CallbackLink, Timeout: r.Timeout, UserData: r.UserData,
	})
}

// SimpleCallRequest connects two numbers. Only the seed article shows the
// method; the order in which the numbers ring is not documented, and this
// package assumes SrcNumber rings first.
type SimpleCallRequest struct {
	// CallerID is the number shown on the calls; empty leaves the account's.
	CallerID string
	// SrcNumber is the operator's side: a phone or an internal number.
	SrcNumber string
	// DstNumber is the client.
	DstNumber string
	// Timeout is how long each side rings, in seconds; 0 leaves the default.
	Timeout int
}

type simpleCallWire struct {
	CallerID  string `json:"callerId,omitempty"`
	DstNumber string `json:"dstNumber"`
	SrcNumber string `json:"srcNumber"`
	Timeout   int    `json:"timeout,omitempty"`
}

// StartSimpleCall connects SrcNumber and DstNumber (call/start_simple_call),
// the click-to-call of the seed article. Unconfirmed: no public client uses
// it, and its answer is not known; CallDetails.CallID is read from
// data.callDetails.callId or data.callId when present and is empty
// otherwise. It is sent at most once.
func (c *Client) StartSimpleCall(ctx context.Context, r SimpleCallRequest) (*CallDetails, error) {
	var w simpleCallWire
	var err error
	if w.SrcNumber, err = wireNumber("StartSimpleCall", "SrcNumber", r.SrcNumber); err != nil {
		return nil, err
	}
	if w.DstNumber, err = wireNumber("StartSimpleCall", "DstNumber", r.DstNumber); err != nil {
		return nil, err
	}
	if strings.TrimSpace(r.CallerID) != "" {
		if w.CallerID, err = wireNumber("StartSimpleCall", "CallerID", r.CallerID); err != nil {
			return nil, err
		}
	}
	w.Timeout = r.Timeout
	return c.details(ctx, MethodStartSimpleCall, rest.NotIdempotent, w)
}

// WidgetConfig returns the configuration of the WebPhone widget for an
// internal number (webrtc/get-widget-config), the data.widgetConfig object
// as sent, to be rendered with WidgetSnippet. Unconfirmed: only the seed
// article shows it.
func (c *Client) WidgetConfig(ctx context.Context, internalNumber string) (json.RawMessage, error) {
	n := strings.TrimSpace(internalNumber)
	if n == "" {
		return nil, argError("WidgetConfig", "internalNumber", errors.New("empty"))
	}
	// The seed article sends the number as a JSON number. One with a
	// leading zero ("0100") cannot be a JSON number and stays a string,
	// digits intact.
	var param any = n
	if isDigits(n) && (n == "0" || n[0] != '0') {
		param = json.Number(n)
	}
	var out widgetOf
	if err := c.call(ctx, MethodWidgetConfig, rest.Idempotent, map[string]any{"internalNumber": param}, &out); err != nil {
		return nil, err
	}
	return out.WidgetConfig, nil
}

// widgetOf decodes the data object of webrtc/get-widget-config.
type widgetOf struct {
	resultFields
	WidgetConfig json.RawMessage `json:"widgetConfig"`
}

func (o *widgetOf) validate() error {
	if len(o.WidgetConfig) == 0 || string(o.WidgetConfig) == "null" {
		return errors.New(`newtel: no "widgetConfig" in the answer`)
	}
	return nil
}

func (c *Client) details(ctx context.Context, method string, idem rest.Idempotency, params any) (*CallDetails, error) {
	var out detailsOf
	if err := c.call(ctx, method, idem, params, &out); err != nil {
		return nil, err
	}
	return &out.CallDetails, nil
}

// wireNumber is a phone number as New-Tel takes it: international digits
// without "+". An internal number (up to six digits) is kept as it is.
// A number that is not one is a *voip.ArgError naming fn and arg.
func wireNumber(fn, arg, raw string) (string, error) {
	n, err := voip.NormalizePhone(raw, "RU")
	if err != nil {
		return "", argError(fn, arg, err)
	}
	return strings.TrimPrefix(n, "+"), nil
}

// argError is an argument of fn refused before anything was sent.
func argError(fn, arg string, err error) error {
	return &voip.ArgError{Vendor: Vendor, Func: fn, Arg: arg, Err: err}
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
