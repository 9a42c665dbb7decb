package retailcrm

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/internal/rest"
)

// IntegrationModule is a telephony module as registered in an account
// (api-client-php Model/Entity/Integration/IntegrationModule).
type IntegrationModule struct {
	// Code is this module instance's code, also in the URL path. Empty in
	// an edit means the code argument.
	Code string
	// IntegrationCode is the module's code in the partner cabinet.
	IntegrationCode string
	Name            string
	// Logo is the URL of an SVG logo.
	Logo string
	// ClientID is the account's key in the PBX: retailCRM sends it back on
	// every callback, and it is the only thing that protects them. Make it
	// long and random, and keep it secret: the client never shows it in an
	// error or a log line.
	ClientID string
	// BaseURL is the base of the module's callback URLs.
	BaseURL string
	// AccountURL is the module's settings page («личный кабинет»).
	AccountURL string
	// Active switches the module on; it is always sent, false included.
	Active bool
	// Freeze and Native are retailCRM's to set: read, never sent.
	Freeze, Native bool
	// Telephony is the telephony block; nil sends none.
	Telephony *Telephony
}

// Telephony is the integrations.telephony block of a module.
type Telephony struct {
	// MakeCallURL is called (GET) to start a call from the CRM; see
	// NewCallbackHandler.
	MakeCallURL string
	// ChangeUserStatusURL is called (GET) when a user's status changes.
	ChangeUserStatusURL string
	// AllowEdit false lets users only delete the module; settings change
	// through the API. The flags are always sent, false included.
	AllowEdit            bool
	InputEventSupported  bool
	OutputEventSupported bool
	HangupEventSupported bool
	// AdditionalCodes map CRM users to PBX extensions.
	AdditionalCodes []AdditionalCode
	// ExternalPhones map stores (site codes) to the PBX's numbers.
	ExternalPhones []ExternalPhone
}

// AdditionalCode maps a CRM user to a PBX extension.
type AdditionalCode struct {
	UserID int64
	Code   string
}

// ExternalPhone maps a store to one of the PBX's numbers.
type ExternalPhone struct {
	SiteCode, ExternalPhone string
}

// EditInfo is what an edit reports about the mappings it could not apply.
type EditInfo struct {
	// NotExistUserIDs are user ids of AdditionalCodes the account lacks.
	NotExistUserIDs []int64
	// NotExistSiteCodes are site codes of ExternalPhones the account lacks.
	NotExistSiteCodes []string
}

// The module on the wire. The flags have no omitempty: false must reach
// retailCRM (api-client-go dropped false for years, commit a29e241).
type moduleOut struct {
	Code            string        `json:"code"`
	IntegrationCode string        `json:"integrationCode,omitempty"`
	Active          bool          `json:"active"`
	Name            string        `json:"name,omitempty"`
	Logo            string        `json:"logo,omitempty"`
	ClientID        string        `json:"clientId,omitempty"`
	BaseURL         string        `json:"baseUrl,omitempty"`
	AccountURL      string        `json:"accountUrl,omitempty"`
	Integrations    *integrations `json:"integrations,omitempty"`
}

type integrations struct {
	Telephony *telephonyOut `json:"telephony,omitempty"`
}

type telephonyOut struct {
	MakeCallURL          string      `json:"makeCallUrl,omitempty"`
	ChangeUserStatusURL  string      `json:"changeUserStatusUrl,omitempty"`
	AllowEdit            bool        `json:"allowEdit"`
	InputEventSupported  bool        `json:"inputEventSupported"`
	OutputEventSupported bool        `json:"outputEventSupported"`
	HangupEventSupported bool        `json:"hangupEventSupported"`
	AdditionalCodes      []codeWire  `json:"additionalCodes,omitzero"`
	ExternalPhones       []phoneWire `json:"externalPhones,omitzero"`
}

// codeWire is an additionalCodes entry: userId a number, as the seed and
// api-client-php send it, code a string; either read as a number or a
// string, which retailCRM mixes.
type codeWire struct {
	UserID lenient.Int64  `json:"userId"`
	Code   lenient.String `json:"code"`
}

type phoneWire struct {
	SiteCode      lenient.String `json:"siteCode"`
	ExternalPhone lenient.String `json:"externalPhone"`
}

