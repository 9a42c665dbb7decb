package phonet

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// TestCheckAPIStatusWithoutClass: a final status that is neither a success,
// a redirect nor an HTTP error (101 from a confused proxy, a status below
// 100) is still an error of a class: an answer the client cannot use.
func TestCheckAPIStatusWithoutClass(t *testing.T) {
	for _, status := range []int{0, 99, 101, 199} {
		err := checkAPI(&rest.Response{StatusCode: status, Header: http.Header{}, Body: []byte("odd")})
		require.ErrorIs(t, err, voip.ErrBadResponse, "status %d", status)
	}
}
