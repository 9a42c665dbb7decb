package gravitel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// The command names, spelt as live PBXs accepted them (see the package doc).
const (
	cmdAccounts           = "accounts"
	cmdGroups             = "groups"
	cmdMakeCall           = "makeCall"
	cmdHistory            = "history"
	cmdSubscribeOnCalls   = "subscribeoncalls"
	cmdSubscriptionStatus = "subscriptionStatus"
	cmdSetDND             = "set_dnd"
	cmdGetDND             = "get_dnd"
)

// Account is a PBX user.
type Account struct {
	Name     string // the login, e.g. "admin"
	RealName string // the display name, e.g. "Администратор"
	Ext      string // the extension, e.g. "701"
	Telnum   string // the direct number, if any
	Email    string
}

type accountJSON struct {
	Name     lenient.String `json:"name"`
	RealName lenient.String `json:"realName"`
	Ext      lenient.String `json:"ext"`
	Telnum   lenient.String `json:"telnum"`
	Email    lenient.String `json:"email"`
}

// Accounts lists the PBX users.
func (c *Client) Accounts(ctx context.Context) ([]Account, error) {
	return read(ctx, c, command{name: cmdAccounts, idempotency: rest.Idempotent}, parseAccounts)
}

// parseAccounts reads the answer of accounts.
func parseAccounts(body []byte) ([]Account, error) {
	var wire []accountJSON
	if err := decodeJSON(cmdAccounts, body, &wire); err != nil {
		return nil, err
	}
	out := make([]Account, len(wire))
	for i, a := range wire {
		out[i] = Account{Name: string(a.Name), RealName: string(a.RealName), Ext: string(a.Ext), Telnum: string(a.Telnum), Email: string(a.Email)}
	}
	return out, nil
}

// Group is a department of the PBX.
type Group struct {
	ID       string // e.g. "sales" or "buhgalterija_g1551011445322666863"
	RealName string
	Ext      string
}

type groupJSON struct {
	ID       lenient.String `json:"id"`
	RealName lenient.String `json:"realName"`
	Ext      lenient.String `json:"ext"`
}

// Groups lists the departments, or only user's when user is not empty.
func (c *Client) Groups(ctx context.Context, user string) ([]Group, error) {
	return read(ctx, c, command{name: cmdGroups, idempotency: rest.Idempotent}.with("user", user), parseGroups)
}

// parseGroups reads the answer of groups.
func parseGroups(body []byte) ([]Group, error) {
	var wire []groupJSON
	if err := decodeJSON(cmdGroups, body, &wire); err != nil {
		return nil, err
	}
	out := make([]Group, len(wire))
	for i, g := range wire {
		out[i] = Group{ID: string(g.ID), RealName: string(g.RealName), Ext: string(g.Ext)}
	}
	return out, nil
}

// MakeCallRequest is a click-to-call: the PBX rings User first and, when they
// pick up, dials Phone.
type MakeCallRequest struct {
	// Phone is the client's number, in any form voip.NormalizePhone reads
	// (national forms as Russian ones, the protocol's PBXs being Russian
	// first), or an internal number of up to six digits. It is sent as
	// the E.164 digits the protocol asks for, without "+" (a PBX of this
	// protocol rejected it): "+7 (916) 123-45-67" and "8 916 123-45-67"
	// both go as "79161234567". Anything else is refused before sending.
	Phone string
	// User is the employee: a login, "login@tenant", an extension or a direct
	// number.
	User string
	// CLID is the caller ID shown to the client (Gravitel only); optional.
	// It is checked and sent like Phone.
	CLID string
}

// MakeCall starts a call and returns its id, which the PBX's events and
// history later carry as callid. The id is empty when the PBX returns none.
//
// An empty User, or a Phone or CLID that is not a number, is a
// *voip.ArgError (matching voip.ErrBadRequest, and voip.ErrInvalidPhone for
// a number), and nothing is sent.
//
// MakeCall is never retried once the PBX may have received it: an error
// matching voip.ErrAmbiguous means the call may be ringing. That includes
// a ctx that ends while the request is out, and a 2xx answer that cannot be
// read (the PBX accepted the call; only its id was lost).
func (c *Client) MakeCall(ctx context.Context, req MakeCallRequest) (string, error) {
	return c.makeCall(ctx, "MakeCall", req)
}

