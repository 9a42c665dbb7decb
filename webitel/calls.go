package webitel

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// phoneRegion reads numbers without a country code: Webitel's home market is
// Ukraine.
const phoneRegion = "UA"

// CallRequest is a click-to-call (the engine's CreateCallRequest, protos
// engine/call.proto): Webitel rings the From user's devices first (with SIP
// auto-answer unless DisableAutoAnswer) and, once that leg answers, dials
// Destination.
type CallRequest struct {
	// FromExtension is the operator to ring first, by extension: Webitel
	// takes it as from.extension, without a user lookup. FromUserID names
	// the operator by user id instead. With neither, the token's own user
	// is rung.
	FromExtension, FromUserID string
	// Destination is the number dialled once the operator answers. It is
	// sent as given, trimmed: the tenant's dialplan routes it.
	Destination string
	// Variables become call variables (usr_<key>) and come back in events.
	Variables map[string]string
	// Display sets the caller id shown to the operator.
	Display string
	// Timeout is how long the operator's leg rings; 0 leaves Webitel's
	// default.
	Timeout time.Duration
	// DisableAutoAnswer makes the operator's phone ring instead of
	// answering by itself.
	DisableAutoAnswer bool
}

type sendEndpoint struct {
	ID        string `json:"id,omitempty"`
	Extension string `json:"extension,omitempty"`
}

type sendCallParams struct {
	Timeout           int32             `json:"timeout,omitempty"`
	Variables         map[string]string `json:"variables,omitempty"`
	Display           string            `json:"display,omitempty"`
	DisableAutoAnswer bool              `json:"disable_auto_answer,omitempty"`
}

type sendCall struct {
	From        *sendEndpoint   `json:"from,omitempty"`
	Destination string          `json:"destination"`
	Params      *sendCallParams `json:"params,omitempty"`
}

// CreateCall places a click-to-call (POST /api/calls) and returns the id
// of the operator's leg. An empty Destination is a *voip.ArgError and
// nothing is sent.
//
// It is sent at most once: it is never retried once Webitel may have
// received it (only a connection that could not be made, or a 429, is
// retried). An error matching voip.ErrAmbiguous means the call may be
// ringing: the connection broke after the request left, the attempt timed
// out, Webitel answered 5xx, a 2xx answer could not be read, or ctx ended
// while the request was out. A busy operator matches voip.ErrConflict
// (id [IDBusy]).
func (c *Client) CreateCall(ctx context.Context, r CallRequest) (string, error) {
	return c.createCall(ctx, "CreateCall", r)
}

func (c *Client) createCall(ctx context.Context, fn string, r CallRequest) (string, error) {
	dest := strings.TrimSpace(r.Destination)
	if dest == "" {
		return "", argError(fn, "destination", errEmpty)
	}
	if r.Timeout < 0 {
		return "", argError(fn, "timeout", fmt.Errorf("%v is negative", r.Timeout))
	}
	body := sendCall{Destination: dest}
	if ext, id := strings.TrimSpace(r.FromExtension), strings.TrimSpace(r.FromUserID); ext != "" || id != "" {
		body.From = &sendEndpoint{ID: id, Extension: ext}
	}
	if len(r.Variables) > 0 || r.Display != "" || r.Timeout > 0 || r.DisableAutoAnswer {
		body.Params = &sendCallParams{Timeout: int32(min(r.Timeout/time.Second, 1<<31-1)), Variables: r.Variables,
			Display: r.Display, DisableAutoAnswer: r.DisableAutoAnswer}
	}
	if err := ctx.Err(); err != nil {
		return "", err // nothing was sent
	}
	resp, err := c.do(ctx, http.MethodPost, "calls", nil, body, rest.NotIdempotent)
	if err != nil {
		return "", err
	}
	var w struct {
		ID lenient.String `json:"id"`
	}
	if err := decodeOne(resp, &w); err != nil {
		return "", err // ambiguous: Webitel took the call, only its id was lost
	}
	if w.ID == "" {
		return "", resp.Error(&voip.APIError{Kind: voip.ErrBadResponse, Message: "the answer has no call id"})
	}
	return string(w.ID), nil
}

// activePath is the path of an active call's action.
func activePath(id, action string) string {
	p := "calls/active/" + url.PathEscape(id)
	if action != "" {
		p += "/" + action
	}
	return p
}

// HangupCall ends an active call (DELETE /api/calls/active/{id}, cause
// NORMAL_CLEARING). Webitel finds the call's node itself: REST needs no
// app_id (engine app/call.go). Hanging up twice is harmless, so it is
// retried like a read.
func (c *Client) HangupCall(ctx context.Context, id string) error {
	return c.callAction(ctx, "HangupCall", id, http.MethodDelete, "", map[string]string{"cause": "NORMAL_CLEARING"}, rest.ByMethod)
}

