package voip

import "sync"

// phoneCacheSize bounds the results NormalizePhone keeps. A PBX's traffic
// repeats the same few hundred numbers (its own lines, the clients who
// call back); a thousand results of at most a few hundred bytes each keep
// the cache well under a megabyte, whatever the traffic.
const phoneCacheSize = 1024

// maxCachedRegion bounds the region part of a key: a real region is two
// letters, padded or not; anything longer is not worth a slot.
const maxCachedRegion = 8

// phoneResult is what NormalizePhone returned for one input.
type phoneResult struct {
	e164 string
	err  error
}

type phoneKey struct{ raw, region string }

// phoneCache holds NormalizePhone's results, failures included, so that a
// number seen before costs a map lookup rather than phonenumbers'
// validation (tens of µs for a number that is not valid, which falls to
// the library's full Parse). NormalizePhone is a pure function of its
// arguments and the library's constant metadata, so a result never goes
// stale. Bounded: when full, an arbitrary entry makes room for the new
// one. Safe for concurrent use.
type phoneCache struct {
	mu sync.Mutex
	m  map[phoneKey]phoneResult
}

// phoneResults is the one package-level cache: a bounded memo of a pure
// function, not configuration, so it holds no state a caller could see
// other than the time a call takes.
var phoneResults = &phoneCache{m: make(map[phoneKey]phoneResult, phoneCacheSize)}

// cacheable reports whether a call's arguments are small enough to keep:
// a garbage field of a megabyte must not pin a megabyte.
func cacheable(raw, region string) bool {
	return len(raw) <= 2*maxPhoneLen && len(region) <= maxCachedRegion
}

func (c *phoneCache) get(raw, region string) (phoneResult, bool) {
	c.mu.Lock()
	r, ok := c.m[phoneKey{raw, region}]
	c.mu.Unlock()
	return r, ok
}

func (c *phoneCache) put(raw, region string, r phoneResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= phoneCacheSize {
		for k := range c.m { // map order is random enough for an eviction
			delete(c.m, k)
			break
		}
	}
	c.m[phoneKey{raw, region}] = r
}
