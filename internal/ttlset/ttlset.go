package ttlset

import (
	"slices"
	"sync"
	"time"
)

// Set holds keys, each with a value and its own expiry, at most a limit of
// them. When it is full, expired keys go first, then the half that expires
// soonest. The zero value is not usable; make one with New. A Set is safe for
// concurrent use.
type Set struct {
	limit int

	mu   sync.Mutex
	keys map[string]entry
}

type entry struct {
	value   string
	expires time.Time
}

// New returns a Set holding at most limit keys; a non-positive limit is
// raised to one.
func New(limit int) *Set {
	return &Set{limit: max(limit, 1), keys: make(map[string]entry)}
}

// Add stores key with value until now+ttl, unless key is held and not
// expired at now; it reports whether it stored it. A non-positive ttl is
// raised to one nanosecond.
func (s *Set) Add(key, value string, ttl time.Duration, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.get(key, now); ok {
		return false
	}
	if _, held := s.keys[key]; !held && len(s.keys) >= s.limit {
		s.prune(now)
	}
	s.keys[key] = entry{value: value, expires: now.Add(max(ttl, 1))}
	return true
}

// Get returns the value of key and true when key is held and not expired
// at now.
func (s *Set) Get(key string, now time.Time) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.get(key, now)
}

// Delete forgets key.
func (s *Set) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, key)
}

// Len returns how many keys are held, expired ones included until pruned.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

func (s *Set) get(key string, now time.Time) (string, bool) {
	e, ok := s.keys[key]
	if !ok || !now.Before(e.expires) {
		return "", false
	}
	return e.value, true
}

// prune drops expired keys and, if that is not enough, every key that
// expires no later than the median, so that the work is paid once per
// half-fill, not per add.
func (s *Set) prune(now time.Time) {
	for k, e := range s.keys {
		if !now.Before(e.expires) {
			delete(s.keys, k)
		}
	}
	if len(s.keys) < s.limit {
		return
	}
	ends := make([]time.Time, 0, len(s.keys))
	for _, e := range s.keys {
		ends = append(ends, e.expires)
	}
	slices.SortFunc(ends, time.Time.Compare)
	median := ends[len(ends)/2]
	for k, e := range s.keys {
		if !e.expires.After(median) {
			delete(s.keys, k)
		}
	}
}
