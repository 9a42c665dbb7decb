package voip_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/pbxkit/pbxkit/voip"
)

// Errors from every vendor package are matched the same way.
func ExampleAPIError() {
	var err error = &voip.APIError{Vendor: "gravitel", Method: "POST", StatusCode: 200, Message: "Invalid token", Kind: voip.ErrUnauthorized}

	var apiErr *voip.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("vendor said:", apiErr.Message)
	}
	fmt.Println("unauthorized:", errors.Is(err, voip.ErrUnauthorized))
	fmt.Println("retry later:", errors.Is(err, voip.ErrRateLimited))
	// Output:
	// vendor said: Invalid token
	// unauthorized: true
	// retry later: false
}

// A vendor builds its webhook handler on Webhook; the guards come free.
func ExampleWebhook() {
	h := &voip.Webhook{
		Serve: func(w http.ResponseWriter, r *http.Request, body []byte) error {
			if r.URL.Query().Get("token") != "expected" {
				return voip.ErrUnverified // 401 {"error":"unauthorized"}
			}
			fmt.Printf("got %d bytes\n", len(body))
			return nil // an empty 200
		},
	}
	http.Handle("/pbx/events", h)
}
