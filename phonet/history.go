package phonet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/voip"
)

// The history endpoints. They share one query and one record shape.
const (
	pathCompanyCalls = "/rest/calls/company.api"
	pathUsersCalls   = "/rest/calls/users.api"
	pathMissedCalls  = "/rest/calls/missed.api"
)

// MaxPageSize is the largest limit the history endpoints accept.
const MaxPageSize = 50

// DirectionsEncoding is how HistoryQuery.Directions is sent. Public clients
// disagree and no live capture settles it.
type DirectionsEncoding int8

const (
	// DirectionsIndexed sends directions[0]=2&directions[1]=4, as the most
	// complete public client does. The default.
	DirectionsIndexed DirectionsEncoding = iota
	// DirectionsBitmask sends one sum, directions=6.
	DirectionsBitmask
)

// HistoryQuery selects finished calls. The iterators refuse a query
// without From or with a field out of range with a *voip.ArgError, before
// anything is sent.
type HistoryQuery struct {
	// From and To bound the calls' time; From is required, a zero To is
	// now. They are sent as timeFrom and timeTo in Unix milliseconds.
	From, To time.Time
	// PageSize is the limit of each request, 1..50; 0 is 50. The iterator
	// pages by offset until a page comes back short.
	PageSize int
	// Offset is the first row to return (0-based); default 0.
	Offset int
	// Directions filters on lgDirection; empty (the default) means all.
	Directions []Direction
	// DirectionsEncoding is how Directions is sent; default
	// DirectionsIndexed.
	DirectionsEncoding DirectionsEncoding
}

// values builds the query string of one page.
func (q HistoryQuery) values(offset int) url.Values {
	v := url.Values{}
	v.Set("timeFrom", strconv.FormatInt(q.From.UnixMilli(), 10))
	v.Set("timeTo", strconv.FormatInt(q.To.UnixMilli(), 10))
	v.Set("limit", strconv.Itoa(q.PageSize))
	v.Set("offset", strconv.Itoa(offset))
	switch q.DirectionsEncoding {
	case DirectionsBitmask:
		if len(q.Directions) > 0 {
			sum := 0
			for _, d := range q.Directions {
				sum |= int(d)
			}
			v.Set("directions", strconv.Itoa(sum))
		}
	default:
		for i, d := range q.Directions {
			v.Set("directions["+strconv.Itoa(i)+"]", strconv.Itoa(int(d)))
		}
	}
	return v
}

// check validates q for the method fn and fills in the defaults. A field
// it refuses is a *voip.ArgError naming it.
func (q HistoryQuery) check(fn string, now time.Time) (HistoryQuery, error) {
	if q.To.IsZero() {
		q.To = now
	}
	if q.PageSize == 0 {
		q.PageSize = MaxPageSize
	}
	var arg string
	var err error
	switch {
	case q.From.IsZero():
		arg, err = "From", errors.New("required")
	case q.To.Before(q.From):
		arg, err = "To", fmt.Errorf("%v is before From %v", q.To, q.From)
	case q.PageSize < 0 || q.PageSize > MaxPageSize:
		arg, err = "PageSize", fmt.Errorf("%d is outside 1..%d", q.PageSize, MaxPageSize)
	case q.Offset < 0:
		arg, err = "Offset", fmt.Errorf("%d is negative", q.Offset)
	case q.DirectionsEncoding != DirectionsIndexed && q.DirectionsEncoding != DirectionsBitmask:
		arg, err = "DirectionsEncoding", fmt.Errorf("unknown encoding %d", q.DirectionsEncoding)
	default:
		q.Directions = append([]Direction(nil), q.Directions...)
		return q, nil
	}
	return q, argError(fn, "HistoryQuery."+arg, err)
}

