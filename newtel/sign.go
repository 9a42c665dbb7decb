package newtel

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrBadSignature is matched by the error of a response whose Signature
// header does not verify, or is missing under [WithRequireSignature], and by
// [VerifySignature]'s errors. It never quotes the expected value.
var ErrBadSignature = errors.New("newtel: bad response signature")

// digestLen is the length of a lowercase hex SHA-256 digest.
const digestLen = sha256.Size * 2

// Sign returns the Bearer token of one request: accessKey, the Unix time t in
// seconds, and the lowercase hex SHA-256 of
//
//	method + "\n" + time + "\n" + accessKey + "\n" + body + "\n" + signKey
//
// method is the API method, which is also the URL path
// ("company/get-state"); body is the exact request body, possibly empty. The
// Authorization header is "Bearer " + the token. With 48-character keys the
// token is 122 characters long.
//
// t is read once: the token's time and the hashed time are the same string,
// which is not true of the vendor's own PHP library at a second boundary.
func Sign(method string, body []byte, t time.Time, accessKey, signKey string) string {
	return authorization(method, body, t, accessKey, signKey)[len(bearer):]
}

// bearer is the scheme of the Authorization header.
const bearer = "Bearer "

// authorization is the Authorization header of one request, "Bearer " and
// the token of [Sign], built in one allocation.
func authorization(method string, body []byte, t time.Time, accessKey, signKey string) string {
	var ts [20]byte
	unix := strconv.AppendInt(ts[:0], t.Unix(), 10)
	sum := digest(method, unix, accessKey, body, signKey)
	var b strings.Builder
	b.Grow(len(bearer) + len(accessKey) + len(unix) + digestLen)
	b.WriteString(bearer)
	b.WriteString(accessKey)
	b.Write(unix)
	var hexSum [digestLen]byte
	hex.Encode(hexSum[:], sum[:])
	b.Write(hexSum[:])
	return b.String()
}

// digest is the SHA-256 of the signed string. The parts are joined in one
// buffer, because sha256.Sum256 does not allocate where a streaming hash.Hash
// behind an interface does.
func digest(method string, unix []byte, accessKey string, body []byte, signKey string) [sha256.Size]byte {
	n := len(method) + len(unix) + len(accessKey) + len(body) + len(signKey) + 4
	var small [512]byte
	buf := small[:0]
	if n > len(small) {
		buf = make([]byte, 0, n)
	}
	buf = append(buf, method...)
	buf = append(buf, '\n')
	buf = append(buf, unix...)
	buf = append(buf, '\n')
	buf = append(buf, accessKey...)
	buf = append(buf, '\n')
	buf = append(buf, body...)
	buf = append(buf, '\n')
	buf = append(buf, signKey...)
	return sha256.Sum256(buf)
}

// VerifySignature checks the Signature header of a response to method, whose
// body is the exact response body. The seed article says the header is
// computed "like the request's token, with the response content in place of
// the parameters", so signature is read as a token: an optional "Bearer "
// prefix, accessKey, the Unix time in decimal digits, and 64 hex digits (in
// either case) of the SHA-256 of method, time, accessKey, body and signKey.
// The time is not checked against the clock: what the server's time means
// here is not known.
//
// A mismatch is an error matching [ErrBadSignature]; it says what is wrong
// with the form but never quotes the expected value. This header is not
// confirmed by any public client. The Client also accepts the other form
// the article allows, the 64 hex digits alone, whose time it takes from
// the request's token or the answer's Date header.
func VerifySignature(method string, body []byte, signature string, accessKey, signKey string) error {
	s := strings.TrimSpace(signature)
	if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	}
	if s == "" {
		return fmt.Errorf("%w: empty", ErrBadSignature)
	}
	rest, ok := strings.CutPrefix(s, accessKey)
	if !ok {
		return fmt.Errorf("%w: it does not start with the access key", ErrBadSignature)
	}
	if len(rest) <= digestLen {
		return fmt.Errorf("%w: %d characters after the access key, want a time and %d hex digits", ErrBadSignature, len(rest), digestLen)
	}
	unix, got := rest[:len(rest)-digestLen], rest[len(rest)-digestLen:]
	for i := 0; i < len(unix); i++ {
		if unix[i] < '0' || unix[i] > '9' {
			return fmt.Errorf("%w: the time is not decimal digits", ErrBadSignature)
		}
	}
	var gotSum [sha256.Size]byte
	if _, err := hex.Decode(gotSum[:], []byte(got)); err != nil {
		return fmt.Errorf("%w: the digest is not hex", ErrBadSignature)
	}
	want := digest(method, []byte(unix), accessKey, body, signKey)
	if subtle.ConstantTimeCompare(gotSum[:], want[:]) != 1 {
		return fmt.Errorf("%w: digest mismatch", ErrBadSignature)
	}
	return nil
}
