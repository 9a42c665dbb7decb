package phonet

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

const (
	pathAuthorize = "/rest/security/authorize"
	cookieName    = "JSESSIONID"
)

// session holds the JSESSIONID cookie and makes sure that one refusal leads
// to one authorize call however many requests saw it (single flight).
type session struct {
	mu     sync.Mutex
	id     string
	gen    uint64  // counts the sessions opened; a request remembers the one it used
	flight *flight // the authorize call under way, if any
}

type flight struct {
	done chan struct{}
	err  error
	// abandoned is set when the caller that ran the authorize call gave up
	// (its ctx ended): the others try again with their own contexts rather
	// than inherit its cancellation.
	abandoned bool
}

func (s *session) cookie() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// ensure opens a session if there is none and returns its generation.
func (s *session) ensure(ctx context.Context, auth func(context.Context) (string, error)) (uint64, error) {
	s.mu.Lock()
	id, gen := s.id, s.gen
	s.mu.Unlock()
	if id != "" {
		return gen, nil
	}
	if err := s.renew(ctx, gen, auth); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen, nil
}

// renew replaces session stale with a new one, unless another request did
// so already, and waits for the authorize call in flight if there is one.
func (s *session) renew(ctx context.Context, stale uint64, auth func(context.Context) (string, error)) error {
	for {
		s.mu.Lock()
		if s.gen != stale && s.id != "" {
			s.mu.Unlock()
			return nil
		}
		if f := s.flight; f != nil {
			s.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if f.abandoned && ctx.Err() == nil {
				continue
			}
			return f.err
		}
		f := &flight{done: make(chan struct{})}
		s.flight = f
		s.mu.Unlock()

		id, err := auth(ctx)
		s.mu.Lock()
		s.flight = nil
		if err == nil {
			s.id = id
			s.gen++
		}
		f.err, f.abandoned = err, ctx.Err() != nil
		s.mu.Unlock()
		close(f.done)
		return err
	}
}

// authRequest is the body of the authorize call. Both fields are sent: one
// public client sent only apiKey, the others both.
type authRequest struct {
	Domain string `json:"domain"`
	APIKey string `json:"apiKey"`
}

// authorize opens a session and returns its JSESSIONID. A 2xx without the
// cookie is a refusal too: no source shows what a wrong key gets.
func (c *Client) authorize(ctx context.Context) (string, error) {
	req, err := rest.JSONRequest(http.MethodPost, pathAuthorize, authRequest{Domain: c.domain, APIKey: c.apiKey})
	if err != nil {
		return "", err
	}
	req.Idempotency = rest.Idempotent // it only opens a session
	resp, err := c.api.Do(ctx, req)
	if err != nil {
		return "", err
	}
	if id := sessionCookie(resp.Header); id != "" {
		// A server may quote the session in free text; hide it
		// everywhere, not only where a name announces it.
		c.api.Conceal(id)
		c.media.Conceal(id)
		return id, nil
	}
	return "", resp.Error(&voip.APIError{Kind: voip.ErrUnauthorized, Message: "authorize answered without a JSESSIONID cookie"})
}

// sessionCookie returns the session that the Set-Cookie headers h open,
// or "" when they open none. A JSESSIONID with Max-Age=0 (MaxAge < 0 in
// Go) deletes a session: a server may clear the old one in the answer that
// opens the new one.
func sessionCookie(h http.Header) string {
	// http.Response.Cookies parses Set-Cookie; rest.Response has the headers only.
	for _, ck := range (&http.Response{Header: h}).Cookies() {
		if ck.Name == cookieName && ck.Value != "" && ck.MaxAge >= 0 {
			return ck.Value
		}
	}
	return ""
}

// refused reports a failure that means the session is not (or no longer)
// accepted.
func refused(err error) bool {
	return errors.Is(err, voip.ErrUnauthorized) || errors.Is(err, voip.ErrForbidden)
}
