package phonet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/pbxkit/pbxkit/internal/lenient"
)

// listKeys are the wrappers one public client guesses around a list. No
// source shows Phonet using one; they are accepted, never required.
var listKeys = []string{"items", "calls", "content", "data", "list"}

// listItem is one element of a list answer (active calls, users, a history
// page), decoded in the same pass that reads the list.
type listItem[W any] struct {
	w   W
	raw []byte // the element as sent: a slice of the body, never copied
	err error  // why the element is not a W; the rest of the list is read
}

// decodeList reads a list answer: a JSON array, or an object wrapping the
// array under one of listKeys (the first it has), and null is an empty
// list. A wrapper inside a wrapper is not read: unwrapping each level would
// read the body again, a time that grows with the square of its depth.
//
// It reads the list once, decoding each element into a W with
// encoding/json's rules as it goes and keeping its bytes, where splitting
// the list into raw elements and decoding each again would read every
// byte twice. A body that is not such a list is an error; an element that
// is not a JSON object, or not a W, is its item's err, as decoding it on
// its own would say.
//
// sizeHint is the number of elements expected (a page's limit), so that
// the result is made once; a longer list grows it.
func decodeList[W any](body []byte, sizeHint int) ([]listItem[W], error) {
	b := bytes.TrimSpace(body)
	if len(b) > 0 && b[0] == '{' {
		var wrap map[string]json.RawMessage
		if err := lenient.Unmarshal(b, &wrap); err != nil {
			return nil, err
		}
		b = nil
		for _, k := range listKeys {
			if v, ok := wrap[k]; ok {
				b = bytes.TrimSpace(v)
				break
			}
		}
		if b == nil {
			return nil, errors.New("an object where a list was expected")
		}
		if len(b) > 0 && b[0] == '{' {
			return nil, errors.New("an object where a list was expected")
		}
	}
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	dec := lenient.NewDecoder(b)
	if tok, err := dec.ReadToken(); err != nil {
		return nil, err
	} else if tok.Kind() != '[' {
		return nil, fmt.Errorf("a JSON %v where a list was expected", tok.Kind())
	}
	items := make([]listItem[W], 0, max(sizeHint, 0))
	for dec.PeekKind() != ']' {
		start := dec.InputOffset()
		// Decoded in its place in the result: an item made apart and
		// then copied in would be one allocation more for each.
		items = append(items, listItem[W]{})
		it := &items[len(items)-1]
		if err := decodeItem(dec, it); err != nil {
			return nil, err
		}
		// The bytes since the last value are the separator and the
		// element.
		it.raw = bytes.TrimLeft(b[start:dec.InputOffset()], " \t\r\n,")
	}
	if _, err := dec.ReadToken(); err != nil { // the ']'
		return nil, err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the list")
		}
		return nil, err
	}
	return items, nil
}

// decodeItem decodes the next element of a list into it. An element that
// is not a W is the item's err, and dec is moved past it; an error of the
// JSON itself is decodeItem's, and ends the list.
func decodeItem[W any](dec *jsontext.Decoder, it *listItem[W]) error {
	switch k := dec.PeekKind(); k {
	case jsontext.KindInvalid:
		_, err := dec.ReadToken() // the cached error
		return err
	case '{':
	default:
		if err := dec.SkipValue(); err != nil {
			return err
		}
		it.err = fmt.Errorf("not a JSON object: a JSON %v", k)
		return nil
	}
	depth, start := dec.StackDepth(), dec.InputOffset()
	err := lenient.UnmarshalDecode(dec, &it.w)
	if err == nil {
		return nil
	}
	var syntax *jsontext.SyntacticError
	if errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	it.err = err
	// A type error may stop before or inside the element: read on to its
	// end.
	if dec.InputOffset() == start {
		return dec.SkipValue()
	}
	for dec.StackDepth() > depth {
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
	}
	return nil
}
