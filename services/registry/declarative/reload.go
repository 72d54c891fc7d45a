package declarative

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Reloader applies a config file at start and again whenever its content
// changes, without a restart. It polls the file (stat-free: it hashes the
// content) for the same reason the credential service polls key files: a
// ConfigMap or Secret mounted in Kubernetes changes by a symlink swap that
// file watches miss.
type Reloader struct {
	Path     string
	Planner  *Planner
	Interval time.Duration // how often the file is read; default 1 s
	Log      *slog.Logger

	// applied is called after each apply attempt (tests wait on it).
	applied func(*Result, error)
}

// maxRetryDelay caps the backoff while an apply keeps failing (an upstream
// down makes its registration probe fail); each retry re-plans, so only
// what is still missing is probed again.
const maxRetryDelay = time.Minute

// Run reloads until ctx ends.
func (r *Reloader) Run(ctx context.Context) {
	interval := r.Interval
	if interval <= 0 {
		interval = time.Second
	}
	var done [32]byte // hash of the content last applied in full
	retry, nextTry := time.Second, time.Time{}
	for ctx.Err() == nil {
		data, err := os.ReadFile(r.Path)
		switch {
		case err != nil:
			r.Log.Warn("config file unreadable; keeping what is applied", "path", r.Path, "err", err)
		case sha256.Sum256(data) != done && !time.Now().Before(nextTry):
			if r.apply(ctx, data) {
				done, retry, nextTry = sha256.Sum256(data), time.Second, time.Time{}
			} else {
				nextTry, retry = time.Now().Add(retry), min(2*retry, maxRetryDelay)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(interval):
		}
	}
}

// apply loads, plans and applies data; it reports whether nothing is left
// to do (a file that does not parse counts as done: retrying cannot help
// until it changes).
func (r *Reloader) apply(ctx context.Context, data []byte) bool {
	cfg, err := Parse(data, filepath.Dir(r.Path))
	if err != nil {
		r.Log.Error("config file refused; keeping what is applied", "path", r.Path, "err", err)
		r.report(nil, err)
		return true
	}
	plan, err := r.Planner.Plan(ctx, cfg)
	if err != nil {
		r.Log.Warn("config plan failed; retrying", "path", r.Path, "err", err)
		r.report(nil, err)
		return false
	}
	if plan.Empty() {
		r.Log.Debug("config file unchanged in effect", "path", r.Path)
		r.report(&Result{}, nil)
		return true
	}
	res := r.Planner.Apply(ctx, plan)
	for _, a := range res.Applied {
		r.Log.Info("config applied", "action", string(a.Verb), "name", a.Name, "changes", a.Changes)
	}
	if err := res.Err(); err != nil {
		r.Log.Warn("config partly applied; retrying the rest", "path", r.Path, "err", err)
		r.report(res, err)
		return false
	}
	r.report(res, nil)
	return true
}

func (r *Reloader) report(res *Result, err error) {
	if r.applied != nil {
		r.applied(res, err)
	}
}
