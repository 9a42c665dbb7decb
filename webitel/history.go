package webitel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/voip"
)

// HistoryQuery selects finished calls (GET /api/calls/history). The engine
// refuses a search without one anchor filter (engine grpc_api/call.go,
// searchHistoryCall: created_at, stored_at, number, q, dependency_id or
// id), so one of From, Number, Q, IDs or DependencyID is required; History
// refuses a query without any with a *voip.ArgError before sending it.
type HistoryQuery struct {
	// From and To bound the calls' creation time (created_at.from and
	// created_at.to, in Unix ms); a zero To with a From is now. To without
	// From is refused.
	From, To time.Time
	// Number matches a party's number.
	Number string
	// Q is Webitel's free search.
	Q string
	// IDs are call (leg) ids; one id looks one call up without dates.
	IDs []string
	// DependencyID keeps the legs of one call.
	DependencyID string
	// UserIDs keeps the calls of these users.
	UserIDs []string
	// Directions keeps "inbound", "outbound" or "internal" calls.
	Directions []string
	// SkipParent keeps top-level legs only: one record per call.
	SkipParent bool
	// HasFile keeps calls with a recording.
	HasFile bool
	// Missed keeps missed calls.
	Missed bool
	// Sort is Webitel's sort, such as "-created_at" (newest first); empty
	// leaves the server's order.
	Sort string
	// PageSize is the size of each request, 1..MaxPageSize; 0 is
	// DefaultPageSize.
	PageSize int
}

// check validates q and fills in the defaults.
func (q HistoryQuery) check(now time.Time) (HistoryQuery, error) {
	fail := func(arg string, err error) (HistoryQuery, error) {
		return q, argError("History", "HistoryQuery."+arg, err)
	}
	if !q.From.IsZero() && q.To.IsZero() {
		q.To = now
	}
	switch {
	case q.From.IsZero() && !q.To.IsZero():
		return fail("From", errors.New("required with To"))
	case q.To.Before(q.From):
		return fail("To", fmt.Errorf("%v is before From %v", q.To, q.From))
	case q.From.IsZero() && strings.TrimSpace(q.Number) == "" && strings.TrimSpace(q.Q) == "" &&
		len(q.IDs) == 0 && strings.TrimSpace(q.DependencyID) == "":
		return fail("From", errors.New("one of From, Number, Q, IDs or DependencyID is required by the engine"))
	}
	for _, id := range q.IDs {
		if strings.TrimSpace(id) == "" {
			return fail("IDs", errors.New("an empty id"))
		}
	}
	for _, d := range q.Directions {
		if d != "inbound" && d != "outbound" && d != "internal" {
			return fail("Directions", fmt.Errorf("%q is not inbound, outbound or internal", d))
		}
	}
	size, err := checkSize("History", "HistoryQuery.PageSize", q.PageSize)
	if err != nil {
		return q, err
	}
	q.PageSize = size
	return q, nil
}

// values is the query string, in grpc-gateway's encoding: dotted names for
// nested messages, repeated keys for repeated fields.
func (q HistoryQuery) values() url.Values {
	v := url.Values{}
	if !q.From.IsZero() {
		v.Set("created_at.from", strconv.FormatInt(q.From.UnixMilli(), 10))
		v.Set("created_at.to", strconv.FormatInt(q.To.UnixMilli(), 10))
	}
	set := func(k, s string) {
		if s = strings.TrimSpace(s); s != "" {
			v.Set(k, s)
		}
	}
	set("number", q.Number)
	set("q", q.Q)
	set("dependency_id", q.DependencyID)
	set("sort", q.Sort)
	for _, id := range q.IDs {
		v.Add("id", strings.TrimSpace(id))
	}
	for _, id := range q.UserIDs {
		v.Add("user_id", id)
	}
	for _, d := range q.Directions {
		v.Add("directions", d)
	}
	if q.SkipParent {
		v.Set("skip_parent", "true")
	}
	if q.HasFile {
		v.Set("has_file", "true")
	}
	if q.Missed {
		v.Set("missed", "true")
	}
	return v
}

