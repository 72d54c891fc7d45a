package loadgen

import (
	"io"
	"time"
)

// stampDigits is the length of a Unix time in nanoseconds (until 2286).
const stampDigits = 19

// stampReader passes an answer on to next and, for every T<19 digits>
// stamp in it, records how long ago the upstream wrote it. The arrival
// time is when the bytes reach the client's Write, i.e. when its read
// returned them. A stamp split across two reads is carried over; a stamp
// of zeros (a non-streamed answer) is skipped.
type stampReader struct {
	next  io.Writer
	hist  *Histogram
	carry []byte // an unfinished stamp from the previous read
}

func (s *stampReader) Write(p []byte) (int, error) {
	now := time.Now().UnixNano()
	buf := p
	if len(s.carry) > 0 {
		buf = append(s.carry, p...)
		s.carry = s.carry[:0]
	}
	for i := 0; i < len(buf); i++ {
		if buf[i] != 'T' {
			continue
		}
		end := i + 1 + stampDigits
		if end > len(buf) {
			if allDigits(buf[i+1:]) {
				s.carry = append(s.carry[:0], buf[i:]...)
			}
			break
		}
		if stamp, ok := parseStamp(buf[i+1 : end]); ok && stamp > 0 && now >= stamp {
			s.hist.Record(time.Duration(now - stamp))
			i = end - 1
		}
	}
	return s.next.Write(p)
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func parseStamp(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
