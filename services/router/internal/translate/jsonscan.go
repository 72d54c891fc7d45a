package translate

import (
	"bytes"
	"encoding/json"
	"errors"
)

// memberEdit changes one top-level member of a JSON object in place, leaving
// every other byte of the document untouched (OpenAI-family passthrough must
// keep fields the gateway does not know about exactly as the client sent them).
type memberEdit struct {
	key string
	// replace returns the new value for an existing member.
	replace func(old []byte) []byte
	// insert, when non-nil, is the value added if the member is missing.
	insert []byte
}

var errNotObject = errors.New("translate: body is not a JSON object")

// editMembers applies edits to every top-level occurrence of each key
// (duplicates included, so the upstream sees our value whichever duplicate it
// keeps).
func editMembers(body []byte, edits ...memberEdit) ([]byte, error) {
	type span struct {
		start, end int
		value      []byte
	}
	var spans []span
	seen := make([]bool, len(edits))
	open, err := scanObject(body, func(key []byte, start, end int) {
		for i, e := range edits {
			if e.key == string(key) && e.replace != nil {
				seen[i] = true
				spans = append(spans, span{start, end, e.replace(body[start:end])})
			}
		}
	})
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(body)+64)
	out = append(out, body[:open+1]...)
	out = appendInsertions(out, body[open+1:], edits, seen)
	last := open + 1
	for _, s := range spans {
		out = append(out, body[last:s.start]...)
		out = append(out, s.value...)
		last = s.end
	}
	return append(out, body[last:]...), nil
}

func appendInsertions(out, rest []byte, edits []memberEdit, seen []bool) []byte {
	k := skipSpace(rest, 0)
	empty := k < len(rest) && rest[k] == '}'
	first := true
	for i, e := range edits {
		if seen[i] || e.insert == nil {
			continue
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = appendJSONString(out, e.key)
		out = append(out, ':')
		out = append(out, e.insert...)
	}
	if !first && !empty {
		out = append(out, ',')
	}
	return out
}

// scanObject walks the members of the top-level object, reporting each key
// (unescaped; only valid during the call) and the byte span of its value.
// It returns the offset of the opening brace. It checks the structure
// (strings, nesting, separators), not every literal: callers that need
// proof of valid JSON validate first.
func scanObject(b []byte, member func(key []byte, start, end int)) (int, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0, errNotObject
	}
	open := i
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return open, nil
	}
	for i < len(b) {
		keyEnd, err := skipValue(b, i)
		if err != nil || b[i] != '"' {
			return 0, errNotObject
		}
		key, ok := objectKey(b[i:keyEnd])
		if !ok {
			return 0, errNotObject
		}
		i = skipSpace(b, keyEnd)
		if i >= len(b) || b[i] != ':' {
			return 0, errNotObject
		}
		start := skipSpace(b, i+1)
		end, err := skipValue(b, start)
		if err != nil {
			return 0, err
		}
		member(key, start, end)
		i = skipSpace(b, end)
		if i < len(b) && b[i] == '}' {
			return open, nil
		}
		if i >= len(b) || b[i] != ',' {
			return 0, errNotObject
		}
		i = skipSpace(b, i+1)
	}
	return 0, errNotObject
}

// objectKey returns a key's text: its bytes as they stand when it has no
// escapes (no allocation), else decoded.
func objectKey(quoted []byte) ([]byte, bool) {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return quoted[1 : len(quoted)-1], true
	}
	var key string
	if json.Unmarshal(quoted, &key) != nil {
		return nil, false
	}
	return []byte(key), true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end offset of the JSON value starting at i.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errNotObject
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		return skipNested(b, i)
	}
	for j := i; j < len(b); j++ {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if j == i {
				return 0, errNotObject
			}
			return j, nil
		}
	}
	return len(b), nil
}

// skipString returns the index after the string starting at b[i] (a
// quote). It looks for quotes with bytes.IndexByte (vectorised) instead of
// walking byte by byte: a quote ends the string unless an odd run of
// backslashes precedes it.
func skipString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, errNotObject
		}
		j += k
		escapes := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			escapes++
		}
		if escapes%2 == 0 {
			return j + 1, nil
		}
		j++
	}
}

func skipNested(b []byte, i int) (int, error) {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			end, err := skipString(b, j)
			if err != nil {
				return 0, err
			}
			j = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, errNotObject
}
