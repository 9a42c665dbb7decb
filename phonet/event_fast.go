package phonet

// decodeEventFast decodes the plain shape nearly every event has, in one
// pass without reflection: an object of the known fields, each once, named
// exactly, with no escapes in names; leg and leg2 an object of the known
// fields or null; otherLegs an array of such objects, or null; only
// whitespace after. The values are read by the wire types' own
// UnmarshalJSON, as encoding/json would call them. It reports false for
// anything else, and anything doubtful (an unknown or differently cased
// name, a duplicate, a value a wire type refuses): w is then to be decoded
// afresh by the general decoder, which decides, and explains a refusal.
// FuzzWireDecodeMatchesEncodingJSON holds the two to the same answers.
func decodeEventFast(b []byte, w *wireEvent) bool {
	s := scanner{b: b}
	ok := s.object(func(name []byte) bool {
		switch string(name) {
		case "event":
			return s.scalar(&w.Event)
		case "lastEvent":
			return s.scalar(&w.LastEvent)
		case "uuid":
			return s.scalar(&w.UUID)
		case "parentUuid":
			return s.scalar(&w.ParentUUID)
		case "accountDomain":
			return s.scalar(&w.AccountDomain)
		case "lgDirection":
			return s.scalar(&w.LgDirection)
		case "leg":
			return s.leg(&w.Leg)
		case "leg2":
			return s.leg(&w.Leg2)
		case "otherLegs":
			return s.otherLegs(&w.OtherLegs)
		case "dialAt":
			return s.scalar(&w.DialAt)
		case "bridgeAt":
			return s.scalar(&w.BridgeAt)
		case "serverTime":
			return s.scalar(&w.ServerTime)
		case "trunkNum":
			return s.scalar(&w.TrunkNum)
		case "trunkName":
			return s.scalar(&w.TrunkName)
		case "message":
			return s.scalar(&w.Message)
		case "otherLegNum":
			return s.scalar(&w.OtherLegNum)
		}
		return false
	})
	s.space()
	return ok && s.i == len(s.b)
}

// maxPlainFields is the most names an object of the plain shape has: the
// known fields, each once.
const maxPlainFields = 16

// scanner walks the plain shape of decodeEventFast.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips whitespace and reports whether the next byte is c, taking it.
func (s *scanner) next(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// object reads an object whose names field reads the value of, each name
// at most once; it reports false when field does, or the shape is not
// plain. An object of more than maxPlainFields names is not plain.
func (s *scanner) object(field func(name []byte) bool) bool {
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	var seen [maxPlainFields][]byte
	for n := 0; ; n++ {
		name, ok := s.name()
		if !ok || !s.next(':') || n == len(seen) {
			return false
		}
		for _, prev := range seen[:n] {
			if string(prev) == string(name) {
				return false // a duplicate: the general decoder's rules decide
			}
		}
		seen[n] = name
		if !field(name) {
			return false
		}
		if s.next(',') {
			continue
		}
		return s.next('}')
	}
}

// name reads a member name of plain ASCII, without escapes. It is a
// slice of the input: names are only compared, never kept.
func (s *scanner) name() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// value returns the bytes of the next scalar value: a string, or the
// token up to the next delimiter, which the wire type then checks.
func (s *scanner) value() ([]byte, bool) {
	s.space()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '"' {
		for s.i++; s.i < len(s.b); s.i++ {
			switch s.b[s.i] {
			case '\\':
				s.i++ // the escaped byte cannot end the string
			case '"':
				s.i++
				return s.b[start:s.i], true
			}
		}
		return nil, false
	}
	for ; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r', '{', '[', ':', '"':
			return s.b[start:s.i], s.i > start
		}
	}
	return s.b[start:], s.i > start
}

// scalar reads a scalar value into v by its UnmarshalJSON.
func (s *scanner) scalar(v interface{ UnmarshalJSON([]byte) error }) bool {
	raw, ok := s.value()
	return ok && v.UnmarshalJSON(raw) == nil
}

// null reads a null, if that is what comes.
func (s *scanner) null() bool {
	s.space()
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		if j := s.i + 4; j == len(s.b) || isDelimiter(s.b[j]) {
			s.i = j
			return true
		}
	}
	return false
}

func isDelimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

func (s *scanner) leg(p **wireLeg) bool {
	if s.null() {
		*p = nil
		return true
	}
	l := new(wireLeg)
	*p = l
	return s.object(func(name []byte) bool {
		switch string(name) {
		case "id":
			return s.scalar(&l.ID)
		case "type":
			return s.scalar(&l.Type)
		case "ext":
			return s.scalar(&l.Ext)
		case "displayName":
			return s.scalar(&l.DisplayName)
		}
		return false
	})
}

func (s *scanner) otherLegs(p *[]wireOtherLeg) bool {
	if s.null() {
		*p = nil
		return true
	}
	if !s.next('[') {
		return false
	}
	out := make([]wireOtherLeg, 0, 1)
	if !s.next(']') {
		for {
			var o wireOtherLeg
			ok := s.object(func(name []byte) bool {
				switch string(name) {
				case "id":
					return s.scalar(&o.ID)
				case "name":
					return s.scalar(&o.Name)
				case "num":
					return s.scalar(&o.Num)
				case "companyName":
					return s.scalar(&o.CompanyName)
				case "url":
					return s.scalar(&o.URL)
				case "priority":
					return s.scalar(&o.Priority)
				}
				return false
			})
			if !ok {
				return false
			}
			out = append(out, o)
			if s.next(',') {
				continue
			}
			if !s.next(']') {
				return false
			}
			break
		}
	}
	*p = out
	return true
}
