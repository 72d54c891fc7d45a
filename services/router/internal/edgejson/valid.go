package edgejson

// validMaxDepth bounds nesting in Valid. Upstream stream chunks are shallow;
// the bound only keeps a hostile chunk from growing the stack.
const validMaxDepth = 512

// Valid reports whether b is exactly one JSON value with optional
// surrounding whitespace, by the same rules as Scan (RFC 8259 grammar,
// valid UTF-8 in strings, numbers within float64 range). It is stricter
// than encoding/json.Valid (which accepts invalid UTF-8) and several times
// faster, and allocates nothing on success: the edge runs it on every
// upstream stream chunk it passes through (issue 8).
func Valid(b []byte) bool {
	s := scanner{buf: b, maxDepth: validMaxDepth}
	if s.value(1, nil) != nil {
		return false
	}
	s.skipSpace()
	return s.pos == len(b)
}

// ValidKeys validates b exactly as Valid does and calls fn with every
// object key at any depth, in document order: the key's raw bytes between
// its quotes, whether they contain an escape (so the bytes differ from the
// decoded name), and the rest of b from the first byte of the key's value
// on (its value is not yet validated when fn runs). It reports whether b
// is valid; fn may have been called for a prefix of an invalid b. The
// OpenAI stream relay finds usage, finish and error members this way in
// the same pass that validates the chunk (issue 8).
func ValidKeys(b []byte, fn func(key []byte, escaped bool, value []byte)) bool {
	s := scanner{buf: b, maxDepth: validMaxDepth, onKey: fn}
	if s.value(1, nil) != nil {
		return false
	}
	s.skipSpace()
	return s.pos == len(b)
}

// Members validates b exactly as Valid does and, when b is an object,
// calls fn with each top-level member's key (the raw bytes between its
// quotes, escapes as sent) and raw value, in order. It reports whether b
// is valid and an object; fn may have been called for a prefix of an
// invalid b, so use what it collected only when Members returns true. One
// pass instead of Valid and then a member scan: the Anthropic stream fast
// path runs it on every text delta (issue 8).
func Members(b []byte, fn func(key, value []byte)) bool {
	s := scanner{buf: b, maxDepth: validMaxDepth}
	if s.peek() != '{' {
		return false
	}
	s.pos++
	if s.peek() == '}' {
		s.pos++
	} else if !s.members(fn) {
		return false
	}
	s.skipSpace()
	return s.pos == len(b)
}

// members walks the members of the object whose '{' was consumed, and
// its closing '}'. It is a loop of its own rather than object() with a
// hook: a hook lives in the scanner, which the recursive walk leaks to the
// heap, so the caller's closure would be allocated on every call (the hot
// Anthropic path allocates nothing; ValidKeys' caller binds its hook once
// per stream for the same reason).
func (s *scanner) members(fn func(key, value []byte)) bool {
	for {
		if s.peek() != '"' {
			return false
		}
		keyStart := s.pos
		if _, err := s.str(); err != nil {
			return false
		}
		key := s.buf[keyStart+1 : s.pos-1]
		if s.expect(':', "':'") != nil {
			return false
		}
		s.skipSpace()
		valueStart := s.pos
		if s.value(2, nil) != nil {
			return false
		}
		fn(key, s.buf[valueStart:s.pos])
		if done, err := s.next('}'); done || err != nil {
			return err == nil
		}
	}
}
