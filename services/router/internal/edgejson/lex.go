package edgejson

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner walks one JSON text. It validates the grammar (RFC 8259, UTF-8
// strings) and the nesting depth while the caller pulls values out of it.
// Containers recurse, but never deeper than maxDepth, so hostile nesting
// cannot grow the stack.
type scanner struct {
	buf      []byte
	pos      int
	maxDepth int
	// onKey, when set, sees every object key (see ValidKeys).
	onKey func(key []byte, escaped bool, value []byte)
}

// promptAcc accumulates the size of prompt-bearing values.
type promptAcc struct {
	bytes int64
	media int
}

const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// needsAttention reports (non-zero) whether any of the 8 bytes in w is a
// quote, a backslash, a control character or a non-ASCII byte. It is the
// usual "has zero byte" trick applied three times; false positives only occur
// above a true positive, and the byte loop resolves those.
func needsAttention(w uint64) uint64 {
	q := w ^ (swarOnes * '"')
	b := w ^ (swarOnes * '\\')
	quote := (q - swarOnes) &^ q
	slash := (b - swarOnes) &^ b
	ctrl := (w - swarOnes*0x20) &^ w
	return (quote | slash | ctrl | w) & swarHigh
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.buf) {
		switch s.buf[s.pos] {
		case ' ', '\n', '\r', '\t':
			s.pos++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.skipSpace()
	if s.pos < len(s.buf) {
		return s.buf[s.pos]
	}
	return 0
}

func (s *scanner) expect(c byte, what string) *Error {
	if s.peek() != c {
		return s.unexpected(what)
	}
	s.pos++
	return nil
}

func (s *scanner) unexpected(what string) *Error {
	if s.pos >= len(s.buf) {
		return syntaxError(s.pos, "unexpected end of input, expected "+what)
	}
	if s.buf[s.pos] == 0 {
		return syntaxError(s.pos, "unexpected NUL byte, expected "+what)
	}
	return syntaxError(s.pos, "unexpected character, expected "+what)
}

// str scans the string starting at s.pos (a quote). It returns whether the
// string contains escape sequences; the raw content is buf[start+1:s.pos-1].
func (s *scanner) str() (escaped bool, err *Error) {
	buf, i := s.buf, s.pos+1
	for {
		for i+8 <= len(buf) {
			if m := needsAttention(binary.LittleEndian.Uint64(buf[i:])); m != 0 {
				// The lowest flagged byte is a true positive: jump straight to
				// it instead of re-testing the word once per remaining byte
				// (most JSON strings are short, so this is the common exit).
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(buf) {
			s.pos = i
			return escaped, syntaxError(i, "unterminated string")
		}
		switch c := buf[i]; {
		case c == '"':
			s.pos = i + 1
			return escaped, nil
		case c == '\\':
			n, e := escapeLen(buf, i)
			if e != nil {
				return escaped, e
			}
			escaped = true
			i += n
		case c < 0x20:
			return escaped, syntaxError(i, "control character in string")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(buf[i:])
			if r == utf8.RuneError && size == 1 {
				return escaped, utf8Error(i)
			}
			i += size
		default:
			i++
		}
	}
}

// escapeLen validates the escape sequence at buf[i] (a backslash) and
// returns its length.
func escapeLen(buf []byte, i int) (int, *Error) {
	if i+1 >= len(buf) {
		return 0, syntaxError(i, "unterminated escape")
	}
	switch buf[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
		if i+6 > len(buf) {
			return 0, syntaxError(i, "unterminated \\u escape")
		}
		for _, h := range buf[i+2 : i+6] {
			if hexVal(h) < 0 {
				return 0, syntaxError(i, "invalid \\u escape")
			}
		}
		return 6, nil
	}
	return 0, syntaxError(i, "invalid escape")
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// appendUnescaped appends the decoded form of raw (string content already
// validated by str) to dst. ok is false for a lone UTF-16 surrogate, which
// decoders disagree on (Go substitutes U+FFFD, others reject or keep it).
func appendUnescaped(dst, raw []byte) (out []byte, ok bool) {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		if raw[i+1] != 'u' {
			dst = append(dst, simpleEscape(raw[i+1]))
			i += 2
			continue
		}
		r := hex4(raw[i+2:])
		i += 6
		if utf16.IsSurrogate(r) {
			if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
				return dst, false
			}
			r = utf16.DecodeRune(r, hex4(raw[i+2:]))
			if r == utf8.RuneError {
				return dst, false
			}
			i += 6
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst, true
}

func hex4(b []byte) rune {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}

func simpleEscape(c byte) byte {
	switch c {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return c // '"', '\\', '/'
}

// literal consumes true, false or null at s.pos.
func (s *scanner) literal(word string) *Error {
	end := s.pos + len(word)
	if end > len(s.buf) || string(s.buf[s.pos:end]) != word {
		return s.unexpected("a JSON value")
	}
	s.pos = end
	return nil
}

// number scans a JSON number at s.pos. isInt reports a number with neither
// fraction nor exponent. Numbers beyond float64 range (1e999) are rejected:
// Go decoders fail on them mid-decode, other decoders turn them into Inf.
func (s *scanner) number() (isInt bool, err *Error) {
	buf, start, i := s.buf, s.pos, s.pos
	if i < len(buf) && buf[i] == '-' {
		i++
	}
	intStart := i
	i = digits(buf, i)
	if i == intStart || (buf[intStart] == '0' && i-intStart > 1) {
		return false, syntaxError(intStart, "invalid number")
	}
	magnitude := i - intStart - 1 // decimal exponent of the leading digit
	isInt = true
	if i < len(buf) && buf[i] == '.' {
		isInt = false
		fracStart := i + 1
		i = digits(buf, fracStart)
		if i == fracStart {
			return false, syntaxError(i, "invalid number fraction")
		}
	}
	if i < len(buf) && (buf[i] == 'e' || buf[i] == 'E') {
		isInt = false
		var exp int
		if i, exp, err = exponent(buf, i+1); err != nil {
			return false, err
		}
		magnitude += exp
	}
	s.pos = i
	if magnitude >= 308 { // only the rare big ones pay for an exact check
		if _, perr := strconv.ParseFloat(string(buf[start:i]), 64); perr != nil {
			return false, rangeError(start)
		}
	}
	return isInt, nil
}

func digits(buf []byte, i int) int {
	for i < len(buf) && buf[i] >= '0' && buf[i] <= '9' {
		i++
	}
	return i
}

// exponent parses [+-]digits starting at i, saturating so that a
// million-digit exponent cannot overflow.
func exponent(buf []byte, i int) (end, exp int, err *Error) {
	neg := false
	if i < len(buf) && (buf[i] == '+' || buf[i] == '-') {
		neg = buf[i] == '-'
		i++
	}
	start := i
	for ; i < len(buf) && buf[i] >= '0' && buf[i] <= '9'; i++ {
		if exp < 1_000_000 {
			exp = exp*10 + int(buf[i]-'0')
		}
	}
	if i == start {
		return i, 0, syntaxError(i, "invalid number exponent")
	}
	if neg {
		exp = -exp
	}
	return i, exp, nil
}

// value skips one JSON value at depth (the depth its containers would have).
// When acc is non-nil the value is prompt material and is measured.
func (s *scanner) value(depth int, acc *promptAcc) *Error {
	switch c := s.peek(); {
	case c == '"':
		start := s.pos
		_, err := s.str()
		if acc != nil {
			acc.bytes += int64(s.pos - start - 2)
		}
		return err
	case c == '{':
		return s.object(depth, acc)
	case c == '[':
		_, err := s.array(depth, acc)
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		if acc != nil {
			acc.bytes += 4 // a token id in a pre-tokenized prompt
		}
		_, err := s.number()
		return err
	}
	return s.unexpected("a JSON value")
}

// object skips the object at s.pos, whose own nesting level is depth.
func (s *scanner) object(depth int, acc *promptAcc) *Error {
	if depth > s.maxDepth {
		return tooDeepError(s.pos, s.maxDepth)
	}
	s.pos++
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.unexpected("a string key")
		}
		keyStart := s.pos
		escaped, err := s.str()
		if err != nil {
			return err
		}
		key := s.buf[keyStart+1 : s.pos-1]
		if err := s.expect(':', "':'"); err != nil {
			return err
		}
		if s.onKey != nil {
			s.skipSpace()
			s.onKey(key, escaped, s.buf[s.pos:])
		}
		if err := s.member(depth, acc, key); err != nil {
			return err
		}
		if done, err := s.next('}'); done || err != nil {
			return err
		}
	}
}

// member skips one object member value. Inside prompt material, binary
// payloads (data URLs, base64 audio and files) are counted as media parts
// rather than as text, since their size says nothing about token cost.
func (s *scanner) member(depth int, acc *promptAcc, key []byte) *Error {
	if acc != nil && isMediaKey(key) && s.peek() == '"' {
		acc.media++
		_, err := s.str()
		return err
	}
	return s.value(depth+1, acc)
}

func isMediaKey(key []byte) bool {
	switch string(key) {
	case "url", "data", "file_data":
		return true
	}
	return false
}

// next consumes ',' or the closing byte after a container element.
func (s *scanner) next(closing byte) (done bool, err *Error) {
	switch s.peek() {
	case ',':
		s.pos++
		return false, nil
	case closing:
		s.pos++
		return true, nil
	}
	return false, s.unexpected("',' or '" + string(closing) + "'")
}

// array skips the array at s.pos and returns its element count.
func (s *scanner) array(depth int, acc *promptAcc) (int, *Error) {
	if depth > s.maxDepth {
		return 0, tooDeepError(s.pos, s.maxDepth)
	}
	s.pos++
	if s.peek() == ']' {
		s.pos++
		return 0, nil
	}
	for n := 1; ; n++ {
		if err := s.value(depth+1, acc); err != nil {
			return n, err
		}
		if done, err := s.next(']'); done || err != nil {
			return n, err
		}
	}
}
