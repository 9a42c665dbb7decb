package webitel

import (
	"github.com/pbxkit/pbxkit/internal/lenient"
)

// Lookup is a reference to another object: {"id":"123","name":"John"}.
// Ids are int64 values, which Webitel sends as strings; they are kept as
// strings here.
type Lookup struct {
	ID, Name string
}

// Endpoint is a party of a call: Type is "user", "dest", "gateway" or
// another kind the engine names; Number is the extension of a user, the
// dialled number of a destination.
type Endpoint struct {
	Type, Number, ID, Name string
}

// wireLookup reads a Lookup: the id as a string or a number.
type wireLookup struct {
	ID   lenient.String `json:"id"`
	Name lenient.String `json:"name"`
}

func (w *wireLookup) lookup() *Lookup {
	if w == nil || (w.ID == "" && w.Name == "") {
		return nil
	}
	return &Lookup{ID: string(w.ID), Name: string(w.Name)}
}

// sendLookup writes a Lookup as the API takes it: the id as a string,
// the name only when set.
type sendLookup struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

func toSend(l *Lookup) *sendLookup {
	if l == nil {
		return nil
	}
	return &sendLookup{ID: l.ID, Name: l.Name}
}

// wireEndpoint reads an Endpoint; every field may be a string or a number.
type wireEndpoint struct {
	Type   lenient.String `json:"type"`
	Number lenient.String `json:"number"`
	ID     lenient.String `json:"id"`
	Name   lenient.String `json:"name"`
}

func (w *wireEndpoint) endpoint() *Endpoint {
	if w == nil || (w.Type == "" && w.Number == "" && w.ID == "" && w.Name == "") {
		return nil
	}
	return &Endpoint{Type: string(w.Type), Number: string(w.Number), ID: string(w.ID), Name: string(w.Name)}
}
