package newtel

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// Call sends one API method and decodes the data member of the answer into
// out, a pointer (nil discards it). It is the way to reach methods this
// package has no typed wrapper for.
//
// method is the path under the base URL, as in the vendor's documents:
// "company/get-state", without slashes around it. params is the request:
// nil sends {} (as the seed article's get-state does), a []byte or
// json.RawMessage is sent as is, url.Values is sent form-urlencoded, and
// anything else is encoded as compact JSON once, so that the signed bytes
// are the sent bytes.
//
// The reads among the known methods (MethodCompanyState,
// MethodPasswordCallStatus, MethodWidgetConfig) are retried; any other
// method is taken as one that may start a call and is sent at most once
// unless the connection was never made.
func (c *Client) Call(ctx context.Context, method string, params, out any) error {
	idem := rest.NotIdempotent
	if isRead(method) {
		idem = rest.Idempotent
	}
	return c.call(ctx, method, idem, params, out)
}

// ErrMethod is matched by the error of Call for a method name that cannot
// be a New-Tel method path.
var ErrMethod = errors.New("newtel: invalid method name")

// call signs and sends one method with the given retry policy.
func (c *Client) call(ctx context.Context, method string, idem rest.Idempotency, params, out any) error {
	if err := checkMethod(method); err != nil {
		return err
	}
	body, contentType, err := encodeParams(params)
	if err != nil {
		return fmt.Errorf("newtel: %s: encode params: %w", method, err)
	}
	req := &rest.Request{Method: http.MethodPost, Path: method, Body: body, ContentType: contentType, Idempotency: idem}
	// The same constant is the URL path and the signed method name.
	sg := &signing{method: method}
	resp, err := c.rest.Do(context.WithValue(ctx, signingKey{}, sg), req)
	if err == nil {
		if t, ok := out.(typedData); ok && c.decodeFast(sg, resp, t) {
			return nil
		}
		err = c.decode(sg, resp, out)
	}
	return err
}

// encodeParams encodes the request body once: the bytes signed are the bytes
// sent.
func encodeParams(params any) ([]byte, string, error) {
	switch p := params.(type) {
	case nil:
		return []byte("{}"), rest.ContentJSON, nil
	case []byte:
		return append([]byte{}, p...), rest.ContentJSON, nil
	case json.RawMessage:
		return append([]byte{}, p...), rest.ContentJSON, nil
	case url.Values:
		return []byte(p.Encode()), rest.ContentForm, nil
	}
	body, err := rest.JSON(params)
	return body, rest.ContentJSON, err
}

// decodeFast reads the usual answer, both levels saying success, in one pass
// with data going straight into out. It reports false for anything else,
// leaving out zero for decode.
func (c *Client) decodeFast(sg *signing, resp *rest.Response, out typedData) bool {
	if !decodeTyped(resp.StatusCode, resp.Body, out) || c.checkSignature(sg, resp) != nil || out.validate() != nil {
		reflect.ValueOf(out).Elem().SetZero()
		return false
	}
	return true
}

// decodeTyped is decodeFast's reading of the body: both levels saying
// success, with data decoded into out. out is left as decoded, whatever
// the outcome.
func decodeTyped(status int, body []byte, out typedData) bool {
	if status < 200 || status > 299 {
		return false
	}
	env := struct {
		Status string `json:"status"`
		Data   any    `json:"data"`
	}{Data: out}
	// A data that ends as null leaves env.Data nil but out as an earlier
	// data filled it: that answer has no data.
	return json.Unmarshal(body, &env) == nil && env.Data == any(out) && strings.EqualFold(env.Status, success) && out.resultOK()
}

// decode reads any answer: the envelope, whose failures become errors, the
// response signature, then data into out (nil discards it).
func (c *Client) decode(sg *signing, resp *rest.Response, out any) error {
	hasData, e := checkEnvelope(resp.StatusCode, resp.Body)
	if e != nil {
		return resp.Error(e)
	}
	// Only an answer that succeeded is checked: an error's message is more
	// use to the caller than a complaint about its signature.
	if err := c.checkSignature(sg, resp); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := decodeData(resp.Body, hasData, out); err != nil {
		return resp.BadResponse(err)
	}
	return nil
}

