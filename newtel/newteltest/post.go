package newteltest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
)

// Callback POSTs {"callId": …} to the callbackLink of a placed call, as
// New-Tel does when a flash call ends or the user's call arrives in Call
// Password ID, through client (nil: http.DefaultClient). It returns an
// error for an unknown call, one without a link, or a reply other than
// 2xx.
func (s *Server) Callback(ctx context.Context, client *http.Client, callID string) error {
	s.mu.Lock()
	i := slices.IndexFunc(s.calls, func(c PlacedCall) bool { return c.CallID == callID })
	var c PlacedCall
	if i >= 0 {
		c = s.calls[i]
	}
	s.mu.Unlock()
	if i < 0 || c.CallbackLink == "" {
		return fmt.Errorf("newteltest: no call %q with a callbackLink", callID)
	}
	body, err := json.Marshal(map[string]string{"callId": callID})
	if err != nil {
		return err
	}
	return post(ctx, client, c.CallbackLink, body)
}

// post sends a JSON body and wants a 2xx reply.
func post(ctx context.Context, client *http.Client, u string, body []byte) error {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Status: resp.StatusCode, Body: string(reply)}
	}
	return nil
}

// StatusError is a reply other than 2xx to a callback or a webhook.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("newteltest: answered %d: %s", e.Status, e.Body)
}