// The module as read.
type moduleIn struct {
	Code            lenient.String         `json:"code"`
	IntegrationCode lenient.String         `json:"integrationCode"`
	Active          flag                   `json:"active"`
	Freeze          flag                   `json:"freeze"`
	Native          flag                   `json:"native"`
	Name            lenient.String         `json:"name"`
	Logo            lenient.String         `json:"logo"`
	ClientID        lenient.String         `json:"clientId"`
	BaseURL         lenient.String         `json:"baseUrl"`
	AccountURL      lenient.String         `json:"accountUrl"`
	Integrations    object[integrationsIn] `json:"integrations"`
}

type integrationsIn struct {
	Telephony object[telephonyIn] `json:"telephony"`
}

type telephonyIn struct {
	MakeCallURL          lenient.String `json:"makeCallUrl"`
	ChangeUserStatusURL  lenient.String `json:"changeUserStatusUrl"`
	AllowEdit            flag           `json:"allowEdit"`
	InputEventSupported  flag           `json:"inputEventSupported"`
	OutputEventSupported flag           `json:"outputEventSupported"`
	HangupEventSupported flag           `json:"hangupEventSupported"`
	AdditionalCodes      []codeWire     `json:"additionalCodes"`
	ExternalPhones       []phoneWire    `json:"externalPhones"`
}

// EditIntegrationModule creates or updates the module code
// (POST integration-modules/{code}/edit, the form field integrationModule
// holding the module's JSON). Active and the telephony flags are always
// sent, false included. m.ClientID is registered as a secret before the
// request is built, so no error or log line of this client shows it.
//
// The code must be a symbolic code (letters, digits, '-', '_', '.');
// m.Code, when set, must be the same. A refused argument is a
// *voip.ArgError. EditInfo lists the user ids and site codes of the
// mappings that the account lacks; retailCRM may answer without them.
func (c *Client) EditIntegrationModule(ctx context.Context, code string, m IntegrationModule) (*EditInfo, error) {
	const fn = "EditIntegrationModule"
	c.conceal(m.ClientID)
	if err := checkCode(code); err != nil {
		return nil, argError(fn, "code", err)
	}
	if m.Code == "" {
		m.Code = code
	} else if m.Code != code {
		return nil, argError(fn, "m.Code", errors.New("differs from the code argument"))
	}
	out := moduleOut{Code: m.Code, IntegrationCode: m.IntegrationCode, Active: m.Active, Name: m.Name, Logo: m.Logo,
		ClientID: m.ClientID, BaseURL: m.BaseURL, AccountURL: m.AccountURL}
	if t := m.Telephony; t != nil {
		w := &telephonyOut{MakeCallURL: t.MakeCallURL, ChangeUserStatusURL: t.ChangeUserStatusURL, AllowEdit: t.AllowEdit,
			InputEventSupported: t.InputEventSupported, OutputEventSupported: t.OutputEventSupported,
			HangupEventSupported: t.HangupEventSupported}
		if t.AdditionalCodes != nil {
			w.AdditionalCodes = make([]codeWire, len(t.AdditionalCodes))
			for i, a := range t.AdditionalCodes {
				w.AdditionalCodes[i] = codeWire{UserID: lenient.Int64(a.UserID), Code: lenient.String(a.Code)}
			}
		}
		if t.ExternalPhones != nil {
			w.ExternalPhones = make([]phoneWire, len(t.ExternalPhones))
			for i, p := range t.ExternalPhones {
				w.ExternalPhones[i] = phoneWire{SiteCode: lenient.String(p.SiteCode), ExternalPhone: lenient.String(p.ExternalPhone)}
			}
		}
		out.Integrations = &integrations{Telephony: w}
	}
	body, err := rest.JSON(out)
	if err != nil {
		return nil, argError(fn, "m", err)
	}
	req := formRequest("integration-modules/"+code+"/edit", "integrationModule", body)
	resp, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	var r struct {
		envelope
		Info object[struct {
			NotExistUsersIDs  int64s `json:"notExistUsersIds"`
			NotExistSiteCodes strs   `json:"notExistSiteCodes"`
		}] `json:"info"`
	}
	if err := c.decode(resp, &r); err != nil {
		return nil, err
	}
	return &EditInfo{NotExistUserIDs: r.Info.V.NotExistUsersIDs.plain(), NotExistSiteCodes: r.Info.V.NotExistSiteCodes.plain()}, nil
}

