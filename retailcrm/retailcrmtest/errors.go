package retailcrmtest

import "net/http"

// fieldError is one entry of an answer's "errors": the field (a path into
// the request such as "calls[3].date", or a form field's name) and what is
// wrong with it.
type fieldError struct {
	field, msg string
}

// writeError answers {"success":false,"errorMsg":msg} with status, and
// "errors" when there are any, as an object of field → message.
func writeError(w http.ResponseWriter, status int, msg string, errs []fieldError) {
	writeJSON(w, status, envelope(msg, errs, false, nil))
}

// writeInvalid answers like writeError, in the errors form chosen with
// [Server.ErrorsAsArray].
func (s *Server) writeInvalid(w http.ResponseWriter, status int, msg string, errs []fieldError) {
	writeJSON(w, status, s.failure(msg, errs, nil))
}

// failure is the body of a refusal: success false, errorMsg, errors in the
// chosen form, and extra members (such as a partial upload's counts).
func (s *Server) failure(msg string, errs []fieldError, extra map[string]any) map[string]any {
	s.mu.Lock()
	list := s.errorsList
	s.mu.Unlock()
	return envelope(msg, errs, list, extra)
}

func envelope(msg string, errs []fieldError, list bool, extra map[string]any) map[string]any {
	body := map[string]any{"success": false, "errorMsg": msg}
	for k, v := range extra {
		body[k] = v
	}
	if len(errs) == 0 {
		return body
	}
	if list {
		texts := make([]string, len(errs))
		for i, e := range errs {
			texts[i] = e.field + ": " + e.msg
		}
		body["errors"] = texts
		return body
	}
	m := make(map[string]string, len(errs))
	for _, e := range errs {
		m[e.field] = e.msg
	}
	body["errors"] = m
	return body
}

// missingParameter is the refusal of a request without a required
// parameter, in the text api-client-go matches with its
// "Parameter '(.*)' is missing" pattern.
func missingParameter(w http.ResponseWriter, name string) {
	writeError(w, http.StatusBadRequest, "Parameter '"+name+"' is missing", nil)
}
