package phonet

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pbxkit/pbxkit/voip"
)

// TestPhoneFastPathAgrees checks the fast path against voip.NormalizePhone
// on the numbers of the protocol's samples and on the usual Ukrainian
// shapes.
func TestPhoneFastPathAgrees(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"+380442246595", "380442246595", "+380567777777", "567850550", "0931234567", "380991234567",
		"+380993034330", "0442249895", "442249895", "501234567", "+380000000000",
	} {
		want, err := voip.NormalizePhone(in, region)
		if err != nil {
			want = in
		}
		assert.Equal(t, want, phone(in), in)
	}
	for _, in := range []string{"001", "911", "", " ", "anonymous", "+79121234567", "0012345678", "+0931234567"} {
		want, err := voip.NormalizePhone(in, region)
		if err != nil {
			want = in
		}
		if in == " " {
			want = ""
		}
		assert.Equal(t, want, phone(in), in)
	}
}