// decodeData decodes the data member of an answer whose envelope passed
// into out; hasData is checkEnvelope's.
func decodeData(body []byte, hasData bool, out any) error {
	if !hasData {
		return errors.New(`newtel: the answer has no "data"`)
	}
	// data is decoded straight into out, in the same pass that skips the
	// rest of the envelope.
	if err := json.Unmarshal(body, &struct {
		Data any `json:"data"`
	}{Data: out}); err != nil {
		return err
	}
	if v, ok := out.(validator); ok {
		return v.validate()
	}
	return nil
}

// validator is a typed answer that checks what it decoded, such as the
// presence of a member, inside call so that a failure carries the response.
type validator interface{ validate() error }

// typedData is a typed answer that also decodes data's result member, so
// that call can read a successful answer in one pass.
type typedData interface {
	validator
	resultOK() bool
}

// resultFields is data's own status, embedded in typed answers. Its
// message is read by the full path only, on failures.
type resultFields struct {
	Result string `json:"result"`
}

func (r *resultFields) resultOK() bool { return r.Result == "" || strings.EqualFold(r.Result, success) }

// checkSignature verifies the response's Signature header. Under
// WithRequireSignature a missing or wrong one is an error. By default a
// present one is checked and a mismatch is logged at Warn but accepted:
// no public client has seen the header, so its exact form is a guess, and a
// guess must not break every call. WithoutSignatureCheck skips it.
func (c *Client) checkSignature(sg *signing, resp *rest.Response) error {
	if c.signatures == signatureIgnored {
		return nil
	}
	sig := resp.Header.Get("Signature")
	if sig == "" && c.signatures != signatureRequired {
		return nil
	}
	var err error
	if sig == "" {
		err = fmt.Errorf("%w: the response has no Signature header", ErrBadSignature)
	} else {
		err = verifyResponse(sg.method, sg.unix.Load(), resp.Body, sig, resp.Header.Get("Date"), c.accessKey, c.signKey)
	}
	switch {
	case err == nil:
		return nil
	case c.signatures == signatureRequired:
		return resp.Error(&voip.APIError{Kind: voip.ErrBadResponse, Err: err})
	}
	// The reason names what is wrong, never the signature or a key.
	c.rest.Logger().Warn("newtel: response Signature does not verify; accepted (WithRequireSignature refuses it)",
		"method", sg.method, "reason", err.Error())
	return nil
}

// checkMethod refuses what cannot be a method path, so that the signed name
// and the URL cannot differ: a stray space or slash would make New-Tel hash
// a different string than the client.
func checkMethod(m string) error {
	if m == "" || strings.HasPrefix(m, "/") || strings.HasSuffix(m, "/") || strings.Contains(m, "..") {
		return fmt.Errorf("%w %q", ErrMethod, m)
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' && c != '/' && c != '.' {
			return fmt.Errorf("%w %q", ErrMethod, m)
		}
	}
	return nil
}

// verifyResponse checks the Signature header sig of a response to method
// in either form: a token ([VerifySignature]) or the bare digest
// (bareDigestMatches). tokenUnix is the time of the request's token (0 for
// none) and date the response's Date header. A mismatch is VerifySignature's
// error, matching ErrBadSignature.
func verifyResponse(method string, tokenUnix int64, body []byte, sig, date, accessKey, signKey string) error {
	err := VerifySignature(method, body, sig, accessKey, signKey)
	if err != nil && bareDigestMatches(method, tokenUnix, body, sig, date, accessKey, signKey) {
		return nil
	}
	return err
}

// bareDigestMatches reads the other form the article's words allow for the
// Signature header: the hash part alone, 64 hex digits, of method, time,
// access key, response body and sign key. The time is then not in the
// header, so the candidates are the time of the request's token and the
// server's clock in the Date header (that second and the one before).
func bareDigestMatches(method string, tokenUnix int64, body []byte, sig, date, accessKey, signKey string) bool {
	s := strings.TrimSpace(sig)
	if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	}
	var got [sha256.Size]byte
	if len(s) != digestLen {
		return false
	}
	if _, err := hex.Decode(got[:], []byte(s)); err != nil {
		return false
	}
	times := make([]int64, 0, 3)
	if tokenUnix > 0 {
		times = append(times, tokenUnix)
	}
	if d, err := http.ParseTime(date); err == nil {
		times = append(times, d.Unix(), d.Unix()-1)
	}
	var ts [20]byte
	for _, t := range times {
		want := digest(method, strconv.AppendInt(ts[:0], t, 10), accessKey, body, signKey)
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
			return true
		}
	}
	return false
}
