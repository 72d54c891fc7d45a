package routerapp

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/services/router/internal/ratelimit"
)

// LimitsConfig chooses the rate-limit backend.
type LimitsConfig struct {
	// RedisURL selects the shared Redis backend (redis://[user:pass@]host:port/db
	// or rediss://); empty keeps limits in memory, exact for one replica.
	RedisURL string
	// Failure is what happens while Redis is down or slow: open (a local
	// limiter per replica, the default) or closed (503 until it is back).
	Failure FailureMode
	// Replicas is how many router replicas share the limits. While failing
	// open each replica enforces limit / Replicas locally, so with an even
	// spread the cluster-wide cap stays near the limit; with the default 1
	// each replica enforces the whole limit (cap: limit × replicas).
	Replicas int
	// Timeout bounds each Redis call; past it the failure policy decides.
	Timeout time.Duration
}

func (c *LimitsConfig) registerFlags(fs *flag.FlagSet, prefix string) {
	fs.StringVar(&c.RedisURL, prefix+"redis-url", "", "Redis URL for rate limits shared by every router replica (empty: in memory, one replica)")
	fs.Var(&c.Failure, prefix+"ratelimit-failure", "while Redis is down or slow: open (local limiter per replica) or closed (answer 503)")
	fs.IntVar(&c.Replicas, prefix+"ratelimit-replicas", 1, "router replicas sharing Redis; while failing open each enforces limit/replicas")
	fs.DurationVar(&c.Timeout, prefix+"ratelimit-timeout", 20*time.Millisecond, "longest a Redis rate-limit call may add to a request")
}

func (c *LimitsConfig) validate() error {
	if c.Replicas < 1 {
		return fmt.Errorf("router: -ratelimit-replicas must be at least 1, got %d", c.Replicas)
	}
	if c.RedisURL != "" {
		if _, err := redis.ParseURL(c.RedisURL); err != nil {
			return fmt.Errorf("router: -redis-url: %w", redactURLError(err, c.RedisURL))
		}
	}
	return nil
}

// FailureMode is the -ratelimit-failure flag.
type FailureMode ratelimit.Mode

func (m *FailureMode) String() string {
	if m != nil && ratelimit.Mode(*m) == ratelimit.FailClosed {
		return "closed"
	}
	return "open"
}

// Set implements flag.Value.
func (m *FailureMode) Set(v string) error {
	switch strings.ToLower(v) {
	case "open":
		*m = FailureMode(ratelimit.FailOpen)
	case "closed":
		*m = FailureMode(ratelimit.FailClosed)
	default:
		return fmt.Errorf("ratelimit-failure must be open or closed, got %q", v)
	}
	return nil
}

// newLimiter builds the configured limiter and names its backend for
// metrics; close releases the Redis client.
func newLimiter(c LimitsConfig, log *slog.Logger) (lim ratelimit.Limiter, backend string, closeFn func(), err error) {
	if c.RedisURL == "" {
		return ratelimit.NewMemory(ratelimit.MemoryOptions{}), "memory", func() {}, nil
	}
	opts, err := redis.ParseURL(c.RedisURL)
	if err != nil {
		return nil, "", nil, redactURLError(err, c.RedisURL)
	}
	redis.SetLogger(redisLog{log})
	client := redis.NewClient(ratelimit.ClientOptions(opts))
	primary, err := ratelimit.NewRedis(client, ratelimit.RedisOptions{})
	if err != nil {
		_ = client.Close()
		return nil, "", nil, err
	}
	f := ratelimit.NewFailover(primary, ratelimit.FailoverOptions{Mode: ratelimit.Mode(c.Failure),
		Timeout: c.Timeout, LocalScale: 1 / float64(c.Replicas), Logger: log})
	log.Info("rate limits shared through Redis", "addr", opts.Addr, "on_failure", c.Failure.String(), "replicas", c.Replicas)
	return f, "redis", func() { _ = client.Close() }, nil
}

// redisLog sends go-redis's own messages (one per failed dial while Redis
// is down) to slog at debug level: the failover already logs the outage
// once per interval, with the policy in force.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client", "msg", fmt.Sprintf(format, v...))
}

// redactURLError keeps a Redis password out of an error message.
func redactURLError(err error, url string) error {
	msg := err.Error()
	if at := strings.LastIndexByte(url, '@'); at > 0 {
		msg = strings.ReplaceAll(msg, url[:at], "<redacted>")
	}
	return fmt.Errorf("%s", msg)
}
