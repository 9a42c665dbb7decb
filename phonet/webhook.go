package phonet

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/voip"
)

// Webhook is one delivery from Phonet to the CRM: a call event, a
// client-card lookup (without event, with otherLegNum), or the full
// information of a finished call («Передача повної інформації про
// дзвінок»). Raw, in each, is the delivery as JSON (a form body, or a GET
// query, converted), without the URL token.
type Webhook struct {
	// Event is set for a call event; Lookup for a client-card lookup;
	// Record for a finished call. Exactly one is set.
	Event  *Event
	Lookup *LookupRequest
	// Record is a body without event that carries a history record's
	// outcome fields (endAt, disposition, billSecs or duration). No sample
	// of this delivery is known: it is read as the company.api record it
	// probably is, rather than taken for a lookup.
	Record *Record
}

// LookupRequest asks the CRM who is calling, so that Phonet can show the
// client card and route the call to the client's manager.
type LookupRequest struct {
	// OtherLegNum is the external number, as sent; empty when it is
	// hidden (null).
	OtherLegNum string
	// TrunkNum is the company number that was dialled; set for incoming
	// calls only.
	TrunkNum      string
	AccountDomain string
	Raw           json.RawMessage
}

// Card is the CRM's answer to a lookup. Empty strings are sent as null, as
// Phonet's samples show for an unknown number.
type Card struct {
	Name string
	// URL opens the client card, or the page that creates one; putting the
	// number in it is advisable.
	URL     string
	URLText string
	// NewEntity is true when the number is unknown and URL creates a client.
	NewEntity bool
	// ResponsibleEmployeeExt and ResponsibleEmployeeEmail route the call to
	// the client's manager; the email wins when both are set.
	ResponsibleEmployeeExt   string
	ResponsibleEmployeeEmail string
}

// MarshalJSON writes the reply Phonet expects:
// {name, url, urlText, newEntity, responsibleEmployeeExt, responsibleEmployeeEmail}.
func (c Card) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name                     *string `json:"name"`
		URL                      *string `json:"url"`
		URLText                  *string `json:"urlText"`
		NewEntity                bool    `json:"newEntity"`
		ResponsibleEmployeeExt   *string `json:"responsibleEmployeeExt"`
		ResponsibleEmployeeEmail *string `json:"responsibleEmployeeEmail"`
	}{nullable(c.Name), nullable(c.URL), nullable(c.URLText), c.NewEntity,
		nullable(c.ResponsibleEmployeeExt), nullable(c.ResponsibleEmployeeEmail)})
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// DefaultTokenParam is the query parameter that carries the URL token,
// unless WebhookConfig.TokenParam names another.
const DefaultTokenParam = "token"

// ParseWebhook reads one delivery from r: its body, capped at
// voip.DefaultWebhookMaxBody, JSON or form-encoded (with PHP-style nested
// keys such as leg[id]); the body decides when the Content-Type does not.
// For GET the query is the delivery, less the URL token under
// [DefaultTokenParam]. It checks no token nor address: [NewWebhookHandler]
// does, and is the way to serve Phonet. It never panics.
//
// A body that cannot be read, or that is neither an event (it has event),
// a client-card lookup (it has otherLegNum, null for a hidden number) nor a
// finished call (it has endAt, disposition, billSecs or duration), is a
// *DecodeError, which matches voip.ErrMalformed.
func ParseWebhook(r *http.Request) (*Webhook, error) {
	var body []byte
	if r.Method != http.MethodGet && r.Body != nil {
		var err error
		if body, err = io.ReadAll(http.MaxBytesReader(nil, r.Body, voip.DefaultWebhookMaxBody)); err != nil {
			return nil, &DecodeError{What: "webhook", Err: err}
		}
	}
	contentType, body := deliveryBody(r, body, DefaultTokenParam)
	return parseWebhook(contentType, body, time.Now())
}

// deliveryBody returns what a request delivers and its content type: the
// body, or for GET the query as a form, without the token parameter, so
// that the token never reaches a Raw.
func deliveryBody(r *http.Request, body []byte, tokenParam string) (string, []byte) {
	if r.Method != http.MethodGet {
		return r.Header.Get("Content-Type"), body
	}
	q := r.URL.Query()
	q.Del(tokenParam)
	return "application/x-www-form-urlencoded", []byte(q.Encode())
}

// errNoKind is a body that is none of the deliveries Phonet makes.
var errNoKind = errors.New("neither an event (event), a client-card lookup (otherLegNum) nor a finished call (endAt, disposition, billSecs or duration)")

func parseWebhook(contentType string, body []byte, now time.Time) (*Webhook, error) {
	data := bytes.TrimSpace(body)
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "application/json" && (len(data) == 0 || data[0] != '{') {
		var err error
		if data, err = formToJSON(data); err != nil {
			return nil, &DecodeError{What: "webhook", Err: err}
		}
	}
	var w wireEvent
	if err := decodeEvent(data, &w); err != nil {
		return nil, &DecodeError{What: "webhook", Err: err}
	}
	raw := json.RawMessage(data)
	if w.Event != "" {
		ev := w.event()
		ev.ReceivedAt, ev.Raw = now.UTC(), raw
		return &Webhook{Event: ev}, nil
	}
	var f kindFields
	if err := lenient.Unmarshal(data, &f); err != nil {
		return nil, &DecodeError{What: "webhook", Err: err}
	}
	switch {
	case f.record():
		r, err := ParseRecord(data)
		if err != nil {
			return nil, err
		}
		return &Webhook{Record: &r}, nil
	case len(f.OtherLegNum) > 0:
		return &Webhook{Lookup: &LookupRequest{
			OtherLegNum: string(w.OtherLegNum), TrunkNum: string(w.TrunkNum),
			AccountDomain: string(w.AccountDomain), Raw: raw,
		}}, nil
	}
	return nil, &DecodeError{What: "webhook", Err: errNoKind}
}

// kindFields are the fields that tell a body without event apart. A field
// is empty when absent and holds "null" when null.
type kindFields struct {
	OtherLegNum json.RawMessage `json:"otherLegNum"`
	EndAt       json.RawMessage `json:"endAt"`
	Disposition json.RawMessage `json:"disposition"`
	BillSecs    json.RawMessage `json:"billSecs"`
	Duration    json.RawMessage `json:"duration"`
}

// record reports whether the body is a finished call rather than a lookup:
// it has one of the outcome fields a lookup lacks, not null.
func (f *kindFields) record() bool {
	for _, v := range [][]byte{f.EndAt, f.Disposition, f.BillSecs, f.Duration} {
		if len(v) > 0 && string(v) != "null" {
			return true
		}
	}
	return false
}