// Hold puts an active call on hold (PATCH /api/calls/active/{id}/hold).
// Repeating it is harmless, so it is retried like a read.
func (c *Client) Hold(ctx context.Context, id string) error {
	return c.callAction(ctx, "Hold", id, http.MethodPatch, "hold", struct{}{}, rest.Idempotent)
}

// Unhold resumes a held call (PATCH /api/calls/active/{id}/unhold).
func (c *Client) Unhold(ctx context.Context, id string) error {
	return c.callAction(ctx, "Unhold", id, http.MethodPatch, "unhold", struct{}{}, rest.Idempotent)
}

// BlindTransfer sends an active call to destination (PATCH
// /api/calls/active/{id}/transfer). It is not retried once Webitel may
// have received it: a failure then matches voip.ErrAmbiguous.
func (c *Client) BlindTransfer(ctx context.Context, id, destination string) error {
	destination = strings.TrimSpace(destination)
	if destination == "" {
		return argError("BlindTransfer", "destination", errEmpty)
	}
	return c.callAction(ctx, "BlindTransfer", id, http.MethodPatch, "transfer", map[string]string{"destination": destination}, rest.NotIdempotent)
}

// DTMF over REST is broken in the engine: DtmfCall sets the digit only
// when the string is longer than one character (engine grpc_api/call.go),
// so a single digit is sent as NUL. DTMF therefore sends nothing and
// returns an error matching voip.ErrNotSupported: use Stream.DTMF, the
// socket's call_dtmf, which reads the digit correctly.
func (c *Client) DTMF(ctx context.Context, callID, digit string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return notSupported("DTMF", "Webitel's REST DTMF drops a single digit (engine grpc_api/call.go DtmfCall); use Stream.DTMF")
}

// callAction sends method to an active call, or to one of its actions
// (/api/calls/active/{id}[/action]).
func (c *Client) callAction(ctx context.Context, fn, id, method, action string, body any, idem rest.Idempotency) error {
	id = strings.TrimSpace(id)
	if id == "" {
		return argError(fn, "id", errEmpty)
	}
	_, err := c.do(ctx, method, activePath(id, action), nil, body, idem)
	return err
}

// Eavesdrop is how a supervisor joins an active call (POST
// /api/calls/active/{id}/eavesdrop): the supervisor's phone is rung and
// then listens, whispers or takes part as the flags say.
type Eavesdrop struct {
	// FromUserID or FromExtension is the supervisor; with neither, the
	// token's user.
	FromUserID, FromExtension string
	Control                   bool // take part in the call
	ListenA, ListenB          bool // hear one side only
	WhisperA, WhisperB        bool // speak to one side only
}

// Eavesdrop joins a supervisor to an active call and returns the id of
// the supervisor's new leg when Webitel gives one: the engine's handler
// answers an empty CreateCallResponse (engine grpc_api/call.go
// EavesdropCall), so the id is usually "". It places a call, so it is sent
// at most once, like [Client.CreateCall].
func (c *Client) Eavesdrop(ctx context.Context, id string, e Eavesdrop) (string, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return "", argError("Eavesdrop", "id", errEmpty)
	}
	body := struct {
		Control  bool          `json:"control,omitempty"`
		ListenA  bool          `json:"listen_a,omitempty"`
		ListenB  bool          `json:"listen_b,omitempty"`
		WhisperA bool          `json:"whisper_a,omitempty"`
		WhisperB bool          `json:"whisper_b,omitempty"`
		From     *sendEndpoint `json:"from,omitempty"`
	}{Control: e.Control, ListenA: e.ListenA, ListenB: e.ListenB, WhisperA: e.WhisperA, WhisperB: e.WhisperB}
	if e.FromUserID != "" || e.FromExtension != "" {
		body.From = &sendEndpoint{ID: e.FromUserID, Extension: e.FromExtension}
	}
	resp, err := c.do(ctx, http.MethodPost, activePath(id, "eavesdrop"), nil, body, rest.NotIdempotent)
	if err != nil {
		return "", err
	}
	var w struct {
		ID lenient.String `json:"id"`
	}
	if err := decodeOne(resp, &w); err != nil {
		return "", err
	}
	return string(w.ID), nil
}

// ActiveCall is a call in progress (GET /api/calls/active).
type ActiveCall struct {
	ID, AppID, State, Direction, Destination, Extension string
	ParentID, BridgedID                                 string
	User, Gateway, Queue, Agent                         *Lookup
	From, To                                            *Endpoint
	CreatedAt, AnsweredAt, BridgedAt                    time.Time
	Duration, Hold, Wait, Bill                          time.Duration
	// Raw is the call as Webitel sent it.
	Raw json.RawMessage
}

