//go:build !linux

package outbound

// alive cannot peek at a socket portably; a connection the upstream closed
// while idle is then found by the request that uses it, which RoundTrip
// retries when net/http would (replayable).
func (c *inlineConn) alive() bool { return c.br.Buffered() == 0 }
