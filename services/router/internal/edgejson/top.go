package edgejson

import "fmt"

// topScan interprets the members of the top-level object while the scanner
// validates everything. Field problems are parked in fieldErr (the first one
// in body order wins) and reported only once the whole body proved
// well-formed, so structural errors always take precedence.
type topScan struct {
	s        scanner
	opts     Options
	req      Request
	fieldErr *Error
	seen     uint32 // bit per field already met
	prompt   promptAcc
}

func (t *topScan) fail(e *Error) {
	if t.fieldErr == nil {
		t.fieldErr = e
	}
}

func (t *topScan) run() *Error {
	s := &t.s
	if c := s.peek(); c != '{' {
		if s.pos >= len(s.buf) {
			return syntaxError(s.pos, "the body is empty")
		}
		if err := s.value(1, nil); err != nil {
			return err
		}
		return &Error{Code: CodeNotObject, Offset: 0, Message: "The request body must be a JSON object."}
	}
	if err := t.eachMember(false); err != nil {
		return err
	}
	s.skipSpace()
	if s.pos < len(s.buf) {
		return syntaxError(s.pos, "unexpected data after the JSON object")
	}
	t.finish()
	return nil
}

// eachMember walks the object at s.pos, handing each decoded key (nil when
// it cannot be decoded) to member, or to streamOption inside stream_options.
// Direct calls, not a callback, keep topScan off the heap.
func (t *topScan) eachMember(inStreamOptions bool) *Error {
	s := &t.s
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
		key := keyName(s.buf[keyStart+1:s.pos-1], escaped)
		if err := s.expect(':', "':'"); err != nil {
			return err
		}
		if inStreamOptions {
			err = t.streamOption(key, keyStart)
		} else {
			err = t.member(key, keyStart)
		}
		if err != nil {
			return err
		}
		if done, err := s.next('}'); done || err != nil {
			return err
		}
	}
}

func (t *topScan) member(key []byte, keyOff int) *Error {
	f := t.classify(key, keyOff)
	switch f {
	case fieldModel:
		return t.model()
	case fieldStream:
		v, err := t.boolean("stream", 2)
		t.req.Stream = v
		return err
	case fieldStreamOptions:
		return t.streamOptions()
	case fieldMaxTokens:
		return t.integer(&t.req.MaxTokens, "max_tokens", 0)
	case fieldMaxCompletionTokens:
		return t.integer(&t.req.MaxCompletionTokens, "max_completion_tokens", 0)
	case fieldN:
		var n int64
		err := t.integer(&n, "n", 1)
		if n >= 0 {
			t.req.N = int(min(n, int64(t.opts.MaxN)+1))
		}
		return err
	case fieldMessages, fieldTools, fieldFunctions:
		n, err := t.list(topLevelNames[f])
		if f == fieldMessages {
			t.req.Messages = n
		} else {
			t.req.Tools += n
		}
		return err
	case fieldPrompt, fieldInput:
		return t.s.value(2, &t.prompt)
	}
	return t.s.value(2, nil)
}

// classify maps a key to the field it controls, enforcing the duplicate and
// case-variant policy described in the package comment.
func (t *topScan) classify(key []byte, keyOff int) field {
	if len(key) == 0 {
		return fieldOther
	}
	idx, exact := matchKey(key, topLevelNames)
	f := field(idx)
	switch {
	case f == fieldOther:
	case !exact:
		t.fail(ambiguousError(keyOff, topLevelNames[f]))
		return fieldOther
	case t.seen&(1<<f) != 0:
		t.fail(duplicateError(keyOff, topLevelNames[f]))
	}
	t.seen |= 1 << f
	return f
}

func (t *topScan) model() *Error {
	s := &t.s
	if s.peek() != '"' {
		t.fail(typeError(s.pos, "model", "a string"))
		return s.value(2, nil)
	}
	start := s.pos
	escaped, err := s.str()
	if err != nil {
		return err
	}
	t.req.modelStart, t.req.modelEnd, t.req.HasModel = start, s.pos, true
	raw := s.buf[start+1 : s.pos-1]
	if escaped {
		var ok bool
		if raw, ok = appendUnescaped(nil, raw); !ok {
			t.fail(&Error{Code: CodeInvalidUTF8, Param: "model", Offset: start,
				Message: "Invalid value for 'model': it contains an unpaired UTF-16 surrogate escape."})
			return nil
		}
	}
	if why := checkModel(raw, t.opts.MaxModelBytes); why != "" {
		t.fail(valueError(start, "model", why))
		return nil
	}
	t.req.Model = string(raw)
	return nil
}

