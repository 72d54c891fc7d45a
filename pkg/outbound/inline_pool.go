package outbound

import (
	"time"
)

// popIdle takes the most recently used idle connection to addr that has
// not been idle too long; expired ones are closed.
func (t *inlineTransport) popIdle(addr string) *inlineConn {
	t.mu.Lock()
	conns := t.idle[addr]
	if len(conns) == 0 {
		t.mu.Unlock()
		return nil
	}
	c := conns[len(conns)-1]
	if time.Since(c.idleSince) < t.idleTimeout {
		conns[len(conns)-1] = nil
		t.idle[addr] = conns[:len(conns)-1]
		t.mu.Unlock()
		return c
	}
	// The newest has expired, so every older one has too.
	delete(t.idle, addr)
	t.mu.Unlock()
	for _, old := range conns {
		old.close()
	}
	return nil
}

// put returns c to the pool, or closes it if the host already has
// maxIdle idle connections.
func (t *inlineTransport) put(c *inlineConn) {
	c.idleSince = time.Now()
	t.mu.Lock()
	conns := t.idle[c.addr]
	if len(conns) >= t.maxIdle {
		t.mu.Unlock()
		c.close()
		return
	}
	t.idle[c.addr] = append(conns, c)
	if t.sweep == nil {
		t.sweep = time.AfterFunc(t.idleTimeout, t.closeExpired)
	}
	t.mu.Unlock()
}

// closeExpired closes connections idle for longer than idleTimeout, so an
// upstream that closed them is not left with sockets in CLOSE_WAIT here
// once traffic stops, and re-arms itself while any remain.
func (t *inlineTransport) closeExpired() {
	var expired []*inlineConn
	t.mu.Lock()
	for addr, conns := range t.idle {
		n := 0
		for n < len(conns) && time.Since(conns[n].idleSince) >= t.idleTimeout {
			n++
		}
		expired = append(expired, conns[:n]...)
		rest := append(conns[:0], conns[n:]...)
		clear(conns[len(rest):])
		if len(rest) == 0 {
			delete(t.idle, addr)
		} else {
			t.idle[addr] = rest
		}
	}
	if len(t.idle) > 0 {
		t.sweep.Reset(t.idleTimeout / 2)
	} else {
		t.sweep = nil
	}
	t.mu.Unlock()
	for _, c := range expired {
		c.close()
	}
}

// idleCount is the number of pooled connections (tests, metrics).
func (t *inlineTransport) idleCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, conns := range t.idle {
		n += len(conns)
	}
	return n
}

// CloseIdleConnections closes every idle connection.
func (t *inlineTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = map[string][]*inlineConn{}
	t.mu.Unlock()
	for _, conns := range idle {
		for _, c := range conns {
			c.close()
		}
	}
}
