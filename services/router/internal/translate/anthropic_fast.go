package translate

import (
	"bytes"

	"github.com/switchyard/switchyard/services/router/internal/edgejson"
)

// Anthropic streams are almost all content_block_delta/text_delta events.
// Decoding each into structs by reflection was a quarter of a translated
// stream's CPU and 12 allocations per chunk (issue 8), so those events are
// validated and scanned instead, and the already escaped text is copied
// into the OpenAI chunk. Anything else, and any text whose escapes would
// not come out byte-identical from the decode-and-encode path, takes the
// full decode.

var (
	typeBlockDelta = []byte(`"content_block_delta"`)
	typeTextDelta  = []byte(`"text_delta"`)
)

// textDelta returns the quoted text of a content_block_delta/text_delta
// event, or ok=false when the event must be decoded.
func textDelta(data []byte) (quoted []byte, ok bool) {
	var typ, delta []byte
	if !edgejson.Members(data, func(key, value []byte) { // validates the whole event too
		switch string(key) {
		case "type":
			typ = value
		case "delta":
			delta = value
		}
	}) || !bytes.Equal(typ, typeBlockDelta) || delta == nil {
		return nil, false
	}
	var dtype, text []byte
	if _, err := scanObject(delta, func(key []byte, start, end int) {
		switch string(key) {
		case "type":
			dtype = delta[start:end]
		case "text":
			text = delta[start:end]
		}
	}); err != nil || !bytes.Equal(dtype, typeTextDelta) || len(text) < 2 || text[0] != '"' {
		return nil, false
	}
	return text, copiesExactly(text)
}

// copiesExactly reports whether a valid JSON string literal is exactly what
// appendJSONString would produce for its decoded text: only the escapes it
// writes (\" \\ \n \r \t), and no U+2028/U+2029, which it escapes.
func copiesExactly(quoted []byte) bool {
	body := quoted[1 : len(quoted)-1]
	for i := bytes.IndexByte(body, '\\'); i >= 0; i = bytes.IndexByte(body, '\\') {
		switch body[i+1] {
		case '"', '\\', 'n', 'r', 't':
		default:
			return false
		}
		body = body[i+2:]
	}
	return !bytes.Contains(quoted, lineSep) && !bytes.Contains(quoted, paraSep)
}

var (
	lineSep = []byte("\u2028")
	paraSep = []byte("\u2029")
)

// fastTextDelta emits a text delta without decoding it; handled=false
// leaves the event to the full decode.
func (s *anthropicStream) fastTextDelta(data []byte, emit func([]byte) error) (handled bool, err error) {
	quoted, ok := textDelta(data)
	if !ok {
		return false, nil
	}
	if err := s.ensureStarted("", emit); err != nil {
		return true, err
	}
	if len(quoted) == 2 {
		return true, nil // empty text: no chunk, as emitContent
	}
	return true, emit(s.cw.contentQuoted(0, quoted))
}
