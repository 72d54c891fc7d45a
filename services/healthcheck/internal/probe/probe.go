// Package probe checks one registered inference service against its upstream:
// is it reachable, does it know the model, and — where the upstream makes that
// provable — does it accept the API key. Probes are cheap metadata reads (or,
// for Azure, a request rejected before any token is generated), never a paid
// completion. The HTTP client is injected so that the caller decides the
// transport: the SSRF-guarded, redirect-free client from pkg/outbound in
// production, with insecure TLS only for the service that asked for it.
package probe

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/switchyard/switchyard/pkg/provider"
)

// Status is a service's health as shown to operators.
type Status string

// The statuses of the status model. Probe returns only Ready or Failed;
// Pending and Unknown are set by the healthcheck service itself.
const (
	StatusReady   Status = "Ready"
	StatusFailed  Status = "Failed"
	StatusPending Status = "Pending"
	StatusUnknown Status = "Unknown"
)

// Messages for the statuses that no probe produces.
const (
	PendingMessage = "Remote connection check is pending — upstream has not yet been verified"
	UnknownMessage = "No status has been reported for this service yet"
)

// NoteKeyNotVerified explains a Ready status whose key was not proven: the
// upstream answered a request that carried no key at all.
const NoteKeyNotVerified = "the upstream answers without an API key (for example vLLM or NIM " +
	"running without authentication), so the API key could not be verified"

// DefaultTimeout bounds a whole probe when Target.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Target is one service to probe. APIKey is a secret: it is sent in the
// protocol's credential header and nowhere else, and String and LogValue
// hide it.
type Target struct {
	Protocol provider.Protocol
	BaseURL  string // scheme, host and optional path prefix, without /v1
	Model    string // may contain '/', e.g. meta/llama-3.1-8b-instruct
	APIKey   string
	// AzureDeployment and AzureAPIVersion apply to AZURE_OPENAI only. An
	// empty or "v1" version selects the v1 surface (/openai/v1/...).
	AzureDeployment string
	AzureAPIVersion string
	Timeout         time.Duration // zero means DefaultTimeout
}

// String describes the target without its key.
func (t Target) String() string {
	return fmt.Sprintf("%s %s model=%q key=%s", t.Protocol, t.BaseURL, t.Model, keyState(t.APIKey))
}

// GoString keeps the key out of %#v.
func (t Target) GoString() string { return "probe.Target{" + t.String() + "}" }

// LogValue keeps the key out of structured logs.
func (t Target) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("protocol", string(t.Protocol)),
		slog.String("base_url", t.BaseURL),
		slog.String("model", t.Model),
		slog.String("azure_deployment", t.AzureDeployment),
		slog.String("api_key", keyState(t.APIKey)),
	)
}

func keyState(key string) string {
	if key == "" {
		return "none"
	}
	return "[REDACTED]"
}

func (t Target) timeout() time.Duration {
	if t.Timeout > 0 {
		return t.Timeout
	}
	return DefaultTimeout
}

// Result is the outcome of one probe.
type Result struct {
	Status      Status        // StatusReady or StatusFailed
	Kind        provider.Kind // machine-readable class; KindCanceled means "do not record"
	Message     string        // empty when Ready; the diagnosis when Failed
	HTTPStatus  int           // the status that decided the result; 0 when none arrived
	Host        string        // the upstream host the result came from
	KeyVerified bool          // the upstream proved it checks the key we sent
	Note        string        // what the probe could not prove, e.g. NoteKeyNotVerified
	RetryAfter  time.Duration // how long the upstream asked us to wait, if it did
}

// Probe checks t using client and returns Ready or Failed. It never returns a
// Result that contains the API key.
func Probe(ctx context.Context, client *http.Client, t Target) Result {
	base, err := validateTarget(t)
	if err != nil {
		return Result{Status: StatusFailed, Kind: provider.KindRejected,
			Message: "invalid service configuration: " + provider.Sanitize(err.Error(), t.APIKey)}
	}
	ctx, cancel := context.WithTimeout(ctx, t.timeout())
	defer cancel()
	p := &prober{client: client, target: t, base: base}
	proof, res := p.checkModel(ctx)
	if res.Status != StatusReady {
		return res
	}
	res.KeyVerified, res.Note = p.checkKeyEnforced(ctx, proof, res.Note)
	return res
}

// prober carries one probe's state between its requests.
type prober struct {
	client *http.Client
	target Target
	base   baseURL
}

// reply is one upstream exchange, body already read (up to a limit).
type reply struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// send performs one request. withKey=false sends it without credentials.
// readLimit 0 skips reading the body, for requests judged by status alone.
func (p *prober) send(ctx context.Context, r request, withKey bool, readLimit int64) reply {
	req, err := r.build(ctx)
	if err != nil {
		return reply{err: err}
	}
	key := ""
	if withKey {
		key = p.target.APIKey
	}
	p.target.Protocol.SetAuth(req.Header, key)
	resp, err := p.client.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	out := reply{status: resp.StatusCode, header: resp.Header}
	if readLimit > 0 {
		out.body, out.err = io.ReadAll(io.LimitReader(resp.Body, readLimit))
	}
	return out
}

