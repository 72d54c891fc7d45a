package syctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/apierr"
	"github.com/switchyard/switchyard/pkg/natsrpc"
)

// connectTimeout bounds the dial; the request itself is bounded by
// --timeout.
const connectTimeout = 5 * time.Second

// startHint is what to do when nothing answers.
const startHint = "is Switchyard running? start it with `make run` (or the `switchyard` binary), " +
	"or point syctl at it with --nats-url / SY_NATS_URL"

// permissionHint is what to do when NATS refuses a subject.
const permissionHint = "this NATS user may not use that subject: admin commands need the admin user " +
	"(--nats-user / SY_NATS_USER; in the compose stack deploy/.secrets/admin.env), see deploy/nats/auth.conf"

// connectError is a failure to reach NATS at all.
type connectError struct {
	url string
	err error
}

func (e *connectError) Error() string {
	return fmt.Sprintf("cannot connect to NATS at %s: %v", e.url, e.err)
}

func (e *connectError) Unwrap() error { return e.err }

// connect dials NATS once. Unlike natsx.Connect, which suits long-lived
// services (retry forever, buffer while disconnected), a command line must
// fail fast when the server is not there.
func (c *cli) connect() (*nats.Conn, error) {
	g := c.global
	opts := []nats.Option{
		nats.Name("syctl"),
		nats.Timeout(connectTimeout),
		nats.NoReconnect(),
	}
	if g.natsCreds != "" {
		opts = append(opts, nats.UserCredentials(g.natsCreds))
	}
	if g.natsUser != "" {
		opts = append(opts, nats.UserInfo(g.natsUser, g.natsPassword.value))
	}
	nc, err := nats.Connect(g.natsURL, opts...)
	if err != nil {
		return nil, &connectError{url: redactURL(g.natsURL), err: err}
	}
	return nc, nil
}

// call connects, sends one admin request and closes the connection.
func (c *cli) call(ctx context.Context, subject string, req, rep proto.Message) error {
	nc, err := c.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, explain, stop := watchRefusals(ctx, nc)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, c.global.timeout)
	defer cancel()
	return explain(natsrpc.Call(ctx, nc, subject, req, rep))
}

// permissionError is the server refusing this connection's user a subject
// (deploy/nats/auth.conf). It names the subject, never a secret.
type permissionError struct{ err error }

func (e *permissionError) Error() string { return "NATS refused the request: " + e.err.Error() }

func (e *permissionError) Unwrap() error { return e.err }

// watchRefusals ends ctx as soon as the server reports a permissions
// violation on nc. A refused publish is otherwise silent: the request
// would only time out with "no reply ... overloaded". explain swaps an
// error caused by a refusal for the permissionError.
func watchRefusals(ctx context.Context, nc *nats.Conn) (context.Context, func(error) error, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) {
			cancel(&permissionError{err: err})
		}
	})
	explain := func(err error) error {
		var pe *permissionError
		if err != nil && errors.As(context.Cause(ctx), &pe) {
			return pe
		}
		return err
	}
	return ctx, explain, func() { cancel(nil) }
}

// redactURL hides any password in a NATS URL (nats://user:pass@host).
func redactURL(raw string) string {
	var parts []string
	for _, one := range strings.Split(raw, ",") {
		u, err := url.Parse(strings.TrimSpace(one))
		if err != nil {
			parts = append(parts, "(unparsable URL)")
			continue
		}
		parts = append(parts, u.Redacted())
	}
	return strings.Join(parts, ",")
}

// printError writes err for a person: the server's message (which says what
// to do), the field at fault when there is one, and a hint when nothing
// answered. Messages come from apierr, which never carries secrets.
func printError(w io.Writer, err error) {
	var ae *apierr.Error
	var ce *connectError
	var pe *permissionError
	switch {
	case errors.As(err, &pe):
		fmt.Fprintf(w, "error: %s\nhint: %s\n", pe.Error(), permissionHint)
	case errors.As(err, &ae):
		fmt.Fprintf(w, "error: %s\n", ae.Message)
		if ae.Field != "" {
			fmt.Fprintf(w, "field: %s\n", ae.Field)
		}
		if hint := hintFor(ae); hint != "" {
			fmt.Fprintf(w, "hint: %s\n", hint)
		}
	case errors.As(err, &ce):
		fmt.Fprintf(w, "error: %s\nhint: %s\n", ce.Error(), startHint)
	default:
		fmt.Fprintf(w, "error: %v\n", err)
	}
}

// hintFor adds advice the server cannot give: it never saw the request.
// natsrpc reports NATS "no responders" as Unavailable with "no service
// answers"; the test for the hint pins that wording.
func hintFor(e *apierr.Error) string {
	switch {
	case e.Code == apierr.Unavailable && strings.Contains(e.Message, "no service answers"):
		return startHint
	case e.Code == apierr.DeadlineExceeded:
		return "wait longer with --timeout (an inline upstream probe can take up to 10 s)"
	}
	return ""
}