// CompanyCalls iterates over the company's whole call history, newest
// first, a page per request. The iteration ends after an error, which it
// yields: a query it refuses is a *voip.ArgError, yielded before anything
// is sent.
func (c *Client) CompanyCalls(ctx context.Context, q HistoryQuery) iter.Seq2[Record, error] {
	return c.history(ctx, "CompanyCalls", pathCompanyCalls, q)
}

// UsersCalls iterates over the calls made by employees, like CompanyCalls.
func (c *Client) UsersCalls(ctx context.Context, q HistoryQuery) iter.Seq2[Record, error] {
	return c.history(ctx, "UsersCalls", pathUsersCalls, q)
}

// MissedCalls iterates over the missed calls, the ones to call back, like
// CompanyCalls.
func (c *Client) MissedCalls(ctx context.Context, q HistoryQuery) iter.Seq2[Record, error] {
	return c.history(ctx, "MissedCalls", pathMissedCalls, q)
}

// history pages through one endpoint for the method fn. The query is
// copied when the iterator is made, so changing it afterwards has no
// effect. An error ends the iteration after it is yielded.
func (c *Client) history(ctx context.Context, fn, path string, q HistoryQuery) iter.Seq2[Record, error] {
	q, qerr := q.check(fn, time.Now())
	return func(yield func(Record, error) bool) {
		if qerr != nil {
			yield(Record{}, qerr)
			return
		}
		// A server that ignored offset would serve the same page forever:
		// a page that starts like the one before ends the iteration.
		var prevFirst []byte
		for offset := q.Offset; ; {
			resp, err := c.get(ctx, path, q.values(offset))
			if err != nil {
				yield(Record{}, err)
				return
			}
			items, err := decodeList[wireRecord](resp.Body, q.PageSize)
			if err != nil {
				yield(Record{}, resp.BadResponse(err))
				return
			}
			if len(items) > 0 && prevFirst != nil && bytes.Equal(items[0].raw, prevFirst) {
				yield(Record{}, resp.BadResponse(fmt.Errorf("the page at offset %d repeats the previous one: offset is ignored", offset)))
				return
			}
			legs := legSlab(len(items))
			for i := range items {
				it := &items[i]
				r, err := it.w.record(it.raw, it.err, &legs)
				if err != nil {
					yield(Record{}, resp.BadResponse(err))
					return
				}
				if !yield(r, nil) {
					return
				}
			}
			if len(items) < q.PageSize {
				return
			}
			prevFirst = items[0].raw
			// A page longer than limit (a server that ignores it) moves the
			// offset past every row it gave.
			offset += len(items)
		}
	}
}

// Record is a finished call from the history.
type Record struct {
	UUID, ParentUUID string
	// EndAt is the end of the call; there is no start time on the wire.
	EndAt     time.Time
	Direction Direction
	// OtherLegNum and OtherLegName are the external party; empty on
	// internal calls.
	OtherLegNum, OtherLegName string
	Leg, Leg2                 *Leg
	// Duration runs from the dial; Talk (billSecs) from the answer.
	Duration, Talk time.Duration
	// Disposition is the outcome code; HasDisposition is false when Phonet
	// sent none.
	Disposition    Disposition
	HasDisposition bool
	// TransferHistory is free text such as "003 > 001".
	TransferHistory string
	// AudioRecURL is the recording link, trimmed; empty when there is none.
	AudioRecURL string
	// Trunk is the line as sent, such as "o=380442249895;".
	Trunk string
	Raw   json.RawMessage
}

type wireRecord struct {
	UUID         text    `json:"uuid"`
	ParentUUID   text    `json:"parentUuid"`
	EndAt        instant `json:"endAt"`
	LgDirection  integer `json:"lgDirection"`
	OtherLegNum  text    `json:"otherLegNum"`
	OtherLegName text    `json:"otherLegName"`
	// Values, not pointers: null, absent and {} all read as no leg
	// (wireLeg.leg), so a pointer would only cost an allocation each.
	Leg             wireLeg  `json:"leg"`
	Leg2            wireLeg  `json:"leg2"`
	BillSecs        integer  `json:"billSecs"`
	Duration        integer  `json:"duration"`
	Disposition     *integer `json:"disposition"`
	TransferHistory text     `json:"transferHistory"`
	AudioRecURL     text     `json:"audioRecUrl"`
	Trunk           text     `json:"trunk"`
}

