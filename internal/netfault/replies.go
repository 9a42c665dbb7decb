package netfault

import (
	"net/http"
	"sync"
)

// Replies is the queue behind the emulators' Fail: canned replies by
// request path, each answering one request. The zero value is ready; it is
// safe for concurrent use.
type Replies struct {
	// ContentType, when set, is the Content-Type of every reply.
	ContentType string

	mu sync.Mutex
	q  map[string][]reply // by path; "" is any path
}

type reply struct {
	status int
	body   string
}

// Add queues a reply for the next request for path ("" is any path).
func (r *Replies) Add(path string, status int, body string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.q == nil {
		r.q = map[string][]reply{}
	}
	r.q[path] = append(r.q[path], reply{status, body})
}

// Serve answers req with the next reply queued for its path, or else for
// any path, and reports whether it did.
func (r *Replies) Serve(w http.ResponseWriter, req *http.Request) bool {
	r.mu.Lock()
	var next reply
	found := false
	for _, key := range []string{req.URL.Path, ""} {
		if q := r.q[key]; len(q) > 0 {
			next, found = q[0], true
			r.q[key] = q[1:]
			break
		}
	}
	r.mu.Unlock()
	if found {
		if r.ContentType != "" {
			w.Header().Set("Content-Type", r.ContentType)
		}
		w.WriteHeader(next.status)
		_, _ = w.Write([]byte(next.body))
	}
	return found
}
