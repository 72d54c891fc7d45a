package outbound

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// inlineBody is an answer's body; it hands the connection back when the
// body ends cleanly and closes it otherwise.
type inlineBody struct {
	c        *inlineConn
	ctx      context.Context
	stop     func() bool
	src      io.ReadCloser
	reusable bool
	length   int64        // Content-Length, -1 if unknown
	read     atomic.Int64 // bytes read so far

	mu   sync.Mutex
	done bool
	err  error // what Read returns once done
}

func (b *inlineBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	done, doneErr := b.done, b.err
	b.mu.Unlock()
	if done {
		return 0, doneErr
	}
	n, err := b.src.Read(p)
	b.read.Add(int64(n))
	switch {
	case err == io.EOF:
		b.finish(nil)
	case err != nil:
		err = ctxErr(b.ctx, err)
		b.finish(err)
	}
	return n, err
}

// Close ends the body. A body read up to its announced length still
// returns its connection to the pool (the edge reads a known-length answer
// with io.ReadFull and never asks for the EOF); any other early close
// closes the connection, as net/http does, rather than draining an answer
// of unknown length.
func (b *inlineBody) Close() error {
	if b.length >= 0 && b.read.Load() == b.length {
		b.finish(nil)
		return nil
	}
	b.finish(errBodyClosed)
	return nil
}

var errBodyClosed = errors.New("outbound: read on a closed answer body")

// finish ends the exchange once: with err == nil (body at EOF) the
// connection goes back to the pool if it may be reused and was not
// interrupted; otherwise it is closed.
func (b *inlineBody) finish(err error) {
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return
	}
	b.done = true
	b.err = io.EOF
	if err != nil {
		b.err = err
	}
	b.mu.Unlock()
	interrupted := !b.stop()
	if err == nil && b.reusable && !interrupted {
		b.c.t.put(b.c)
		return
	}
	b.c.close()
}