// IntegrationModule reads the module code (GET integration-modules/{code}).
// Its ClientID, if retailCRM shows it, is registered as a secret like the
// one an edit sends.
func (c *Client) IntegrationModule(ctx context.Context, code string) (*IntegrationModule, error) {
	if err := checkCode(code); err != nil {
		return nil, argError("IntegrationModule", "code", err)
	}
	resp, err := c.do(ctx, &rest.Request{Method: http.MethodGet, Path: "integration-modules/" + code})
	if err != nil {
		return nil, err
	}
	var r struct {
		envelope
		Module object[moduleIn] `json:"integrationModule"`
	}
	if decodeEnvelope(resp.Body, &r) != nil {
		// An answer that does not decode still hides the clientId it may
		// hold from the error's body excerpt.
		var probe struct {
			Module struct {
				ClientID lenient.String `json:"clientId"`
			} `json:"integrationModule"`
		}
		if lenient.Unmarshal(resp.Body, &probe) == nil {
			c.conceal(string(probe.Module.ClientID))
		}
	}
	if err := c.decode(resp, &r); err != nil {
		return nil, err
	}
	if !r.Module.Set {
		return nil, resp.BadResponse(errors.New(`retailcrm: the answer has no "integrationModule"`))
	}
	w := &r.Module.V
	c.conceal(string(w.ClientID))
	m := &IntegrationModule{Code: string(w.Code), IntegrationCode: string(w.IntegrationCode), Name: string(w.Name),
		Logo: string(w.Logo), ClientID: string(w.ClientID), BaseURL: string(w.BaseURL), AccountURL: string(w.AccountURL),
		Active: bool(w.Active), Freeze: bool(w.Freeze), Native: bool(w.Native)}
	if t := w.Integrations.V.Telephony; t.Set {
		tv := t.V
		m.Telephony = &Telephony{MakeCallURL: string(tv.MakeCallURL), ChangeUserStatusURL: string(tv.ChangeUserStatusURL),
			AllowEdit: bool(tv.AllowEdit), InputEventSupported: bool(tv.InputEventSupported),
			OutputEventSupported: bool(tv.OutputEventSupported), HangupEventSupported: bool(tv.HangupEventSupported)}
		for _, a := range tv.AdditionalCodes {
			m.Telephony.AdditionalCodes = append(m.Telephony.AdditionalCodes, AdditionalCode{UserID: int64(a.UserID), Code: string(a.Code)})
		}
		for _, p := range tv.ExternalPhones {
			m.Telephony.ExternalPhones = append(m.Telephony.ExternalPhones, ExternalPhone{SiteCode: string(p.SiteCode), ExternalPhone: string(p.ExternalPhone)})
		}
	}
	return m, nil
}

// checkCode accepts a module code: a symbolic code, which also goes into
// the URL path as it is.
func checkCode(code string) error {
	if code == "" {
		return errors.New("empty")
	}
	if len(code) > 255 {
		return errors.New("longer than 255 bytes")
	}
	if strings.Trim(code, ".") == "" {
		return errors.New(`"." and ".." are not codes`)
	}
	for i := 0; i < len(code); i++ {
		switch ch := code[i]; {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9', ch == '-', ch == '_', ch == '.':
		default:
			return errors.New("want letters, digits, '-', '_' and '.' only")
		}
	}
	return nil
}

// formRequest is a POST of one form field holding JSON: name=<escaped JSON>,
// built in one buffer.
func formRequest(path, name string, js []byte) *rest.Request {
	body := make([]byte, 0, len(name)+1+len(js)+len(js)/2)
	body = append(append(body, name...), '=')
	body = appendQueryEscape(body, js)
	return &rest.Request{Method: http.MethodPost, Path: path, Body: body, ContentType: rest.ContentForm}
}

// appendQueryEscape appends s escaped as url.QueryEscape escapes it.
func appendQueryEscape(dst, s []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, ch := range s {
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9', ch == '-', ch == '_', ch == '.', ch == '~':
			dst = append(dst, ch)
		case ch == ' ':
			dst = append(dst, '+')
		default:
			dst = append(dst, '%', hex[ch>>4], hex[ch&15])
		}
	}
	return dst
}

// Supports reports whether the module asks for events of type t: its
// InputEventSupported for EventIn, OutputEventSupported for EventOut,
// HangupEventSupported for EventHangup. A bridge checks it before
// SendCallEvent; a nil Telephony supports none.
func (t *Telephony) Supports(typ EventType) bool {
	if t == nil {
		return false
	}
	switch typ {
	case EventIn:
		return t.InputEventSupported
	case EventOut:
		return t.OutputEventSupported
	case EventHangup:
		return t.HangupEventSupported
	}
	return false
}
