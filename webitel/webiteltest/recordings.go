package webiteltest

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Recording is the fake audio the storage serves for a file id: an ID3
// header and 8 KiB of frames, enough for a Range to mean something.
func Recording(fileID string) []byte {
	return []byte("ID3\x03\x00\x00\x00\x00\x00\x00recording " + fileID + "\n" + strings.Repeat("\xff\xfb\x90\x00", 2048))
}

// storage guards the storage service's plain HTTP handlers (webitel/storage
// app/authentication.go): the token in Authorization: Bearer,
// X-Webitel-Access or ?access_token=. Its errors are AppErrors too.
func (s *Server) storage(h func(http.ResponseWriter, *http.Request, *fileRec)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := r.Header.Get("X-Webitel-Access")
		if a := r.Header.Get("Authorization"); token == "" && len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
			token = strings.TrimSpace(a[7:])
		}
		if token == "" {
			token = r.URL.Query().Get("access_token")
		}
		if s.userOfToken(token) == nil {
			writeError(w, http.StatusUnauthorized, "api.context.unauthorized", "invalid or expired access token")
			return
		}
		if s.failed(w, r) {
			return
		}
		s.mu.Lock()
		f := s.files[r.PathValue("id")]
		s.mu.Unlock()
		if f == nil {
			writeError(w, http.StatusNotFound, "store.sql_file.get.app_error", "no recording "+r.PathValue("id"))
			return
		}
		h(w, r, f)
	}
}

// download sends the whole file as an attachment with its length; it
// ignores Range (the storage's stream handler is the one that serves
// parts).
func (s *Server) download(w http.ResponseWriter, r *http.Request, f *fileRec) {
	b := Recording(strconv.FormatInt(f.id, 10))
	name := f.name
	if n := r.URL.Query().Get("name"); n != "" {
		name = n
	}
	w.Header().Set("Content-Type", "audio/mpeg")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write(b)
}

// stream serves the file with Range support: 206 and Content-Range for a
// part.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, f *fileRec) {
	b := Recording(strconv.FormatInt(f.id, 10))
	w.Header().Set("Content-Type", "audio/mpeg")
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(b))
}
