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
	typePing       = []byte(`"ping"`)
	typeBlockStop  = []byte(`"content_block_stop"`)
)

// fastKind is what the scan made of an event.
type fastKind uint8

const (
	fastDecode  fastKind = iota // take the full decode
	fastText                    // a text delta: quoted is its text
	fastNothing                 // valid, and nothing to translate (ping, content_block_stop)
)

// fastEvent classifies an event from one validating pass over its
// members: a text delta (with its quoted text), an event that carries
// nothing to translate, or one that needs the full decode.
func fastEvent(data []byte) (quoted []byte, k fastKind) {
	var typ, delta []byte
	if !edgejson.Members(data, func(key, value []byte) { // validates the whole event too
		switch string(key) {
		case "type":
			typ = value
		case "delta":
			delta = value
		}
	}) {
		return nil, fastDecode
	}
	switch {
	case bytes.Equal(typ, typePing), bytes.Equal(typ, typeBlockStop):
		return nil, fastNothing
	case !bytes.Equal(typ, typeBlockDelta) || delta == nil:
		return nil, fastDecode
	}
	if q, ok := textDelta(delta); ok {
		return q, fastText
	}
	return nil, fastDecode
}

// textDelta returns the quoted text of a text_delta delta object, or
// ok=false when the event must be decoded.
func textDelta(delta []byte) (quoted []byte, ok bool) {
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

// fastPath handles a text delta or an event with nothing to translate
// without decoding it; handled=false leaves the event to the full decode.
func (s *anthropicStream) fastPath(data []byte, emit func([]byte) error) (handled bool, err error) {
	quoted, k := fastEvent(data)
	switch k {
	case fastDecode:
		return false, nil
	case fastNothing:
		return true, nil
	}
	if err := s.ensureStarted("", emit); err != nil {
		return true, err
	}
	if len(quoted) == 2 {
		return true, nil // empty text: no chunk, as emitContent
	}
	return true, emit(s.cw.contentQuoted(0, quoted))
}