// HistoryCall is one leg of a finished call (the engine's HistoryCall,
// protos engine/call.proto). Times are UTC and zero when not set ("0");
// durations are whole seconds.
type HistoryCall struct {
	ID, AppID, Type, ParentID, BridgedID string
	// Direction is "inbound", "outbound" or "internal".
	Direction                   string
	Destination, Extension      string
	FromNumber, ToNumber        string
	User, Gateway, Queue, Agent *Lookup
	From, To                    *Endpoint
	CreatedAt, AnsweredAt       time.Time
	BridgedAt, HangupAt         time.Time
	StoredAt                    time.Time
	// HangupBy is "A", "B" or "F" (the flow).
	HangupBy string
	// Cause is the FreeSWITCH hangup cause, such as "NORMAL_CLEARING".
	Cause                            string
	SIPCode                          int
	Duration, Bill, Hold, Wait, Talk time.Duration
	Variables                        map[string]string
	HasChildren, Missed              bool
	// Files are the call's recordings and other media: download them with
	// [Client.DownloadRecording].
	Files []File
	// Raw is the record as Webitel sent it.
	Raw json.RawMessage
}

type wireHistory struct {
	ID          lenient.String `json:"id"`
	AppID       lenient.String `json:"app_id"`
	Type        lenient.String `json:"type"`
	ParentID    lenient.String `json:"parent_id"`
	BridgedID   lenient.String `json:"bridged_id"`
	Direction   lenient.String `json:"direction"`
	Destination lenient.String `json:"destination"`
	Extension   lenient.String `json:"extension"`
	FromNumber  lenient.String `json:"from_number"`
	ToNumber    lenient.String `json:"to_number"`
	// Values, not pointers: null, absent and {} all read as none (lookup,
	// endpoint), so a pointer would only cost an allocation each.
	User        wireLookup                `json:"user"`
	Gateway     wireLookup                `json:"gateway"`
	Queue       wireLookup                `json:"queue"`
	Agent       wireLookup                `json:"agent"`
	From        wireEndpoint              `json:"from"`
	To          wireEndpoint              `json:"to"`
	CreatedAt   lenient.Time              `json:"created_at"`
	AnsweredAt  lenient.Time              `json:"answered_at"`
	BridgedAt   lenient.Time              `json:"bridged_at"`
	HangupAt    lenient.Time              `json:"hangup_at"`
	StoredAt    lenient.Time              `json:"stored_at"`
	HangupBy    lenient.String            `json:"hangup_by"`
	Cause       lenient.String            `json:"cause"`
	SIPCode     lenient.Int64             `json:"sip_code"`
	Duration    lenient.Int64             `json:"duration"`
	BillSec     lenient.Int64             `json:"bill_sec"`
	HoldSec     lenient.Int64             `json:"hold_sec"`
	WaitSec     lenient.Int64             `json:"wait_sec"`
	TalkSec     lenient.Int64             `json:"talk_sec"`
	Variables   map[string]lenient.String `json:"variables"`
	HasChildren wireBool                  `json:"has_children"`
	Missed      wireBool                  `json:"missed"`
	Files       []wireFile                `json:"files"`
}

// keyedHistory is a history record with its bytes.
type keyedHistory struct{ rawItem[wireHistory] }

func (k *keyedHistory) key() string { return string(k.w.ID) }

