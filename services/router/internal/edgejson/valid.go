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