// diagnose classifies a reply with the shared provider rules.
func (p *prober) diagnose(r reply) provider.Diagnosis {
	return provider.Classify(provider.Outcome{
		Protocol:   p.target.Protocol,
		Host:       p.base.host(),
		StatusCode: r.status,
		Header:     r.header,
		Body:       r.body,
		Err:        r.err,
		Timeout:    p.target.timeout(),
		Secret:     p.target.APIKey,
	})
}

// failed turns a non-OK diagnosis into a Failed result.
func (p *prober) failed(r reply, d provider.Diagnosis) Result {
	return Result{Status: StatusFailed, Kind: d.Kind, Message: d.Message,
		HTTPStatus: r.status, Host: p.base.host(), RetryAfter: d.RetryAfter}
}

func (p *prober) ready(r reply, note string) Result {
	return Result{Status: StatusReady, Kind: provider.KindOK, HTTPStatus: r.status,
		Host: p.base.host(), Note: note}
}

// unexpected reports a success status whose body is not what the endpoint
// returns, which usually means the base URL points at some other server.
func (p *prober) unexpected(r reply, what string) Result {
	msg := fmt.Sprintf("unexpected response from upstream (status %d from %s): %s — check the base URL",
		r.status, provider.Sanitize(p.base.host()), what)
	return Result{Status: StatusFailed, Kind: provider.KindRejected, Message: msg,
		HTTPStatus: r.status, Host: p.base.host()}
}

// checkKeyEnforced repeats the request that proved the model, without a key.
// Only an upstream that refuses it shows that it checks keys at all; one that
// answers the same way accepts any key, and we must say the key is unproven.
func (p *prober) checkKeyEnforced(ctx context.Context, proof request, note string) (bool, string) {
	if p.target.APIKey == "" {
		return false, joinNotes(note, "no API key is configured and the upstream accepts requests without one")
	}
	r := p.send(ctx, proof, false, 0)
	switch {
	case r.err != nil:
		return false, joinNotes(note, "the API key could not be verified: the check without a key did not complete")
	case r.status == http.StatusUnauthorized || r.status == http.StatusForbidden:
		return true, note
	case r.status == proof.acceptStatus || r.status < 300:
		return false, joinNotes(note, NoteKeyNotVerified)
	}
	return false, joinNotes(note, fmt.Sprintf(
		"the API key could not be verified: the upstream answered %d to a request without a key", r.status))
}

func joinNotes(first, second string) string {
	if first == "" {
		return second
	}
	return first + "; " + second
}

// CredentialProblem says why a service's API key could not be obtained, so
// no probe could be sent.
type CredentialProblem int

// The ways resolving a credential fails.
const (
	// CredentialEnvUnset: the credential names an environment variable
	// that is unset or empty where the credential service runs.
	CredentialEnvUnset CredentialProblem = iota + 1
	// CredentialFileUnreadable: the credential names a file (a mounted
	// Kubernetes Secret) that is missing or unreadable.
	CredentialFileUnreadable
	// CredentialDecryptFailed: the stored ciphertext cannot be decrypted,
	// usually because the master key it was sealed with is not loaded.
	CredentialDecryptFailed
	// CredentialMissing: the service refers to a credential that does not
	// exist.
	CredentialMissing
)

// CredentialUnresolvable builds the Failed result for a service whose key
// could not be resolved. ref names what is missing and must not be secret:
// the environment variable name, the file path, the master key id, or the
// credential name.
func CredentialUnresolvable(problem CredentialProblem, ref string) Result {
	return Result{
		Status:  StatusFailed,
		Kind:    provider.KindCredentialUnresolvable,
		Message: provider.MsgCredential + ": " + credentialDetail(problem, provider.Sanitize(ref)),
	}
}

func credentialDetail(problem CredentialProblem, ref string) string {
	switch problem {
	case CredentialEnvUnset:
		return fmt.Sprintf("environment variable %q is not set or is empty where the credential service runs", ref)
	case CredentialFileUnreadable:
		return fmt.Sprintf("file %q is missing or unreadable — check the mounted secret", ref)
	case CredentialDecryptFailed:
		return fmt.Sprintf("the stored secret cannot be decrypted with master key %q — "+
			"check that the credential service has that key loaded", ref)
	case CredentialMissing:
		return fmt.Sprintf("credential %q does not exist — edit the service and set its API key", ref)
	}
	return fmt.Sprintf("the API key could not be obtained (%s)", ref)
}
