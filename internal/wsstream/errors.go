package wsstream

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/pbxkit/pbxkit/voip"
)

// The stream's sentinel errors, matched with errors.Is.
var (
	// ErrPermanent marks an error that reconnecting cannot fix (credentials
	// rejected in the vendor's own auth frame, say). Return it, wrapped,
	// from OnConnect to stop the stream; [Permanent] does the wrapping.
	ErrPermanent = errors.New("wsstream: permanent error")
	// ErrClosed is returned by Send once the stream has stopped.
	ErrClosed = errors.New("wsstream: stream closed")
	// ErrNotConnected is returned by Send while the stream reconnects.
	ErrNotConnected = errors.New("wsstream: not connected")
)

// errReadAfterConnect is returned by Conn.Read outside OnConnect.
var errReadAfterConnect = errors.New("wsstream: Conn.Read is only valid inside OnConnect")

// Permanent wraps err so that it matches [ErrPermanent] while errors.Is and
// errors.As still reach err. It returns nil for nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() []error { return []error{ErrPermanent, e.err} }

// isPermanent reports whether err stops the stream instead of causing a
// reconnect: an explicit ErrPermanent, or rejected credentials, which a
// reconnect would only present again (and hammering an auth endpoint gets
// accounts locked).
func isPermanent(err error) bool {
	return errors.Is(err, ErrPermanent) ||
		errors.Is(err, voip.ErrUnauthorized) ||
		errors.Is(err, voip.ErrForbidden)
}

// maxBodyExcerpt is how much of a failed handshake's body goes into the
// error; coder/websocket keeps at most 1024 bytes of it anyway.
const maxBodyExcerpt = 256

// dialError turns a failed dial into a *voip.APIError. The status comes from
// the handshake response, never from the error text; a dial without an
// answer matches voip.ErrUnreachable. The *url.Error that
// net/http wraps around transport failures is dropped, because it quotes the
// unredacted URL and errors.As would hand it out; the redacted URL is in
// APIError.URL instead.
func (s *Stream[T]) dialError(err error, resp *http.Response) error {
	e := &voip.APIError{Vendor: s.cfg.Vendor, Method: http.MethodGet, URL: s.url}
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		e.StatusCode = resp.StatusCode
		e.Kind = voip.StatusKind(resp.StatusCode)
		if e.Kind == nil {
			// A 2xx or 3xx is not a WebSocket upgrade either.
			e.Kind = voip.ErrBadResponse
		}
		if resp.Body != nil {
			// Read past the excerpt so that the redactor sees a secret
			// whole before the excerpt is cut.
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4*maxBodyExcerpt))
			e.Body = s.red.Excerpt(strings.ToValidUTF8(string(b), "�"), maxBodyExcerpt)
		}
		return s.red.Error(e)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	e.Kind = voip.ErrUnreachable // no handshake answer came
	e.Err = s.red.Error(err)
	return s.red.Error(e)
}