// checkModel returns why m is unacceptable as a model id, or "".
func checkModel(m []byte, maxBytes int) string {
	if len(m) == 0 {
		return "expected a non-empty model id"
	}
	if len(m) > maxBytes {
		return fmt.Sprintf("model ids are at most %d bytes", maxBytes)
	}
	for _, c := range m {
		if c < 0x20 || c == 0x7f {
			return "model ids must not contain control characters"
		}
	}
	return ""
}

// boolean reads true, false or null (false) as param at depth.
func (t *topScan) boolean(param string, depth int) (bool, *Error) {
	s := &t.s
	switch s.peek() {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	case 'n':
		return false, s.literal("null")
	}
	t.fail(typeError(s.pos, param, "a boolean"))
	return false, s.value(depth, nil)
}

func (t *topScan) streamOptions() *Error {
	s := &t.s
	switch s.peek() {
	case 'n':
		return s.literal("null")
	case '{':
		if 2 > s.maxDepth {
			return tooDeepError(s.pos, s.maxDepth)
		}
		return t.eachMember(true)
	}
	t.fail(typeError(s.pos, "stream_options", "an object"))
	return s.value(2, nil)
}

func (t *topScan) streamOption(key []byte, keyOff int) *Error {
	const param = "stream_options.include_usage"
	const seenIncludeUsage = 1 << 31
	if len(key) == 0 {
		return t.s.value(3, nil)
	}
	idx, exact := matchKey(key, includeUsageNames)
	switch {
	case idx == 0:
		return t.s.value(3, nil)
	case !exact:
		t.fail(ambiguousError(keyOff, param))
	case t.seen&seenIncludeUsage != 0:
		t.fail(duplicateError(keyOff, param))
	}
	t.seen |= seenIncludeUsage
	v, err := t.boolean(param, 3)
	if exact {
		t.req.IncludeUsage = v
	}
	return err
}

// integer reads a non-negative JSON integer (at least minimum) or null
// (stored as -1) into dst.
func (t *topScan) integer(dst *int64, param string, minimum int64) *Error {
	s := &t.s
	*dst = -1
	c := s.peek()
	if c == 'n' {
		return s.literal("null")
	}
	if c != '-' && (c < '0' || c > '9') {
		t.fail(typeError(s.pos, param, "an integer"))
		return s.value(2, nil)
	}
	start := s.pos
	isInt, err := s.number()
	if err != nil {
		return err
	}
	if !isInt {
		t.fail(typeError(start, param, "an integer"))
		return nil
	}
	v, ok := parseBounded(s.buf[start:s.pos])
	switch {
	case !ok:
		t.fail(valueError(start, param, fmt.Sprintf("expected a value between %d and %d", minimum, maxInt32)))
	case v < minimum:
		t.fail(valueError(start, param, fmt.Sprintf("expected a value of at least %d", minimum)))
	default:
		*dst = v
	}
	return nil
}

// parseBounded parses a JSON integer; ok is false when it is negative or
// larger than a 32-bit signed integer (which no token count reaches).
func parseBounded(raw []byte) (v int64, ok bool) {
	if raw[0] == '-' {
		return 0, len(raw) == 2 && raw[1] == '0'
	}
	if len(raw) > 10 {
		return 0, false
	}
	for _, c := range raw {
		v = v*10 + int64(c-'0')
	}
	return v, v <= maxInt32
}

// list reads a prompt-bearing array (messages, tools, functions) and
// returns its length.
func (t *topScan) list(param string) (int, *Error) {
	s := &t.s
	switch s.peek() {
	case '[':
		return s.array(2, &t.prompt)
	case 'n':
		return 0, s.literal("null")
	}
	t.fail(typeError(s.pos, param, "an array"))
	return 0, s.value(2, nil)
}

func (t *topScan) finish() {
	t.req.PromptBytes, t.req.MediaParts = t.prompt.bytes, t.prompt.media
	if t.req.N > t.opts.MaxN {
		t.fail(valueError(0, "n", fmt.Sprintf("expected a value of at most %d", t.opts.MaxN)))
	}
	if t.req.Messages > t.opts.MaxMessages {
		t.fail(valueError(0, "messages", fmt.Sprintf("at most %d messages are accepted", t.opts.MaxMessages)))
	}
	if t.req.Tools > t.opts.MaxTools {
		t.fail(valueError(0, "tools", fmt.Sprintf("at most %d tools are accepted", t.opts.MaxTools)))
	}
}
