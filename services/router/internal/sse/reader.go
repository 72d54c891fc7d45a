// Package sse reads Server-Sent Events from upstream inference providers and
// writes them to edge clients.
//
// The Reader follows the WHATWG event-stream rules that the OpenAI, Anthropic
// and Gemini SDKs rely on (comments, event names, multi-line data, LF, CRLF and
// bare CR line endings) and bounds memory: a line or an event larger than the
// configured limit is an error wrapping ErrTooLarge, never an allocation spike.
// The Writer frames OpenAI-style `data:` events and flushes each one at once.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// DefaultMaxEventBytes bounds one event when NewReader is given a limit <= 0.
// Large enough for base64 images or long tool arguments in a single chunk.
const DefaultMaxEventBytes = 16 << 20

// ErrTooLarge reports a line or event larger than the reader's limit.
var ErrTooLarge = errors.New("sse: event too large")

// Event is one dispatched server-sent event.
type Event struct {
	// Name is the `event:` field, empty when the upstream sent none.
	Name string
	// Data holds the `data:` lines joined with "\n". It is only valid until
	// the next call to Next.
	Data []byte
	// Raw holds lines that are not SSE fields (no colon, or an unknown field
	// name) joined with "\n". Gemini may write a bare JSON error object this way
	// in the middle of an `alt=sse` stream. Valid until the next call to Next.
	Raw []byte
}

// Reader splits an event stream into events.
type Reader struct {
	br   *bufio.Reader
	max  int
	line []byte
	data []byte
	raw  []byte
	name string
	// lastName is the last event name read, reused while it repeats.
	lastName string
	hasData  bool
	skipLF   bool // the previous line ended in a bare '\r'; a following '\n' belongs to it
	err      error
}

// NewReader returns a Reader over r that rejects lines or events larger than
// maxEventBytes (DefaultMaxEventBytes when maxEventBytes <= 0).
func NewReader(r io.Reader, maxEventBytes int) *Reader {
	if maxEventBytes <= 0 {
		maxEventBytes = DefaultMaxEventBytes
	}
	br, _ := readBuffers.Get().(*bufio.Reader)
	if br == nil {
		br = bufio.NewReaderSize(r, readBufferSize)
	} else {
		br.Reset(r)
	}
	return &Reader{br: br, max: maxEventBytes}
}

// readBufferSize lets one read(2) take what an upstream sent in a burst.
const readBufferSize = 32 << 10

// readBuffers recycles the read buffers of finished streams: a new 32 KiB
// buffer per stream was most of the router's allocated bytes under
// streaming load (issue 8).
var readBuffers sync.Pool

// Close returns the Reader's buffer for reuse by another stream. Nothing
// read from r (an Event's Data or Raw included) may be used after Close,
// and Close must be called at most once, after the last Next.
func (r *Reader) Close() {
	if r.br == nil {
		return
	}
	r.br.Reset(nil)
	readBuffers.Put(r.br)
	r.br, r.err = nil, errClosed
}

var errClosed = errors.New("sse: reader closed")

// Next returns the next event that carries data or raw lines. It returns
// io.EOF after the last event; a final event without its trailing blank line
// is still dispatched. Any other error is sticky.
func (r *Reader) Next() (Event, error) {
	if r.err != nil {
		return Event{}, r.err
	}
	r.data, r.raw, r.name, r.hasData = r.data[:0], r.raw[:0], "", false
	for {
		line, err := r.readLine()
		if err != nil {
			return r.finish(err)
		}
		if len(line) == 0 {
			if r.hasData || len(r.raw) > 0 {
				return r.event(), nil
			}
			r.name = ""
			continue
		}
		if err := r.field(line); err != nil {
			r.err = err
			return Event{}, err
		}
	}
}

func (r *Reader) finish(err error) (Event, error) {
	r.err = err
	if errors.Is(err, io.EOF) && (r.hasData || len(r.raw) > 0) {
		return r.event(), nil
	}
	return Event{}, err
}

func (r *Reader) event() Event {
	return Event{Name: r.name, Data: r.data, Raw: r.raw}
}

// field applies one non-empty line to the event being assembled.
func (r *Reader) field(line []byte) error {
	if line[0] == ':' {
		return nil // comment or keep-alive
	}
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) {
	case "data":
		return r.appendData(value)
	case "event":
		if string(value) != r.lastName { // a stream repeats its event names: allocate on a change only
			r.lastName = string(value)
		}
		r.name = r.lastName
	case "id", "retry":
	default:
		return r.appendRaw(line)
	}
	return nil
}

func (r *Reader) appendData(value []byte) error {
	if r.hasData {
		r.data = append(r.data, '\n')
	}
	r.hasData = true
	if len(r.data)+len(value) > r.max {
		return r.tooLarge()
	}
	r.data = append(r.data, value...)
	return nil
}

func (r *Reader) appendRaw(line []byte) error {
	if len(r.raw) > 0 {
		r.raw = append(r.raw, '\n')
	}
	if len(r.raw)+len(line) > r.max {
		return r.tooLarge()
	}
	r.raw = append(r.raw, line...)
	return nil
}

func (r *Reader) tooLarge() error {
	return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, r.max)
}

// readLine returns the next line without its terminator (LF, CRLF or CR).
// At end of input a final unterminated line is returned before io.EOF.
func (r *Reader) readLine() ([]byte, error) {
	r.line = r.line[:0]
	for {
		if _, err := r.br.Peek(1); err != nil {
			if len(r.line) > 0 && errors.Is(err, io.EOF) {
				return r.line, nil
			}
			return nil, err
		}
		buf, _ := r.br.Peek(r.br.Buffered())
		if r.skipLF {
			r.skipLF = false
			if buf[0] == '\n' {
				_, _ = r.br.Discard(1)
				continue
			}
		}
		i := indexLineEnd(buf)
		if i < 0 {
			if err := r.growLine(buf); err != nil {
				return nil, err
			}
			_, _ = r.br.Discard(len(buf))
			continue
		}
		if err := r.growLine(buf[:i]); err != nil {
			return nil, err
		}
		r.skipLF = buf[i] == '\r'
		_, _ = r.br.Discard(i + 1)
		return r.line, nil
	}
}

func (r *Reader) growLine(part []byte) error {
	if len(r.line)+len(part) > r.max {
		return r.tooLarge()
	}
	r.line = append(r.line, part...)
	return nil
}

// EventBuffered reports whether the next event that Next would return is
// already complete in the reader's buffer, so Next will not wait for the
// upstream. A relay flushes its output when this is false: events that
// arrived together leave together, and none waits for a later read.
// (An event made only of comments or `event:`/`id:` lines may count as
// complete; the cost of that rare misjudgement is one delayed flush.)
func (r *Reader) EventBuffered() bool {
	buf, _ := r.br.Peek(r.br.Buffered())
	sawField := false
	for len(buf) > 0 {
		i := indexLineEnd(buf)
		if i < 0 {
			return false
		}
		line, n := buf[:i], i+1
		if buf[i] == '\r' && i+1 < len(buf) && buf[i+1] == '\n' {
			n++
		}
		buf = buf[n:]
		switch {
		case len(line) == 0 && sawField:
			return true
		case len(line) > 0 && line[0] != ':':
			sawField = true
		}
	}
	return false
}

func indexLineEnd(buf []byte) int {
	lf := bytes.IndexByte(buf, '\n')
	limit := buf
	if lf >= 0 {
		limit = buf[:lf]
	}
	if cr := bytes.IndexByte(limit, '\r'); cr >= 0 {
		return cr
	}
	return lf
}
