package phonet

import (
	"bytes"
	"encoding/json"
	"mime"
	"time"
)

// Webhook is one delivery from Phonet to the CRM: a call event, a
// client-card lookup (a request without event), or the full information
// of a finished call («Передача повної інформації про дзвінок»).
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
	// OtherLegNum is the external number, as sent.
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

// ParseWebhook reads one webhook body, JSON or form-encoded (with PHP-style
// nested keys such as leg[id]); the body decides when the Content-Type does
// not. It never panics; an unreadable body is a *DecodeError, which matches
// voip.ErrMalformed.
func ParseWebhook(contentType string, body []byte) (*Webhook, error) {
	return parseWebhook(contentType, body, time.Now())
}

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
	if err := unmarshalObject(data, &w); err != nil {
		return nil, &DecodeError{What: "webhook", Err: err}
	}
	raw := json.RawMessage(data)
	if w.Event == "" && looksLikeRecord(data) {
		r, err := ParseRecord(data)
		if err != nil {
			return nil, err
		}
		return &Webhook{Record: &r}, nil
	}
	if w.Event == "" {
		return &Webhook{Lookup: &LookupRequest{
			OtherLegNum: string(w.OtherLegNum), TrunkNum: string(w.TrunkNum),
			AccountDomain: string(w.AccountDomain), Raw: raw,
		}}, nil
	}
	ev := w.event()
	ev.ReceivedAt, ev.Raw = now.UTC(), raw
	return &Webhook{Event: ev}, nil
}

// recordFields are the fields of a finished call that a lookup request
// does not have.
type recordFields struct {
	EndAt       json.RawMessage `json:"endAt"`
	Disposition json.RawMessage `json:"disposition"`
	BillSecs    json.RawMessage `json:"billSecs"`
	Duration    json.RawMessage `json:"duration"`
}

// looksLikeRecord reports whether an object without event is a finished
// call rather than a lookup: it has one of recordFields, not null.
func looksLikeRecord(data []byte) bool {
	var f recordFields
	if json.Unmarshal(data, &f) != nil {
		return false
	}
	for _, v := range [][]byte{f.EndAt, f.Disposition, f.BillSecs, f.Duration} {
		if len(v) > 0 && string(v) != "null" {
			return true
		}
	}
	return false
}
