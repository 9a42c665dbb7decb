package newteltest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pbxkit/pbxkit/newtel/newteltest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const ak, sk = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071", "f9e8d7c6b5a4938271605f4e3d2c1b0af9e8d7c6b5a49382"

func token(method, body string, at time.Time) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	sum := sha256.Sum256([]byte(method + "\n" + ts + "\n" + ak + "\n" + body + "\n" + sk))
	return ak + ts + hex.EncodeToString(sum[:])
}

// call POSTs a hand-signed request, the way the WebPhone article's PHP does.
func call(t *testing.T, s *newteltest.Server, method, body, auth string) (int, http.Header, map[string]any, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.BaseURL()+method, bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var env map[string]any
	require.NoError(t, json.Unmarshal(raw, &env), "%s", raw)
	return resp.StatusCode, resp.Header, env, raw
}

func TestServerChecksTokensAndSignsAnswers(t *testing.T) {
	t.Parallel()
	s := newteltest.NewServer(ak, sk)
	defer s.Close()
	now := time.Now()

	status, h, env, raw := call(t, s, "company/get-state", "{}", "Bearer "+token("company/get-state", "{}", now))
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "success", env["status"])
	sig := h.Get("Signature")
	require.Len(t, sig, 122)
	unix, err := strconv.ParseInt(sig[48:58], 10, 64)
	require.NoError(t, err)
	assert.Equal(t, token("company/get-state", string(raw), time.Unix(unix, 0)), sig, "the answer is signed over its bytes")

	for name, auth := range map[string]string{
		"missing":       "",
		"tampered body": "Bearer " + token("company/get-state", `{"x":1}`, now),
		"other method":  "Bearer " + token("company/get-states", "{}", now),
		"stale":         "Bearer " + token("company/get-state", "{}", now.Add(-time.Hour)),
		"short":         "Bearer " + ak,
	} {
		status, _, env, _ := call(t, s, "company/get-state", "{}", auth)
		assert.Equal(t, http.StatusUnauthorized, status, name)
		assert.Equal(t, "error", env["status"], name)
		assert.NotEmpty(t, env["message"], name)
	}

	body := `{"dstNumber":"79081234567","pin":"12"}`
	status, _, env, _ = call(t, s, "call-password/start-password-call", body, "Bearer "+token("call-password/start-password-call", body, now))
	assert.Equal(t, http.StatusOK, status, "a method-level error")
	assert.Equal(t, "success", env["status"])
	assert.Equal(t, "error", env["data"].(map[string]any)["result"])
	assert.Empty(t, s.Calls())
}