func (c *Client) makeCall(ctx context.Context, fn string, req MakeCallRequest) (string, error) {
	user := strings.TrimSpace(req.User)
	if user == "" {
		return "", argError(fn, "user", errors.New("empty"))
	}
	phone, err := dialNumber(req.Phone)
	if err != nil {
		return "", argError(fn, "phone", err)
	}
	var clid string
	if strings.TrimSpace(req.CLID) != "" {
		if clid, err = dialNumber(req.CLID); err != nil {
			return "", argError(fn, "clid", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return "", err // nothing was sent
	}
	cmd := command{name: cmdMakeCall, idempotency: rest.NotIdempotent}.
		with("phone", phone).with("user", user).with("clid", clid)
	resp, err := c.do(ctx, cmd)
	if err != nil {
		return "", err
	}
	id, err := callID(resp.Body)
	if err != nil {
		return "", resp.BadResponse(err) // ambiguous: the PBX took the call
	}
	return id, nil
}

// dialNumber is a number for makeCall: the E.164 digits, without "+", of a
// phone number, or an internal number as typed. Anything else is an error
// matching voip.ErrInvalidPhone.
func dialNumber(s string) (string, error) {
	n, err := voip.NormalizePhone(s, region)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(n, "+"), nil
}

// argError is an argument of fn refused before anything was sent.
func argError(fn, arg string, err error) error {
	return &voip.ArgError{Vendor: Vendor, Func: fn, Arg: arg, Err: err}
}

// callID reads makeCall's answer in each shape seen: Gravitel's
// {"uuid": …}, MegaFon's {"CallID": …}, the spec's bare id (quoted or not),
// an empty body, and an object without an id. A plain OK (the PBX's word
// for success elsewhere) and null carry no id.
func callID(body []byte) (string, error) {
	b := bytes.TrimSpace(body)
	switch {
	case len(b) == 0, strings.EqualFold(string(b), "OK"), string(b) == "null":
		return "", nil
	case b[0] == '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return "", err
		}
		for _, k := range []string{"uuid", "CallID", "callid", "callID", "call_id"} {
			var v lenient.String
			if raw, ok := m[k]; ok && json.Unmarshal(raw, &v) == nil && v != "" {
				return string(v), nil
			}
		}
		return "", nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	case bytes.ContainsAny(b, " \t\r\n<>{}[]"):
		return "", errors.New("makeCall: the answer is not a call id") // APIError.Body shows it
	}
	return string(b), nil
}

// SubscribeOnCalls turns user's membership of a department's call queue on
// or off. An empty groupID changes every department of the user, including
// the one behind their personal line.
func (c *Client) SubscribeOnCalls(ctx context.Context, user string, on bool, groupID string) error {
	if strings.TrimSpace(user) == "" {
		return argError("SubscribeOnCalls", "user", errors.New("empty"))
	}
	cmd := command{name: cmdSubscribeOnCalls, idempotency: rest.Idempotent}.
		with("user", user).with("status", onOff(on)).with("group_id", groupID)
	return c.ack(ctx, cmd)
}

// SubscriptionStatus reports whether user takes the calls of groupID.
func (c *Client) SubscriptionStatus(ctx context.Context, user, groupID string) (bool, error) {
	if strings.TrimSpace(user) == "" {
		return false, argError("SubscriptionStatus", "user", errors.New("empty"))
	}
	if strings.TrimSpace(groupID) == "" {
		return false, argError("SubscriptionStatus", "groupID", errors.New("empty"))
	}
	cmd := command{name: cmdSubscriptionStatus, idempotency: rest.Idempotent}.with("user", user).with("group_id", groupID)
	return read(ctx, c, cmd, parseSubscriptionStatus)
}

// parseSubscriptionStatus reads the answer of subscriptionStatus,
// {"status":"on"}.
func parseSubscriptionStatus(body []byte) (bool, error) {
	var out struct {
		Status lenient.String `json:"status"`
	}
	if err := decodeJSON(cmdSubscriptionStatus, body, &out); err != nil {
		return false, err
	}
	return parseFlag(string(out.Status))
}

// SetDND turns user's do-not-disturb on or off.
func (c *Client) SetDND(ctx context.Context, user string, on bool) error {
	if strings.TrimSpace(user) == "" {
		return argError("SetDND", "user", errors.New("empty"))
	}
	return c.ack(ctx, command{name: cmdSetDND, idempotency: rest.Idempotent}.with("user", user).with("state", strconv.FormatBool(on)))
}

// GetDND reports whether user's do-not-disturb is on.
func (c *Client) GetDND(ctx context.Context, user string) (bool, error) {
	if strings.TrimSpace(user) == "" {
		return false, argError("GetDND", "user", errors.New("empty"))
	}
	return read(ctx, c, command{name: cmdGetDND, idempotency: rest.Idempotent}.with("user", user), parseDND)
}

// parseDND reads the answer of get_dnd, {"state":true}.
func parseDND(body []byte) (bool, error) {
	var out struct {
		State lenient.String `json:"state"`
	}
	if err := decodeJSON(cmdGetDND, body, &out); err != nil {
		return false, err
	}
	return parseFlag(string(out.State))
}

// read sends cmd and reads its answer with parse. An answer parse refuses
// is a bad response.
func read[T any](ctx context.Context, c *Client, cmd command, parse func([]byte) (T, error)) (T, error) {
	var zero T
	resp, err := c.do(ctx, cmd)
	if err != nil {
		return zero, err
	}
	v, err := parse(resp.Body)
	if err != nil {
		return zero, resp.BadResponse(err)
	}
	return v, nil
}

// decodeJSON decodes the JSON answer to the command name into v.
func decodeJSON(name string, body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("%s: empty body where JSON was due", name)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// ack sends a command whose success carries no data: Gravitel answers a
// plain OK, the spec an empty body, others {}. Anything else, such as an
// HTML page from a wrong endpoint, is a bad response.
func (c *Client) ack(ctx context.Context, cmd command) error {
	resp, err := c.do(ctx, cmd)
	if err != nil {
		return err
	}
	if err := checkAck(cmd.name, resp); err != nil {
		return resp.BadResponse(err)
	}
	return nil
}

// checkAck reads the answer of a command whose success carries no data.
func checkAck(name string, resp *rest.Response) error {
	b := bytes.TrimSpace(resp.Body)
	if len(b) == 0 || strings.EqualFold(string(b), "OK") || (resp.IsJSON() && json.Valid(b)) {
		return nil
	}
	return fmt.Errorf("%s: unexpected answer (see the body)", name)
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// parseFlag reads the PBX's on/off and true/false answers, in any case.
func parseFlag(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "on", "true", "1":
		return true, nil
	case "off", "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("unexpected state %s", excerpt(s))
}

// excerpt quotes the start of a field the PBX sent, for an error message.
// The error reaches the user through the pipeline's redactor, which also
// hides the start of a registered secret that the cut left before the "…".
func excerpt(s string) string {
	return strconv.Quote(redact.Cut(s, 64))
}