// maxSeconds caps durations: a day is far beyond any call, and the cap
// keeps a garbage number from overflowing time.Duration.
const maxSeconds = 7 * 24 * 3600

// ParseRecord reads one history record. It never panics; a record that is
// not a JSON object, or has impossible field types, is a *DecodeError.
func ParseRecord(data []byte) (Record, error) {
	var w wireRecord
	return w.record(data, unmarshalObject(data, &w), nil)
}

// record is the Record that w decoded from data, or the *DecodeError of
// err, the decoding's error, or of a duration out of range. Its legs are
// taken from slab while it has room (see legSlab).
func (w *wireRecord) record(data []byte, err error, slab *[]Leg) (Record, error) {
	if err != nil {
		return Record{}, &DecodeError{What: "history record", Err: err}
	}
	if w.Duration < 0 || w.Duration > maxSeconds || w.BillSecs < 0 || w.BillSecs > maxSeconds {
		return Record{}, &DecodeError{What: "history record", Err: fmt.Errorf("duration %d or billSecs %d out of range", w.Duration, w.BillSecs)}
	}
	r := Record{
		UUID: string(w.UUID), ParentUUID: string(w.ParentUUID), EndAt: w.EndAt.Time,
		Direction: Direction(w.LgDirection), OtherLegNum: string(w.OtherLegNum), OtherLegName: string(w.OtherLegName),
		Leg: w.Leg.legIn(slab), Leg2: w.Leg2.legIn(slab),
		Duration: time.Duration(w.Duration) * time.Second, Talk: time.Duration(w.BillSecs) * time.Second,
		TransferHistory: string(w.TransferHistory), AudioRecURL: string(w.AudioRecURL), Trunk: string(w.Trunk),
		Raw: data,
	}
	if w.Disposition != nil {
		r.Disposition, r.HasDisposition = Disposition(*w.Disposition), true
	}
	return r, nil
}

// Line returns the company number of the trunk field ("o=380442249895;"
// reads 380442249895), or "" when there is none. The field's format is not
// documented: it is read as name=value pairs separated by ";", and the
// first value is the line, so that further pairs do not stick to it.
func (r Record) Line() string {
	for _, part := range strings.Split(r.Trunk, ";") {
		if _, v, ok := strings.Cut(part, "="); ok {
			part = v
		}
		if v := strings.TrimSpace(part); v != "" {
			return v
		}
	}
	return ""
}

// Call returns the record as a voip.Call. StartedAt is EndAt minus Duration
// (Phonet sends no start); AnsweredAt is EndAt minus Talk when there was
// a talk. ID is the uuid as [NormalizeUUID] gives it; RawStatus is the
// disposition code.
func (r Record) Call() voip.Call {
	c := voip.Call{
		ID: NormalizeUUID(r.UUID), Vendor: Vendor, Direction: r.Direction.Voip(),
		Client: phone(r.OtherLegNum), Line: phone(r.Line()),
		Duration: r.Duration, Talk: r.Talk, RecordingURL: r.AudioRecURL, Raw: r.Raw,
	}
	if r.Leg != nil {
		c.Ext = r.Leg.Ext
	}
	if !r.EndAt.IsZero() {
		c.StartedAt = r.EndAt.Add(-r.Duration)
		if r.Talk > 0 {
			c.AnsweredAt = r.EndAt.Add(-r.Talk)
		}
	}
	if r.HasDisposition {
		c.Disposition, c.RawStatus = r.Disposition.Voip(), strconv.Itoa(int(r.Disposition))
	}
	return c
}
