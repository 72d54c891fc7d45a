package contract

import "strings"

// Key joins escaped parts into a KV key. Each part becomes one escaped
// segment, so a model id such as "a.b/c" cannot split into two segments or
// collide with another combination of parts.
func Key(parts ...string) string {
	switch len(parts) {
	case 0:
		return emptyToken
	case 1:
		return Token(parts[0])
	}
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(Token(p))
	}
	return b.String()
}

// SplitKey reverses Key.
func SplitKey(key string) ([]string, bool) {
	segs := strings.Split(key, ".")
	out := make([]string, len(segs))
	for i, s := range segs {
		v, ok := Untoken(s)
		if !ok {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}
