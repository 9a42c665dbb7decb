package ttlset

import (
	"slices"
	"sync"
	"time"
)

// Set holds keys for a TTL after they were added, at most a limit of them. When
// it is full, expired keys go first, then the oldest half. The zero value is
// not usable; make one with New. A Set is safe for concurrent use.
type Set struct {
	ttl   time.Duration
	limit int

	mu   sync.Mutex
	keys map[string]time.Time // when each key was added
}

// New returns a Set whose keys live for ttl, holding at most limit keys.
// Non-positive values are raised to one nanosecond and one key.
func New(ttl time.Duration, limit int) *Set {
	return &Set{ttl: max(ttl, 1), limit: max(limit, 1), keys: make(map[string]time.Time)}
}

// Add records key at now.
func (s *Set) Add(key string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(key, now)
}

// Has reports whether key was added less than TTL before now.
func (s *Set) Has(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.has(key, now)
}

// Seen reports whether key was added less than TTL before now, and adds it
// if it was not: the first delivery of a webhook gets false, a duplicate
// within the window true.
func (s *Set) Seen(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.has(key, now) {
		return true
	}
	s.add(key, now)
	return false
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

func (s *Set) has(key string, now time.Time) bool {
	at, ok := s.keys[key]
	return ok && now.Sub(at) < s.ttl
}

func (s *Set) add(key string, now time.Time) {
	if _, ok := s.keys[key]; !ok && len(s.keys) >= s.limit {
		s.prune(now)
	}
	s.keys[key] = now
}

// prune drops expired keys and, if that is not enough, every key older than
// the median age, so that the work is paid once per half-fill, not per add.
func (s *Set) prune(now time.Time) {
	for k, at := range s.keys {
		if now.Sub(at) >= s.ttl {
			delete(s.keys, k)
		}
	}
	if len(s.keys) < s.limit {
		return
	}
	ages := make([]time.Duration, 0, len(s.keys))
	for _, at := range s.keys {
		ages = append(ages, now.Sub(at))
	}
	slices.Sort(ages)
	median := ages[len(ages)/2]
	for k, at := range s.keys {
		if now.Sub(at) >= median {
			delete(s.keys, k)
		}
	}
}
