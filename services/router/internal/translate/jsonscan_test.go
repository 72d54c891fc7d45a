package translate

import "testing"

// skipStringByteWalk is the straightforward definition skipString must
// agree with: a backslash skips the next byte, a quote ends the string.
func skipStringByteWalk(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errNotObject
}

func FuzzSkipString(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b"`, `"a\\"b"`, `"a\\\"b"`, `"\\\\"x`, `"unterminated`, `"\`, `""`, `"\u0022"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '"' {
			return
		}
		got, gotErr := skipString(b, 0)
		want, wantErr := skipStringByteWalk(b, 0)
		if got != want || (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("skipString(%q) = %d, %v; byte walk %d, %v", b, got, gotErr, want, wantErr)
		}
	})
}
