package webitel

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

var _ voip.Provider = (*Client)(nil)

// UserInfo describes the session a token opens (GET /api/userinfo).
type UserInfo struct {
	UserID, DomainID, Domain, Name, Username, Extension string
}

// UserInfo reads the token's session: the user and domain it acts for.
func (c *Client) UserInfo(ctx context.Context) (*UserInfo, error) {
	resp, err := c.do(ctx, http.MethodGet, "userinfo", nil, nil, rest.ByMethod)
	if err != nil {
		return nil, err
	}
	var w struct {
		UserID    lenient.String `json:"user_id"`
		DC        lenient.String `json:"dc"`
		Domain    lenient.String `json:"domain"`
		Name      lenient.String `json:"name"`
		Username  lenient.String `json:"username"`
		Extension lenient.String `json:"extension"`
	}
	if err := decodeOne(resp, &w); err != nil {
		return nil, err
	}
	if w.UserID == "" {
		return nil, resp.Error(&voip.APIError{Kind: voip.ErrBadResponse, Message: "userinfo without user_id"})
	}
	return &UserInfo{UserID: string(w.UserID), DomainID: string(w.DC), Domain: string(w.Domain), Name: string(w.Name),
		Username: string(w.Username), Extension: string(w.Extension)}, nil
}

// TestConnection checks the base URL and the token with GET /api/userinfo,
// the official UI's session check. A refused token matches
// voip.ErrUnauthorized.
func (c *Client) TestConnection(ctx context.Context) error {
	_, err := c.UserInfo(ctx)
	return err
}

// Members lists the users that have an extension: ID is Webitel's user id,
// Ext the extension that events and history carry.
func (c *Client) Members(ctx context.Context) ([]voip.Member, error) {
	var out []voip.Member
	for u, err := range c.Users(ctx, UserQuery{}) {
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(u.Extension) == "" {
			continue
		}
		out = append(out, voip.Member{ID: u.ID, Name: u.Name, Ext: u.Extension, Email: u.Email})
	}
	return out, nil
}

// GenerateCall is [Client.CreateCall] from the operator's extension ext to
// phone: Webitel rings ext first (from.extension) and, when the operator
// answers, dials phone. An empty ext, or a phone that is not a number, is a
// *voip.ArgError (the number's matches voip.ErrInvalidPhone) and nothing
// is sent. A phone number is dialled in E.164 ("+380…"; a number without a
// country code is read as Ukrainian), an internal number as given. It is
// sent at most once; an error matching voip.ErrAmbiguous means the call
// may be ringing.
func (c *Client) GenerateCall(ctx context.Context, ext, phone string) (string, error) {
	ext = strings.TrimSpace(ext)
	if ext == "" {
		return "", argError("GenerateCall", "ext", errEmpty)
	}
	dest, err := voip.NormalizePhone(phone, phoneRegion)
	if err != nil {
		return "", argError("GenerateCall", "phone", err)
	}
	return c.createCall(ctx, "GenerateCall", CallRequest{FromExtension: ext, Destination: dest})
}

// CallLink returns the recording link of a call, without the token (see
// [Client.RecordingURL]): call.RecordingURL when set, or else the first
// audio file of the call, read from the record's Raw files when it is a
// [HistoryCall.Call] and otherwise asked for with [Client.CallFiles]. A
// call without a recording matches voip.ErrNotFound; a call without an ID
// is a *voip.ArgError.
func (c *Client) CallLink(ctx context.Context, call voip.Call) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if u := strings.TrimSpace(call.RecordingURL); u != "" {
		return u, nil
	}
	if strings.TrimSpace(call.ID) == "" {
		return "", argError("CallLink", "call", errors.New("no ID and no RecordingURL"))
	}
	var files []File
	if len(call.Raw) > 0 {
		var k keyedHistory
		if k.UnmarshalJSON(call.Raw) == nil && string(k.w.ID) == call.ID {
			for i := range k.w.Files {
				f, _ := k.w.Files[i].file()
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		var err error
		if files, err = c.CallFiles(ctx, call.ID); err != nil {
			return "", err
		}
	}
	for _, f := range files {
		if f.ID != "" && (f.Type == "" || f.Type == "file_type_audio" || strings.HasPrefix(f.MimeType, "audio/")) {
			return c.RecordingURL(f.ID), nil
		}
	}
	return "", &voip.APIError{Vendor: Vendor, Method: "CallLink", Kind: voip.ErrNotFound,
		Message: "the call " + call.ID + " has no recording"}
}