func (k *keyedHistory) call() (HistoryCall, error) {
	w := &k.w
	if w.ID == "" {
		return HistoryCall{}, errors.New("a history record without an id")
	}
	h := HistoryCall{
		ID: string(w.ID), AppID: string(w.AppID), Type: string(w.Type), ParentID: string(w.ParentID),
		BridgedID: string(w.BridgedID), Direction: string(w.Direction), Destination: string(w.Destination),
		Extension: string(w.Extension), FromNumber: string(w.FromNumber), ToNumber: string(w.ToNumber),
		User: w.User.lookup(), Gateway: w.Gateway.lookup(), Queue: w.Queue.lookup(), Agent: w.Agent.lookup(),
		From: w.From.endpoint(), To: w.To.endpoint(),
		CreatedAt: w.CreatedAt.Time, AnsweredAt: w.AnsweredAt.Time, BridgedAt: w.BridgedAt.Time,
		HangupAt: w.HangupAt.Time, StoredAt: w.StoredAt.Time,
		HangupBy: string(w.HangupBy), Cause: string(w.Cause),
		Duration: durationSec(w.Duration), Bill: durationSec(w.BillSec), Hold: durationSec(w.HoldSec), Wait: durationSec(w.WaitSec),
		Talk: durationSec(w.TalkSec), HasChildren: bool(w.HasChildren), Missed: bool(w.Missed), Raw: k.raw,
	}
	if w.SIPCode > 0 && w.SIPCode < 1000 {
		h.SIPCode = int(w.SIPCode)
	}
	if len(w.Variables) > 0 {
		h.Variables = make(map[string]string, len(w.Variables))
		for key, v := range w.Variables {
			h.Variables[key] = string(v)
		}
	}
	if len(w.Files) > 0 {
		h.Files = make([]File, len(w.Files))
		for i := range w.Files {
			h.Files[i], _ = w.Files[i].file()
		}
	}
	return h, nil
}

// History iterates over finished calls, a page per request (GET
// /api/calls/history), in the server's order or q.Sort's. A query it
// refuses is a *voip.ArgError, yielded before anything is sent; the
// iteration ends after any error, which it yields. A record that cannot be
// read (no id, a field of the wrong type) is an error matching
// voip.ErrBadResponse. The query is copied when the iterator is made.
func (c *Client) History(ctx context.Context, q HistoryQuery) iter.Seq2[HistoryCall, error] {
	q, err := q.check(time.Now())
	if err != nil {
		return failedSeq[HistoryCall](err)
	}
	return pages(ctx, c, "calls/history", q.values(), q.PageSize, (*keyedHistory).call)
}

// Call returns the record in the neutral voip form. The client (the
// outside party) is the caller of an inbound call and the destination of an
// outbound or internal one, in E.164 when it reads as a phone number
// (numbers without a country code are read as Ukrainian) and as sent
// otherwise. The call counts as answered when answered_at or bridged_at is
// set; the disposition comes from [Disposition] with the cause, which is
// also RawStatus. Talk is talk_sec, or bill_sec when talk_sec is 0.
func (h HistoryCall) Call() voip.Call {
	c := voip.Call{
		ID: h.ID, Vendor: Vendor, Direction: historyDirection(h.Direction), StartedAt: h.CreatedAt,
		AnsweredAt: h.AnsweredAt, Duration: h.Duration, Talk: h.Talk, RawStatus: h.Cause, Raw: h.Raw,
	}
	if c.AnsweredAt.IsZero() {
		c.AnsweredAt = h.BridgedAt
	}
	if c.Talk == 0 {
		c.Talk = h.Bill
	}
	answered := !h.AnsweredAt.IsZero() || !h.BridgedAt.IsZero()
	c.Disposition = Disposition(h.Cause, answered)
	c.Ext = h.Extension
	var client string
	switch c.Direction {
	case voip.DirectionIn:
		client = h.FromNumber
		if h.From != nil && h.From.Number != "" {
			client = h.From.Number
		}
		if c.Ext == "" && h.To != nil && h.To.Type == "user" {
			c.Ext = h.To.Number
		}
	default:
		client = h.Destination
		if client == "" && h.To != nil {
			client = h.To.Number
		}
		if client == "" {
			client = h.ToNumber
		}
		if c.Ext == "" && h.From != nil && h.From.Type == "user" {
			c.Ext = h.From.Number
		}
	}
	c.Client = voip.Party(client, phoneRegion)
	return c
}

// historyDirection maps Webitel's direction word.
func historyDirection(s string) voip.Direction {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "inbound":
		return voip.DirectionIn
	case "outbound":
		return voip.DirectionOut
	case "internal":
		return voip.DirectionInternal
	}
	return voip.DirectionUnknown
}
