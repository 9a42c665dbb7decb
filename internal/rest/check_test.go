package rest_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

func TestCheckStatusClassifiesEveryStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		want   error
	}{
		{http.StatusOK, nil},
		{http.StatusNoContent, nil},
		{http.StatusFound, voip.ErrNotFound},
		{http.StatusUnauthorized, voip.ErrUnauthorized},
		{http.StatusTeapot, voip.ErrBadRequest},
		{http.StatusBadGateway, voip.ErrServer},
		// No class of its own: an answer no API gives.
		{http.StatusSwitchingProtocols, voip.ErrBadResponse},
		{http.StatusContinue, voip.ErrBadResponse},
		{0, voip.ErrBadResponse},
	}
	for _, tc := range cases {
		err := rest.CheckStatus(&rest.Response{StatusCode: tc.status, Header: http.Header{"Location": {"/login"}}})
		if tc.want == nil {
			require.NoError(t, err, "%d", tc.status)
			continue
		}
		var e *voip.APIError
		require.True(t, errors.As(err, &e), "%d: %v", tc.status, err)
		e.StatusCode = tc.status // as the pipeline completes it
		require.ErrorIs(t, err, tc.want, "%d", tc.status)
	}
}
