package newtel

import (
	"context"
	"errors"
	"strings"

	"github.com/pbxkit/pbxkit/voip"
)

var _ voip.Provider = (*Client)(nil)

// TestConnection reads the company state, which fails on wrong keys.
func (c *Client) TestConnection(ctx context.Context) error {
	_, err := c.CompanyState(ctx)
	return err
}

// Members is not supported: no New-Tel method that lists the PBX's users or
// extensions is known. The error matches voip.ErrNotSupported.
func (c *Client) Members(ctx context.Context) ([]voip.Member, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return nil, notSupported("no known New-Tel method lists the PBX users")
}

// GenerateCall is StartSimpleCall with ext as the source, ringing first, and
// phone as the destination. The method is unconfirmed (see the package
// documentation), and its answer may carry no call id, in which case the
// id is "". It is never retried on an ambiguous failure.
//
// An empty ext, or a phone that is not a number, is a *voip.ArgError
// (matching voip.ErrBadRequest, and voip.ErrInvalidPhone for the phone),
// and nothing is sent.
func (c *Client) GenerateCall(ctx context.Context, ext, phone string) (string, error) {
	if strings.TrimSpace(ext) == "" {
		return "", argError("GenerateCall", "ext", errors.New("empty"))
	}
	if _, err := voip.NormalizePhone(phone, "RU"); err != nil {
		return "", argError("GenerateCall", "phone", err)
	}
	d, err := c.StartSimpleCall(ctx, SimpleCallRequest{SrcNumber: ext, DstNumber: phone})
	if err != nil {
		return "", err
	}
	return d.CallID, nil
}

// CallLink returns c.RecordingURL, the callRecordLink of the PBX's *End
// webhook. No New-Tel method that finds a recording is known, so without it
// the error matches voip.ErrNotSupported. The link is a plain GET that may
// not be ready at first.
func (c *Client) CallLink(ctx context.Context, call voip.Call) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if call.RecordingURL != "" {
		return call.RecordingURL, nil
	}
	return "", notSupported("no known New-Tel method finds a recording; use the callRecordLink of the *End webhook")
}

func notSupported(msg string) error {
	return &voip.APIError{Vendor: Vendor, Kind: voip.ErrNotSupported, Message: msg}
}
