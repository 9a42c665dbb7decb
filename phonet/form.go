package phonet

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// maxFormDepth caps the nesting of PHP-style keys (a[b][c]): Phonet's
// deepest is otherLegs[0][num].
const maxFormDepth = 4

// maxFormIndex caps list indexes in keys, so that otherLegs[99999999][num]
// cannot make a huge list.
const maxFormIndex = 100

// formToJSON turns a form body with PHP-style nested keys (leg[id]=36,
// otherLegs[0][num]=…) into the JSON object the event decoder reads, so
// that form and JSON webhooks share one decoder. Empty values become null:
// a form cannot say null, and "" is how PHP sends it.
func formToJSON(body []byte) ([]byte, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("form body: %w", err)
	}
	root := map[string]any{}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic when keys collide
	for _, k := range keys {
		path, err := splitKey(k)
		if err != nil {
			return nil, err
		}
		v := vals[k]
		var leaf any
		if s := v[len(v)-1]; s != "" {
			leaf = s
		}
		if err := setPath(root, path, leaf); err != nil {
			return nil, fmt.Errorf("form key %q: %w", k, err)
		}
	}
	return json.Marshal(listify(root))
}

// splitKey splits "otherLegs[0][num]" into otherLegs, 0, num.
func splitKey(k string) ([]string, error) {
	i := strings.IndexByte(k, '[')
	if i < 0 {
		return []string{k}, nil
	}
	path := []string{k[:i]}
	rest := k[i:]
	for rest != "" {
		if rest[0] != '[' {
			return nil, fmt.Errorf("form key %q: text after a bracket", k)
		}
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return nil, fmt.Errorf("form key %q: unclosed bracket", k)
		}
		path = append(path, rest[1:j])
		rest = rest[j+1:]
		if len(path) > maxFormDepth {
			return nil, fmt.Errorf("form key %q: nested deeper than %d", k, maxFormDepth)
		}
	}
	return path, nil
}

// setPath stores v at path in m; intermediate levels are maps, turned into
// lists later by listify when their keys are indexes.
func setPath(m map[string]any, path []string, v any) error {
	for i, p := range path {
		if i == len(path)-1 {
			if _, isMap := m[p].(map[string]any); isMap {
				return fmt.Errorf("a value where an object is")
			}
			m[p] = v
			return nil
		}
		next, ok := m[p].(map[string]any)
		if !ok {
			if m[p] != nil {
				return fmt.Errorf("an object where a value is")
			}
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	return nil
}

// listify turns maps whose keys are all small indexes ("0", "1") into
// lists, in index order, recursively. An empty index (a[]) is not one:
// PHP's http_build_query always writes the index.
func listify(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, x := range m {
		m[k] = listify(x)
	}
	if len(m) == 0 {
		return m
	}
	idx := make([]int, 0, len(m))
	for k := range m {
		n, err := strconv.Atoi(k)
		if err != nil || n < 0 || n > maxFormIndex || strconv.Itoa(n) != k {
			return m
		}
		idx = append(idx, n)
	}
	sort.Ints(idx)
	out := make([]any, len(idx))
	for i, n := range idx {
		out[i] = m[strconv.Itoa(n)]
	}
	return out
}
