package webitel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// ErrTwoFactor is matched by Login's error when the account has
// two-factor authentication: Webitel answers a 2FA session instead of a
// token, which this package does not complete. Use an integration token
// (Client.AddUserToken) for such an account.
var ErrTwoFactor = errors.New("webitel: two-factor authentication required")

// wireLogin reads both shapes the login answer is known in: the official
// UI reads access_token at the top level, the proto (webitel-go/auth.proto
// LoginResponse) puts it under authorization. With 2FA there is no token,
// only the 2FA session's id.
type wireLogin struct {
	AccessToken   lenient.String `json:"access_token"`
	Authorization *struct {
		AccessToken lenient.String `json:"access_token"`
	} `json:"authorization"`
	ID lenient.String `json:"id"`
}

// Login exchanges a user's domain, username and password for a session
// token (POST /api/login), to pass to [New]. The token is read at the top
// level of the answer (access_token), or else under authorization. An
// account with two-factor authentication gets no token: the error matches
// ErrTwoFactor and voip.ErrUnauthorized, and Login never returns "" without
// an error. Wrong credentials match voip.ErrUnauthorized or
// voip.ErrBadRequest, as Webitel classes them. Neither the password nor
// the token appears in an error or a log line. The options are New's; a
// failed attempt is retried like a read (a repeated login makes one more
// session, nothing else).
func Login(ctx context.Context, baseURL, domain, username, password string, opts ...Option) (string, error) {
	red := redact.New(password)
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return "", fmt.Errorf("webitel: %w", red.Error(err))
	}
	switch {
	case strings.TrimSpace(domain) == "":
		return "", argError("Login", "domain", errEmpty)
	case strings.TrimSpace(username) == "":
		return "", argError("Login", "username", errEmpty)
	case password == "":
		return "", argError("Login", "password", errEmpty)
	}
	o, err := readOptions(opts)
	if err != nil {
		return "", err
	}
	api, err := newREST(base, red, &o, rest.NoRedirects(o.httpClient), nil, checkResponse)
	if err != nil {
		return "", err
	}
	req, err := rest.JSONRequest(http.MethodPost, "login", map[string]string{
		"domain": domain, "username": username, "password": password,
	})
	if err != nil {
		return "", fmt.Errorf("webitel: encode request: %w", err)
	}
	req.Idempotency = rest.Idempotent
	resp, err := api.Do(ctx, req)
	if err != nil {
		return "", err
	}
	var w wireLogin
	if err := decodeOne(resp, &w); err != nil {
		return "", err
	}
	token := string(w.AccessToken)
	if token == "" && w.Authorization != nil {
		token = string(w.Authorization.AccessToken)
	}
	if token != "" {
		return token, nil
	}
	if w.ID != "" {
		api.Conceal(string(w.ID)) // the 2FA session stands for the password
		return "", resp.Error(&voip.APIError{Kind: voip.ErrUnauthorized, Err: ErrTwoFactor,
			Message: "the account has two-factor authentication: the answer is a 2FA session, not a token"})
	}
	return "", resp.Error(&voip.APIError{Kind: voip.ErrBadResponse, Message: "the login answer has no access_token"})
}
