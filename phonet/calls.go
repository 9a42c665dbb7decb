package phonet

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

const (
	pathMakeCall    = "/rest/user/makeCall"
	pathActiveCalls = "/rest/calls/active/v3"
	pathUsers       = "/rest/users"
)

// makeCallRequest is makeCall's body.
type makeCallRequest struct {
	LegExt      string `json:"legExt"`
	OtherLegNum string `json:"otherLegNum"`
}

type makeCallResponse struct {
	UUID text `json:"uuid"`
}

// MakeCall rings the employee's extension legExt first and, when they
// answer, dials otherLegNum. It returns the new call's uuid.
//
// otherLegNum is read by voip.NormalizePhone (national numbers as
// Ukrainian ones) and sent in E.164 with its "+", as the most complete
// public client sends it; an internal number of up to six digits goes as
// typed. An empty legExt, or an otherLegNum that is not a number, is a
// *voip.ArgError (matching voip.ErrBadRequest, and voip.ErrInvalidPhone for
// the number), and nothing is sent.
//
// MakeCall places a real call, so it is sent at most once: a failure that
// leaves unknown whether Phonet acted on it matches voip.ErrAmbiguous and is
// not retried. Only a refused session (401, 403, a redirect to the login
// page) leads to a new authorize and one more try, since a refused request
// was not processed.
func (c *Client) MakeCall(ctx context.Context, legExt, otherLegNum string) (string, error) {
	return c.makeCall(ctx, "MakeCall", legExt, otherLegNum)
}

func (c *Client) makeCall(ctx context.Context, fn, legExt, otherLegNum string) (string, error) {
	legExt = strings.TrimSpace(legExt)
	if legExt == "" {
		return "", argError(fn, "ext", errors.New("empty"))
	}
	number, err := voip.NormalizePhone(otherLegNum, region)
	if err != nil {
		return "", argError(fn, "phone", err)
	}
	req, err := rest.JSONRequest(http.MethodPost, pathMakeCall, makeCallRequest{LegExt: legExt, OtherLegNum: number})
	if err != nil {
		return "", err
	}
	req.Idempotency = rest.NotIdempotent
	resp, err := c.do(ctx, req)
	if err != nil {
		return "", err
	}
	var out makeCallResponse
	if err := unmarshalObject(resp.Body, &out); err != nil {
		return "", resp.BadResponse(err) // ambiguous: Phonet took the call
	}
	return string(out.UUID), nil
}

// argError is an argument of fn refused before anything was sent.
func argError(fn, arg string, err error) error {
	return &voip.ArgError{Vendor: Vendor, Func: fn, Arg: arg, Err: err}
}

// HangupCall ends the active call uuid: GET /rest/calls/active/{uuid}/hangup,
// with the Content-Type every public client sends. Phonet answers with an
// empty body, which is not read. Hanging up twice is harmless, so it is
// retried like a read.
func (c *Client) HangupCall(ctx context.Context, uuid string) error {
	uuid = strings.TrimSpace(uuid)
	if uuid == "" {
		return argError("HangupCall", "uuid", errors.New("empty"))
	}
	_, err := c.get(ctx, "/rest/calls/active/"+url.PathEscape(uuid)+"/hangup", nil)
	return err
}

// ActiveCalls lists the calls in progress, each as an [Event] whose Type is
// the call's last event. Use it to reconcile after a socket's gap notice.
func (c *Client) ActiveCalls(ctx context.Context) ([]*Event, error) {
	resp, err := c.get(ctx, pathActiveCalls, nil)
	if err != nil {
		return nil, err
	}
	items, err := decodeList[wireEvent](resp.Body, 0)
	if err != nil {
		return nil, resp.BadResponse(err)
	}
	now := time.Now().UTC()
	out := make([]*Event, 0, len(items))
	for _, it := range items {
		if it.err != nil {
			return nil, resp.BadResponse(&DecodeError{What: "event", Err: it.err})
		}
		ev := it.w.event()
		ev.ReceivedAt, ev.Raw = now, it.raw
		out = append(out, ev)
	}
	return out, nil
}

// User is a PBX user. Ext keeps its leading zeros ("001").
type User struct {
	ID          int64
	DisplayName string
	Ext         string
	Email       string
}

type wireUser struct {
	ID          integer `json:"id"`
	DisplayName text    `json:"displayName"`
	Ext         text    `json:"ext"`
	Email       text    `json:"email"`
}

// Users lists the PBX users: the subscribers a CRM can watch.
func (c *Client) Users(ctx context.Context) ([]User, error) {
	resp, err := c.get(ctx, pathUsers, nil)
	if err != nil {
		return nil, err
	}
	items, err := decodeList[wireUser](resp.Body, 0)
	if err != nil {
		return nil, resp.BadResponse(err)
	}
	out := make([]User, 0, len(items))
	for _, it := range items {
		if it.err != nil {
			return nil, resp.BadResponse(it.err)
		}
		out = append(out, it.w.user())
	}
	return out, nil
}

// parseUser reads one item of the users list.
func parseUser(raw []byte) (User, error) {
	var w wireUser
	if err := unmarshalObject(raw, &w); err != nil {
		return User{}, err
	}
	return w.user(), nil
}

func (w *wireUser) user() User {
	return User{ID: int64(w.ID), DisplayName: string(w.DisplayName), Ext: string(w.Ext), Email: string(w.Email)}
}

// get sends a GET. Every public client sends Content-Type: application/json
// even on GET; the header is harmless and may be expected, so it is sent
// too.
func (c *Client) get(ctx context.Context, path string, query url.Values) (*rest.Response, error) {
	return c.do(ctx, &rest.Request{
		Method: http.MethodGet, Path: path, Query: query,
		Header: http.Header{"Content-Type": {rest.ContentJSON}},
	})
}
