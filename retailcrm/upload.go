package retailcrm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// CallType is a call's direction in an upload.
type CallType string

// The call types.
const (
	CallIn  CallType = "in"
	CallOut CallType = "out"
)

// CallResult is how an uploaded call ended (api-client-php
// Enum/Telephony/CallResult). Note "no answer": call events spell it
// differently (HangupNoAnswer).
type CallResult string

// The call results.
const (
	ResultAnswered   CallResult = "answered"
	ResultBusy       CallResult = "busy"
	ResultFailed     CallResult = "failed"
	ResultNoAnswer   CallResult = "no answer"
	ResultNotAllowed CallResult = "not allowed"
	ResultUnknown    CallResult = "unknown"
)

func (r CallResult) valid() bool {
	switch r {
	case ResultAnswered, ResultBusy, ResultFailed, ResultNoAnswer, ResultNotAllowed, ResultUnknown:
		return true
	}
	return false
}

// CallRecord is one finished call for the CRM's history
// (api-client-php Model/Entity/Telephony/Call).
type CallRecord struct {
	// Date is when the call started; it is written in the account's zone
	// (WithLocation). Required.
	Date time.Time
	// Type is CallIn or CallOut. Required.
	Type CallType
	// Phone is the client's number. Required.
	Phone string
	// Code is the extension of the user who took or made the call; UserID
	// the CRM user, instead or as well.
	Code   string
	UserID int64
	// Result is how the call ended; empty sends none.
	Result CallResult
	// Duration is the talk; DurationWaiting the time before an answer.
	// Both are sent in whole seconds.
	Duration, DurationWaiting time.Duration
	// ExternalID is the PBX's id of the call, which retailCRM deduplicates
	// on, and which call events give as CallExternalID. Without it a call
	// cannot be sent again safely: see UploadCalls.
	ExternalID string
	// RecordURL is where retailCRM fetches the recording (with ?clientId=).
	RecordURL string
	// ExternalPhone is the PBX's number the call came to or went from.
	ExternalPhone string
	// Site is the store code, for accounts with several.
	Site string
}

// UploadResult is what retailCRM reports of an upload.
type UploadResult struct {
	// Processed is the sum of processedCallsCount over the requests.
	Processed int
	// Duplicates are the externalIds retailCRM already had (duplicateCalls).
	Duplicates []string
}

// callWire is an uploaded call.
type callWire struct {
	Date            string `json:"date"`
	Type            string `json:"type"`
	Phone           string `json:"phone"`
	Code            string `json:"code,omitempty"`
	UserID          int64  `json:"userId,omitempty"`
	Result          string `json:"result,omitempty"`
	Duration        int64  `json:"duration"`
	DurationWaiting int64  `json:"durationWaiting"`
	ExternalID      string `json:"externalId,omitempty"`
	RecordURL       string `json:"recordUrl,omitempty"`
	ExternalPhone   string `json:"externalPhone,omitempty"`
	Site            string `json:"site,omitempty"`
}

// dateLayout is retailCRM's date-time, in the account's zone.
const dateLayout = "2006-01-02 15:04:05"

