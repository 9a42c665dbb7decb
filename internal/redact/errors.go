package redact

import (
	"errors"
	"net/url"
	"reflect"
)

// Error wraps err so that no secret can be read from it, whichever way the
// caller looks: its message is redacted, and so is every error reachable
// from it. Unwrap hands out the next error of the chain wrapped the same
// way, and errors.As hands out a redacted copy of the error it finds: a
// *url.Error with its URL redacted, and for other struct errors (a
// websocket.CloseError and its Reason, a *net.OpError…) a copy whose
// exported string fields are redacted and whose error fields are wrapped.
// An error that still shows a registered secret after that is not handed
// out at all. errors.Is matches exactly as on err.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	if w, ok := err.(redactedError); ok && w.redactor() == r {
		return err
	}
	if _, ok := err.(interface{ Unwrap() []error }); ok {
		return &redactedJoin{redacted{err: err, r: r}}
	}
	return &redacted{err: err, r: r}
}

// redactedError is implemented by both wrappers, so that wrapping twice
// wraps once.
type redactedError interface {
	error
	redactor() *Redactor
}

// redacted wraps an error with at most one cause.
type redacted struct {
	err error
	r   *Redactor
}

func (e *redacted) Error() string        { return e.r.String(e.err.Error()) }
func (e *redacted) Unwrap() error        { return e.r.Error(errors.Unwrap(e.err)) }
func (e *redacted) Is(target error) bool { return is(e.err, target) }
func (e *redacted) As(target any) bool   { return e.r.as(e.err, target) }
func (e *redacted) redactor() *Redactor  { return e.r }

// redactedJoin wraps an error with several causes (errors.Join, a
// %w-twice fmt.Errorf, an error listing its class and its cause).
type redactedJoin struct{ redacted }

func (e *redactedJoin) Unwrap() []error {
	causes := e.err.(interface{ Unwrap() []error }).Unwrap()
	out := make([]error, 0, len(causes))
	for _, c := range causes {
		if c != nil {
			out = append(out, e.r.Error(c))
		}
	}
	return out
}

// is reports whether err itself (not its chain, which Unwrap walks) matches
// target, as errors.Is would.
func is(err, target error) bool {
	if reflect.TypeOf(err).Comparable() && err == target {
		return true
	}
	x, ok := err.(interface{ Is(error) bool })
	return ok && x.Is(target)
}

// as is errors.As for err alone (the chain is walked through Unwrap), with
// what it finds made safe.
func (r *Redactor) as(err error, target any) bool {
	if target == nil {
		return false
	}
	dst := reflect.ValueOf(target)
	if dst.Kind() != reflect.Pointer || dst.IsNil() {
		return false
	}
	want := dst.Type().Elem()
	var found reflect.Value
	if reflect.TypeOf(err).AssignableTo(want) {
		found = reflect.ValueOf(err)
	} else {
		asser, ok := err.(interface{ As(any) bool })
		if !ok {
			return false
		}
		tmp := reflect.New(want)
		if !asser.As(tmp.Interface()) {
			return false
		}
		found = tmp.Elem()
	}
	if found.Kind() == reflect.Interface && found.IsNil() {
		return false
	}
	if e, ok := found.Interface().(error); ok {
		safe, ok := r.safeCopy(e)
		if !ok || !reflect.TypeOf(safe).AssignableTo(want) {
			return false
		}
		found = reflect.ValueOf(safe)
	}
	dst.Elem().Set(found)
	return true
}

// safeCopy returns err, or a copy of it, that shows no registered secret,
// and false when it cannot make one.
func (r *Redactor) safeCopy(err error) (error, bool) {
	if w, ok := err.(redactedError); ok && w.redactor() == r {
		return err, true
	}
	if ue, ok := err.(*url.Error); ok {
		return &url.Error{Op: ue.Op, URL: r.URLString(ue.URL), Err: r.Error(ue.Err)}, true
	}
	out := err
	v := reflect.ValueOf(err)
	switch {
	case v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct:
		c := reflect.New(v.Elem().Type())
		c.Elem().Set(v.Elem())
		r.redactFields(c.Elem())
		out, _ = c.Interface().(error)
	case v.Kind() == reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		c.Set(v)
		r.redactFields(c)
		out, _ = c.Interface().(error)
	}
	if out == nil || r.leaks(out.Error()) {
		return nil, false
	}
	return out, true
}

var errorType = reflect.TypeFor[error]()

// redactFields redacts the exported string fields of the struct v and wraps
// its exported error fields whose chain could show a secret. A leaf error
// that shows none (a sentinel such as voip.ErrNotFound) is kept as it is,
// so that comparing a field with a sentinel still works.
func (r *Redactor) redactFields(v reflect.Value) {
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		switch {
		case f.Kind() == reflect.String:
			f.SetString(r.String(f.String()))
		case f.Type() == errorType && !f.IsNil():
			e := f.Interface().(error)
			if r.needsWrap(e) {
				f.Set(reflect.ValueOf(r.Error(e)))
			}
		}
	}
}

// needsWrap reports whether e must be wrapped before it is handed out.
func (r *Redactor) needsWrap(e error) bool {
	if w, ok := e.(redactedError); ok && w.redactor() == r {
		return false
	}
	switch e.(type) {
	case interface{ Unwrap() error }, interface{ Unwrap() []error }:
		return true
	}
	return r.String(e.Error()) != e.Error()
}
