package webitel

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/internal/rest"
)

// Page sizes. The engine reads size+1 rows to tell whether there is a next
// page and caps size at 20000 (engine model/search_list.go); its own
// default is 40 and the gateway's (users, devices) 16. pbxkit asks for
// DefaultPageSize rows unless told otherwise.
const (
	DefaultPageSize = 100
	MaxPageSize     = 20000
)

// wireBool is a bool that may arrive as true, "true", 1 or null.
type wireBool bool

func (f *wireBool) UnmarshalJSON(b []byte) error {
	var s lenient.String
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	switch s {
	case "true", "1":
		*f = true
	case "false", "0", "":
		*f = false
	default:
		return fmt.Errorf("cannot read %s as a bool", s)
	}
	return nil
}

// wireList is every engine and gateway list: {"next": bool, "items": […]}.
// next is omitted when false (protojson drops false). Users, devices and
// tokens also echo page and size (tokens' size as a string); they are not
// read, since the client knows what it asked for.
type wireList[W any] struct {
	Next  wireBool `json:"next"`
	Items []W      `json:"items"`
}

// keyed is a list element with an identity, so that a page that repeats the
// one before can be told.
type keyed[W any] interface {
	*W
	key() string
}

// decodeList reads one page, pre-sized for size items.
func decodeList[W any](body []byte, size int) (wireList[W], error) {
	l := wireList[W]{Items: make([]W, 0, min(size, 1000))}
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return l, fmt.Errorf("a list answer must be a JSON object {next, items}")
	}
	err := lenient.Unmarshal(b, &l)
	return l, err
}

// pageQuery returns q with page and size set, leaving q itself alone.
func pageQuery(q url.Values, page, size int) url.Values {
	v := make(url.Values, len(q)+2)
	for k, vs := range q {
		v[k] = vs
	}
	v.Set("page", strconv.Itoa(page))
	v.Set("size", strconv.Itoa(size))
	return v
}

// pages iterates over a list endpoint, a page per request from page 1,
// converting each element with conv. It stops after a page whose next is
// false or absent, after an empty page, and after the first error, which it
// yields. A server that ignores page would serve page 1 forever: a page
// whose body, or whose first element, is the previous page's is an error
// matching voip.ErrBadResponse.
func pages[W any, PW keyed[W], T any](ctx context.Context, c *Client, path string, q url.Values, size int, conv func(*W) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		var prevBody []byte
		var prevKey string
		for page := 1; ; page++ {
			resp, err := c.api.Do(ctx, &rest.Request{Method: http.MethodGet, Path: path, Query: pageQuery(q, page, size)})
			if err != nil {
				yield(zero, err)
				return
			}
			l, err := decodeList[W](resp.Body, size)
			if err != nil {
				yield(zero, resp.BadResponse(err))
				return
			}
			if page > 1 && len(l.Items) > 0 {
				k := PW(&l.Items[0]).key()
				if bytes.Equal(resp.Body, prevBody) || (k != "" && k == prevKey) {
					yield(zero, resp.BadResponse(fmt.Errorf("page %d repeats page %d: the server ignores the page parameter", page, page-1)))
					return
				}
			}
			for i := range l.Items {
				t, err := conv(&l.Items[i])
				if err != nil {
					yield(zero, resp.BadResponse(err))
					return
				}
				if !yield(t, nil) {
					return
				}
			}
			if !l.Next || len(l.Items) == 0 {
				return
			}
			prevBody, prevKey = resp.Body, PW(&l.Items[0]).key()
		}
	}
}

// checkSize validates a PageSize field for fn: 0 is DefaultPageSize.
func checkSize(fn, arg string, size int) (int, error) {
	switch {
	case size == 0:
		return DefaultPageSize, nil
	case size < 0 || size > MaxPageSize:
		return 0, argError(fn, arg, fmt.Errorf("%d is outside 1..%d", size, MaxPageSize))
	}
	return size, nil
}

// collectSeq drains a list iterator into a slice.
func collectSeq[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for t, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// unwrapEntity returns the object a single-entity answer carries: the proto says
// some are wrapped ({"device":{…}}, {"user":{…}}, {"updated":{…}}) while
// the seed article and the admin UI read them bare (notes §2). An object
// whose only key is one of keys and holds an object is unwrapped; any
// other body is returned as it is.
func unwrapEntity(body []byte, keys ...string) []byte {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return body
	}
	var m map[string]lenientRaw
	if lenient.Unmarshal(b, &m) != nil || len(m) != 1 {
		return body
	}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			if vb := bytes.TrimSpace(v); len(vb) > 0 && vb[0] == '{' {
				return vb
			}
		}
	}
	return body
}

// lenientRaw keeps a value's bytes as they were sent.
type lenientRaw []byte

func (r *lenientRaw) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// decodeOne reads a single-entity answer into w, unwrapped from any of keys.
func decodeOne(resp *rest.Response, w any, keys ...string) error {
	if err := unmarshalEntity(unwrapEntity(resp.Body, keys...), w); err != nil {
		return resp.BadResponse(err)
	}
	return nil
}

// unmarshalEntity decodes a JSON object into w.
func unmarshalEntity(b []byte, w any) error {
	if bb := bytes.TrimSpace(b); len(bb) == 0 || bb[0] != '{' {
		return fmt.Errorf("want a JSON object")
	}
	return lenient.Unmarshal(b, w)
}

// do sends a request whose body is v encoded as JSON (nil: no body).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, v any, idem rest.Idempotency) (*rest.Response, error) {
	req := &rest.Request{Method: method, Path: path, Query: q, Idempotency: idem}
	if v != nil {
		r, err := rest.JSONRequest(method, path, v)
		if err != nil {
			return nil, fmt.Errorf("webitel: encode request: %w", err)
		}
		r.Query, r.Idempotency = q, idem
		req = r
	}
	return c.api.Do(ctx, req)
}

// entityPath is the path of one entity of a collection, such as
// "devices/7287", or the *voip.ArgError of an empty id: fn and arg name
// the method and the argument.
func entityPath(fn, arg, collection, id string) (string, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return "", argError(fn, arg, errEmpty)
	}
	return collection + "/" + url.PathEscape(id), nil
}

// onEntity sends method to one entity, with body v when not nil, and
// reads the answer with read.
func onEntity[T any](ctx context.Context, c *Client, method, fn, arg, collection, id string, v any,
	read func(*rest.Response) (T, error)) (T, error) {
	var zero T
	path, err := entityPath(fn, arg, collection, id)
	if err != nil {
		return zero, err
	}
	resp, err := c.do(ctx, method, path, nil, v, rest.ByMethod)
	if err != nil {
		return zero, err
	}
	return read(resp)
}

// ignoreAnswer is the read of a method that returns only an error.
func ignoreAnswer(*rest.Response) (struct{}, error) { return struct{}{}, nil }