// UploadCalls stores calls in the CRM's history (POST telephony/calls/upload,
// the form field calls holding a JSON list), MaxCallsPerUpload at a time; no
// calls sends nothing.
//
// A call refused before sending (no date, phone or type, an unknown result,
// a negative duration) is not sent, and the others are. Each request is
// retried like a read, since retailCRM deduplicates on externalId; a
// request with a call without ExternalID is sent at most once instead, like
// a call event (see SendCallEvent). After a request that failed for its
// data (voip.ErrBadRequest) the next chunks are still sent; after any other
// failure (the key, the rate limit, the network, ctx) the rest are not.
//
// When some calls were not stored, UploadCalls returns the result of those
// that were together with an *UploadError naming the index of every call
// not stored; sending those again is safe. A request retailCRM answers 460
// (some calls stored, the others named by the keys of errors, such as
// "calls[3].date") fails only the calls it names; any other failed request
// fails all of its calls. Any other error is never returned.
func (c *Client) UploadCalls(ctx context.Context, calls []CallRecord) (*UploadResult, error) {
	res := &UploadResult{}
	var (
		failed []int
		errs   []error
	)
	wires := make([]callWire, 0, min(len(calls), MaxCallsPerUpload))
	index := make([]int, 0, cap(wires))
	flush := func() bool {
		if len(wires) == 0 {
			return true
		}
		defer func() { wires, index = wires[:0], index[:0] }()
		err := c.uploadChunk(ctx, wires, res)
		if err == nil {
			return true
		}
		var part *apiFailure
		if errors.As(err, &part) && part.calls != nil && part.calls[len(part.calls)-1] < len(index) {
			// Some calls of the request were stored: only the refused
			// ones failed, and the next requests go.
			res.Processed += part.stored
			for _, j := range part.calls {
				failed = append(failed, index[j])
			}
			errs = append(errs, part.APIError)
			return true
		}
		failed = append(failed, index...)
		errs = append(errs, err)
		return errors.Is(err, voip.ErrBadRequest) && !errors.Is(err, voip.ErrAmbiguous) && ctx.Err() == nil
	}
	for i := range calls {
		w, err := c.callWire(&calls[i])
		if err != nil {
			failed = append(failed, i)
			errs = append(errs, argError("UploadCalls", fmt.Sprintf("calls[%d]", i), err))
			continue
		}
		wires, index = append(wires, w), append(index, i)
		if len(wires) == MaxCallsPerUpload && !flush() {
			failed = appendRest(failed, calls, i+1)
			return res, uploadError(failed, errs)
		}
	}
	if !flush() {
		return res, uploadError(failed, errs)
	}
	if len(failed) > 0 {
		return res, uploadError(failed, errs)
	}
	return res, nil
}

// appendRest marks every call from i on as failed, in order.
func appendRest(failed []int, calls []CallRecord, from int) []int {
	for i := from; i < len(calls); i++ {
		failed = append(failed, i)
	}
	return failed
}

func uploadError(failed []int, errs []error) error {
	// Validation failures and request failures interleave: sort the
	// indexes, which were appended in two runs at most per chunk.
	slices.Sort(failed)
	err := errs[0]
	if len(errs) > 1 {
		err = errors.Join(errs...)
	}
	return &UploadError{Failed: failed, Err: err}
}

// uploadChunk sends one request of at most MaxCallsPerUpload calls and adds
// its counts to res.
func (c *Client) uploadChunk(ctx context.Context, wires []callWire, res *UploadResult) error {
	js, err := rest.JSON(wires)
	if err != nil {
		return err
	}
	req := formRequest("telephony/calls/upload", "calls", js)
	safe := true
	for i := range wires {
		if wires[i].ExternalID == "" {
			safe = false
			break
		}
	}
	var resp *rest.Response
	if safe {
		req.Idempotency = rest.Idempotent
		resp, err = c.do(ctx, req)
	} else {
		resp, err = c.doOnce(ctx, req)
	}
	if err != nil {
		return err
	}
	var r struct {
		envelope
		Processed  int  `json:"processedCallsCount"`
		Duplicates strs `json:"duplicateCalls"`
	}
	if err := c.decode(resp, &r); err != nil {
		return err
	}
	res.Processed += r.Processed
	res.Duplicates = append(res.Duplicates, r.Duplicates.plain()...)
	return nil
}

// callWire checks a call and puts it in its wire form.
func (c *Client) callWire(r *CallRecord) (callWire, error) {
	switch {
	case r.Date.IsZero():
		return callWire{}, errors.New("no date")
	case r.Type != CallIn && r.Type != CallOut:
		return callWire{}, fmt.Errorf("type %q: want %q or %q", r.Type, CallIn, CallOut)
	case strings.TrimSpace(r.Phone) == "":
		return callWire{}, errors.New("no phone")
	case r.Result != "" && !r.Result.valid():
		return callWire{}, fmt.Errorf("unknown result %q", r.Result)
	case r.Duration < 0 || r.DurationWaiting < 0:
		return callWire{}, errors.New("negative duration")
	case r.UserID < 0:
		return callWire{}, errors.New("negative userId")
	}
	var date [len(dateLayout)]byte
	return callWire{
		Date: string(r.Date.In(c.loc).AppendFormat(date[:0], dateLayout)), Type: string(r.Type),
		Phone: strings.TrimSpace(r.Phone), Code: r.Code, UserID: r.UserID, Result: string(r.Result),
		Duration: seconds(int64(r.Duration)), DurationWaiting: seconds(int64(r.DurationWaiting)),
		ExternalID: r.ExternalID, RecordURL: r.RecordURL, ExternalPhone: r.ExternalPhone, Site: r.Site,
	}, nil
}
