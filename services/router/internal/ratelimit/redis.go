package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisPrefix starts every key the Redis backend writes.
const DefaultRedisPrefix = "sy:rl:"

// Redis is the multi-replica backend. Each admission is one EVALSHA of a Lua
// script that refills, checks and takes every scope's buckets atomically on
// the server, so any number of router replicas share exact limits.
//
// State per scope is one hash (fields r, t, at) whose name is the prefix,
// the scope kind and a SHA-256 of the length-prefixed ID and model: model
// ids with '.', ':', '/' or any user input cannot collide or inject key
// structure. Every write sets a TTL of the time until the buckets are full
// again plus a second; an absent hash means "full", so expiry loses nothing.
//
// Time comes from the replica's clock (replicas should run NTP); the script
// never refills backwards, so a skewed replica can at most add its skew's
// worth of refill once. Redis Cluster is not supported: one admission's
// keys must live on one node for the script to be atomic.
type Redis struct {
	client redis.Scripter
	prefix string
	now    func() time.Time
}

// RedisOptions configure a Redis limiter.
type RedisOptions struct {
	Prefix string           // key prefix; defaults to DefaultRedisPrefix
	Now    func() time.Time // clock; defaults to time.Now
}

// ErrClientConfig is returned by NewRedis for a client that would break the
// latency or exactness guarantees; build its options with ClientOptions.
var ErrClientConfig = errors.New("ratelimit: redis client needs ContextTimeoutEnabled and MaxRetries -1 (use ratelimit.ClientOptions)")

// ClientOptions returns a copy of base fit for the limiter: the client must
// honour context deadlines (go-redis ignores them by default, and Failover's
// 20 ms budget is a context deadline) and must not retry (a retried
// admission after a lost reply could reserve twice).
func ClientOptions(base *redis.Options) *redis.Options {
	o := *base
	o.ContextTimeoutEnabled = true
	o.MaxRetries = -1
	return &o
}

// NewRedis returns a limiter on client, usually a *redis.Client made with
// ClientOptions; a *redis.Client configured otherwise is refused.
func NewRedis(client redis.Scripter, opts RedisOptions) (*Redis, error) {
	if c, ok := client.(interface{ Options() *redis.Options }); ok {
		if o := c.Options(); !o.ContextTimeoutEnabled || o.MaxRetries > 0 {
			return nil, ErrClientConfig
		}
	}
	r := &Redis{client: client, prefix: opts.Prefix, now: opts.Now}
	if r.prefix == "" {
		r.prefix = DefaultRedisPrefix
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r, nil
}

// Admit implements Limiter.
func (r *Redis) Admit(ctx context.Context, scopes []Scope, tokens int64) (Decision, error) {
	tokens, err := checkScopes(scopes, tokens)
	if err != nil || len(scopes) == 0 {
		return Decision{Allowed: err == nil}, err
	}
	keys, args := r.scriptInput(scopes, tokens)
	res, err := admitScript.Run(ctx, r.client, keys, args...).Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis admit: %w", err)
	}
	allowed, lv, err := parseLevels(res, len(scopes))
	if err != nil {
		return Decision{}, err
	}
	d := buildDecision(scopes, lv[:len(scopes)], tokens, allowed)
	if allowed {
		d.Reservation = newReservation(scopes, tokens, SourcePrimary)
	}
	return d, nil
}

// Settle implements Limiter.
func (r *Redis) Settle(ctx context.Context, res Reservation, usedTokens int64) error {
	delta := max(usedTokens, 0) - res.tokens
	if delta == 0 || res.n == 0 {
		return nil
	}
	keys, args := r.scriptInput(res.list(), delta)
	if err := settleScript.Run(ctx, r.client, keys, args...).Err(); err != nil {
		return fmt.Errorf("ratelimit: redis settle: %w", err)
	}
	return nil
}

// scriptInput builds KEYS and ARGV: now, amount, window, then RPM and TPM per scope.
func (r *Redis) scriptInput(scopes []Scope, amount int64) ([]string, []any) {
	keys := make([]string, len(scopes))
	args := make([]any, 0, 3+2*len(scopes))
	args = append(args, r.now().UnixMicro(), amount, windowMicros)
	for i, s := range scopes {
		keys[i] = r.key(s)
		args = append(args, s.Limits.RPM, s.Limits.TPM)
	}
	return keys, args
}

// key names a scope's hash. Length prefixes make ("a:b","c") and
// ("a","b:c") hash differently; the digest keeps user bytes out of the key.
func (r *Redis) key(s Scope) string {
	buf := make([]byte, 0, 2+2*binary.MaxVarintLen64+len(s.ID)+len(s.Model))
	buf = append(buf, byte(s.Kind))
	buf = binary.AppendUvarint(buf, uint64(len(s.ID)))
	buf = append(buf, s.ID...)
	buf = binary.AppendUvarint(buf, uint64(len(s.Model)))
	buf = append(buf, s.Model...)
	sum := sha256.Sum256(buf)
	return r.prefix + s.Kind.String() + ":" + base64.RawURLEncoding.EncodeToString(sum[:18])
}

var errBadReply = errors.New("ratelimit: unexpected reply from the redis script")

// parseLevels reads {allowed, r1, t1, r2, t2, ...}.
func parseLevels(res []any, n int) (bool, [MaxScopes]levels, error) {
	var lv [MaxScopes]levels
	if len(res) != 1+2*n {
		return false, lv, errBadReply
	}
	allowed, ok := res[0].(int64)
	if !ok {
		return false, lv, errBadReply
	}
	for i := 0; i < n; i++ {
		req, err1 := parseFloatReply(res[1+2*i])
		tok, err2 := parseFloatReply(res[2+2*i])
		if err := errors.Join(err1, err2); err != nil {
			return false, lv, err
		}
		lv[i] = levels{req: req, tok: tok}
	}
	return allowed == 1, lv, nil
}

func parseFloatReply(v any) (float64, error) {
	s, ok := v.(string)
	if !ok {
		return 0, errBadReply
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errBadReply, err)
	}
	return f, nil
}
