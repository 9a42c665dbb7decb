package phonet

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/pbxkit/pbxkit/voip"
)

var _ voip.Provider = (*Client)(nil)

// TestConnection opens a new session: it checks the domain and the apiKey.
func (c *Client) TestConnection(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.sess.mu.Lock()
	gen := c.sess.gen
	c.sess.mu.Unlock()
	return c.sess.renew(ctx, gen, c.authorize)
}

// Members lists the PBX users: ID is Phonet's user id, Ext the extension
// events carry.
func (c *Client) Members(ctx context.Context) ([]voip.Member, error) {
	users, err := c.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]voip.Member, len(users))
	for i, u := range users {
		out[i] = voip.Member{ID: strconv.FormatInt(u.ID, 10), Name: u.DisplayName, Ext: u.Ext, Email: u.Email}
	}
	return out, nil
}

// GenerateCall is MakeCall: Phonet rings ext, then phone. An empty ext, or a
// phone that is not a number, is a *voip.ArgError and nothing is sent. It is
// never retried on an ambiguous failure.
func (c *Client) GenerateCall(ctx context.Context, ext, phone string) (string, error) {
	return c.makeCall(ctx, "GenerateCall", ext, phone)
}

// CallLink returns the recording link of call: its RecordingURL (history's
// audioRecUrl, trimmed) when set, or else [Client.RecordingURL] of its ID,
// which writes the plain uuid of events in the history's dashed form. The
// link is not checked; [Client.DownloadRecording] fetches it. A call with
// neither is a *voip.ArgError.
func (c *Client) CallLink(ctx context.Context, call voip.Call) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if u := strings.TrimSpace(call.RecordingURL); u != "" {
		return u, nil
	}
	if strings.TrimSpace(call.ID) == "" {
		return "", argError("CallLink", "call", fmt.Errorf("no RecordingURL and no ID to build the link from: %w", voip.ErrNotFound))
	}
	return c.RecordingURL(call.ID, ChannelMixed), nil
}