type wireActive struct {
	ID          lenient.String `json:"id"`
	AppID       lenient.String `json:"app_id"`
	State       lenient.String `json:"state"`
	Direction   lenient.String `json:"direction"`
	Destination lenient.String `json:"destination"`
	Extension   lenient.String `json:"extension"`
	ParentID    lenient.String `json:"parent_id"`
	BridgedID   lenient.String `json:"bridged_id"`
	User        *wireLookup    `json:"user"`
	Gateway     *wireLookup    `json:"gateway"`
	Queue       *wireLookup    `json:"queue"`
	Agent       *wireLookup    `json:"agent"`
	From        *wireEndpoint  `json:"from"`
	To          *wireEndpoint  `json:"to"`
	CreatedAt   lenient.Time   `json:"created_at"`
	AnsweredAt  lenient.Time   `json:"answered_at"`
	BridgedAt   lenient.Time   `json:"bridged_at"`
	Duration    lenient.Int64  `json:"duration"`
	HoldSec     lenient.Int64  `json:"hold_sec"`
	WaitSec     lenient.Int64  `json:"wait_sec"`
	BillSec     lenient.Int64  `json:"bill_sec"`
}

// rawItem is a list element decoded with its bytes kept.
type rawItem[W any] struct {
	w   W
	raw json.RawMessage
}

func (r *rawItem[W]) UnmarshalJSON(b []byte) error {
	r.raw = append(json.RawMessage(nil), b...)
	return lenient.Unmarshal(b, &r.w)
}

// keyedActive is an active call with its bytes.
type keyedActive struct{ rawItem[wireActive] }

func (k *keyedActive) key() string { return string(k.w.ID) }

func (k *keyedActive) call() (ActiveCall, error) {
	w := &k.w
	return ActiveCall{
		ID: string(w.ID), AppID: string(w.AppID), State: string(w.State), Direction: string(w.Direction),
		Destination: string(w.Destination), Extension: string(w.Extension), ParentID: string(w.ParentID),
		BridgedID: string(w.BridgedID), User: w.User.lookup(), Gateway: w.Gateway.lookup(), Queue: w.Queue.lookup(),
		Agent: w.Agent.lookup(), From: w.From.endpoint(), To: w.To.endpoint(),
		CreatedAt: w.CreatedAt.Time, AnsweredAt: w.AnsweredAt.Time, BridgedAt: w.BridgedAt.Time,
		Duration: durationSec(w.Duration), Hold: durationSec(w.HoldSec), Wait: durationSec(w.WaitSec), Bill: durationSec(w.BillSec),
		Raw: k.raw,
	}, nil
}

// durationSec converts a count of seconds from the wire.
func durationSec(n lenient.Int64) time.Duration {
	if n <= 0 || n > lenient.Int64(1<<62/time.Second) {
		return 0
	}
	return time.Duration(n) * time.Second
}

// ActiveQuery selects active calls; every field is optional.
type ActiveQuery struct {
	// UserIDs keeps the calls of these users.
	UserIDs []string
	// SkipParent keeps top-level legs only.
	SkipParent bool
	// PageSize is the size of each request, 1..MaxPageSize; 0 is
	// DefaultPageSize.
	PageSize int
}

// ActiveCalls iterates over the calls in progress (GET /api/calls/active).
func (c *Client) ActiveCalls(ctx context.Context, q ActiveQuery) iter.Seq2[ActiveCall, error] {
	size, err := checkSize("ActiveCalls", "ActiveQuery.PageSize", q.PageSize)
	if err != nil {
		return failedSeq[ActiveCall](err)
	}
	v := url.Values{}
	for _, id := range q.UserIDs {
		v.Add("user_id", id)
	}
	if q.SkipParent {
		v.Set("skip_parent", "true")
	}
	return pages(ctx, c, "calls/active", v, size, (*keyedActive).call)
}

// File is a file of a call: a recording, or a video, screenshot or PDF.
// Type is Webitel's: "file_type_audio", "file_type_video", … (empty on
// older servers).
type File struct {
	ID, Name, MimeType, Type string
	Size                     int64
	StartAt, StopAt          time.Time
	Channel                  string
}

type wireFile struct {
	ID       lenient.String `json:"id"`
	Name     lenient.String `json:"name"`
	MimeType lenient.String `json:"mime_type"`
	Type     lenient.String `json:"type"`
	Size     lenient.Int64  `json:"size"`
	StartAt  lenient.Time   `json:"start_at"`
	StopAt   lenient.Time   `json:"stop_at"`
	Channel  lenient.String `json:"channel"`
}

func (w *wireFile) key() string { return string(w.ID) }

func (w *wireFile) file() (File, error) {
	return File{ID: string(w.ID), Name: string(w.Name), MimeType: string(w.MimeType), Type: string(w.Type),
		Size: int64(w.Size), StartAt: w.StartAt.Time, StopAt: w.StopAt.Time, Channel: string(w.Channel)}, nil
}

// CallFiles lists the files of a call (GET /api/calls/{call_id}/files):
// its recordings and other media.
func (c *Client) CallFiles(ctx context.Context, callID string) ([]File, error) {
	callID = strings.TrimSpace(callID)
	if callID == "" {
		return nil, argError("CallFiles", "callID", errEmpty)
	}
	return collectSeq(pages(ctx, c, "calls/"+url.PathEscape(callID)+"/files", nil, DefaultPageSize, (*wireFile).file))
}
