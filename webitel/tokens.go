package webitel

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/internal/rest"
)

// Token is a user access token, the "integration token" of the seed
// article (protos webitel-go/user_access_token.proto). Token, its value,
// is set only in the answer to its creation.
type Token struct {
	ID, Token, Usage string
	User             *Lookup
	CreatedAt        time.Time
	// DisabledAt is the API's deleted_at: when the token was disabled.
	DisabledAt time.Time
}

type wireToken struct {
	ID        lenient.String `json:"id"`
	Token     lenient.String `json:"token"`
	Usage     lenient.String `json:"usage"`
	User      *wireLookup    `json:"user"`
	CreatedAt lenient.Time   `json:"created_at"`
	DeletedAt lenient.Time   `json:"deleted_at"`
}

func (w *wireToken) key() string { return string(w.ID) }

func (w *wireToken) token() (Token, error) {
	return Token{ID: string(w.ID), Token: string(w.Token), Usage: string(w.Usage), User: w.User.lookup(),
		CreatedAt: w.CreatedAt.Time, DisabledAt: w.DeletedAt.Time}, nil
}

func tokensPath(userID string) string { return "users/" + url.PathEscape(userID) + "/tokens" }

// AddUserToken makes an access token for a user (POST
// /api/users/{user_id}/tokens, body {"usage":…}). The token's value is in
// Token.Token, once: Webitel does not show it again. It is hidden from
// every later error and log line of the client.
func (c *Client) AddUserToken(ctx context.Context, userID, usage string) (*Token, error) {
	userID = strings.TrimSpace(userID)
	if userID == "" {
		return nil, argError("AddUserToken", "userID", errEmpty)
	}
	resp, err := c.do(ctx, http.MethodPost, tokensPath(userID), nil, map[string]string{"usage": usage}, rest.ByMethod)
	if err != nil {
		return nil, err
	}
	var w wireToken
	if err := decodeOne(resp, &w, "token"); err != nil {
		return nil, err
	}
	if w.Token != "" {
		c.conceal(string(w.Token))
	}
	t, _ := w.token()
	return &t, nil
}

// UserTokens iterates over a user's tokens (GET
// /api/users/{user_id}/tokens), without their values.
func (c *Client) UserTokens(ctx context.Context, userID string) iter.Seq2[Token, error] {
	userID = strings.TrimSpace(userID)
	if userID == "" {
		return failedSeq[Token](argError("UserTokens", "userID", errEmpty))
	}
	return pages(ctx, c, tokensPath(userID), nil, DefaultPageSize, (*wireToken).token)
}

// DeleteUserToken revokes a token (DELETE
// /api/users/{user_id}/tokens/{id}).
func (c *Client) DeleteUserToken(ctx context.Context, userID, tokenID string) error {
	userID, tokenID = strings.TrimSpace(userID), strings.TrimSpace(tokenID)
	if userID == "" {
		return argError("DeleteUserToken", "userID", errEmpty)
	}
	if tokenID == "" {
		return argError("DeleteUserToken", "tokenID", errEmpty)
	}
	_, err := c.do(ctx, http.MethodDelete, tokensPath(userID)+"/"+url.PathEscape(tokenID), nil, nil, rest.ByMethod)
	return err
}
