package phonet

import (
	"mime"
	"net/url"
	"strings"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// checkAPI turns Phonet's failures into *voip.APIError. No error envelope is
// known, so the status decides and a short text body becomes the Message; a
// redirect to the login page means the session ended. A status of no class
// (101, below 100) is a response the client cannot use.
func checkAPI(resp *rest.Response) error {
	switch s := resp.StatusCode; {
	case s < 200: // 101, or below 100: neither a success nor an error
		return &voip.APIError{Kind: voip.ErrBadResponse, Message: "an answer with no meaning for the API"}
	case s >= 200 && s < 300:
		return nil
	case s >= 300 && s < 400:
		return redirectError(resp)
	}
	return &voip.APIError{Message: rest.TextMessage(resp.Body)}
}

// checkMedia is checkAPI for recordings, which must be audio: an HTML page
// served with 200 is the login page of a server that wants the session.
func checkMedia(resp *rest.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/html" {
			return &voip.APIError{Kind: voip.ErrUnauthorized, Message: "an HTML page instead of a recording (a login page?)"}
		}
		return nil
	}
	return checkAPI(resp)
}

// redirectError classifies a redirect. The API never redirects a valid
// call; a redirect toward a login or security page is the session's end,
// anything else a response the client cannot use.
func redirectError(resp *rest.Response) error {
	target := resp.Header.Get("Location")
	if u, err := url.Parse(target); err == nil {
		target = u.Path
	}
	t := strings.ToLower(target)
	if strings.Contains(t, "login") || strings.Contains(t, "security") || strings.Contains(t, "auth") || strings.Contains(t, "signin") {
		return &voip.APIError{Kind: voip.ErrUnauthorized, Message: resp.Redirected() + ": the login page, so the session has ended"}
	}
	return &voip.APIError{Kind: voip.ErrBadResponse, Message: resp.Redirected() + ": not an API answer"}
}
