package gravitel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/voip"
)

var _ voip.Provider = (*Client)(nil)

// TestConnection checks the endpoint and the token with the accounts
// command, as the ELMA365 module does.
func (c *Client) TestConnection(ctx context.Context) error {
	_, err := c.Accounts(ctx)
	return err
}

// Members lists the PBX users: ID is the login, Name the display name, or
// the login when the PBX has none (the ELMA365 module labels members by
// login), and Ext the extension that events carry.
func (c *Client) Members(ctx context.Context) ([]voip.Member, error) {
	accounts, err := c.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]voip.Member, len(accounts))
	for i, a := range accounts {
		name := a.RealName
		if name == "" {
			name = a.Name
		}
		out[i] = voip.Member{ID: a.Name, Name: name, Ext: a.Ext, Email: a.Email}
	}
	return out, nil
}

// GenerateCall is MakeCall with user ext: the PBX rings ext, then phone. An
// empty ext, or a phone that is not a number, is a *voip.ArgError and
// nothing is sent. It is never retried on an ambiguous failure.
func (c *Client) GenerateCall(ctx context.Context, ext, phone string) (string, error) {
	if strings.TrimSpace(ext) == "" {
		// Checked here to name the argument as voip.Provider does.
		return "", argError("GenerateCall", "ext", errors.New("empty"))
	}
	return c.makeCall(ctx, "GenerateCall", MakeCallRequest{User: ext, Phone: phone})
}

// historyWindow is how far around a call's start CallLink searches the
// history for it: the PBX's clock and the CRM's may differ, and the start
// in a history line is in the PBX's local time.
const historyWindow = 24 * time.Hour

// CallLink returns the recording link of c: c.RecordingURL when the history
// webhook carried it, or else the record column of c's line in the history
// around c.StartedAt. It is an error matching voip.ErrNotFound when the PBX
// has no recording of the call.
//
// A call without a RecordingURL and without the ID or the StartedAt to
// search the history by is a *voip.ArgError, and nothing is sent; it
// matches voip.ErrNotFound too, since no recording can be found for it.
func (c *Client) CallLink(ctx context.Context, call voip.Call) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if call.RecordingURL != "" {
		return call.RecordingURL, nil
	}
	if call.ID == "" || call.StartedAt.IsZero() {
		return "", argError("CallLink", "call", fmt.Errorf("no RecordingURL, and no ID and StartedAt to search the history by: %w", voip.ErrNotFound))
	}
	records, err := c.History(ctx, HistoryQuery{
		Start: call.StartedAt.Add(-historyWindow), End: call.StartedAt.Add(historyWindow),
	})
	if err != nil {
		return "", err
	}
	for _, r := range records {
		if r.UID == call.ID && r.RecordURL != "" {
			return r.RecordURL, nil
		}
	}
	return "", &voip.APIError{Vendor: Vendor, Kind: voip.ErrNotFound, Message: fmt.Sprintf("no recording of call %q in the history", call.ID)}
}
