package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Kind is the class of an upstream outcome. Callers branch on it; people read
// the Diagnosis message.
type Kind string

// The outcome classes, one per row of the troubleshooting table.
const (
	KindOK            Kind = "ok"
	KindAuthInvalid   Kind = "auth_invalid"
	KindAuthOrCredits Kind = "auth_or_credits" // Anthropic: one status for both
	KindQuota         Kind = "quota_exhausted"
	KindPermission    Kind = "permission_denied"
	KindNotFound      Kind = "not_found"
	KindTLS           Kind = "tls_untrusted"
	KindTimeout       Kind = "timeout"
	KindUnreachable   Kind = "unreachable"
	KindRateLimited   Kind = "rate_limited"
	KindUnavailable   Kind = "unavailable"
	KindServerError   Kind = "server_error"
	KindRedirect      Kind = "redirect"
	KindRejected      Kind = "rejected" // any other 4xx
	KindCanceled      Kind = "canceled" // our caller gave up; says nothing about the upstream
	// KindCredentialUnresolvable means no request was sent: the key itself
	// could not be obtained (unset env var, unreadable file, decryption).
	KindCredentialUnresolvable Kind = "credential_unresolvable"
)

// Transient reports whether the condition normally clears without anyone
// changing configuration, credentials or billing; the router may retry
// elsewhere and count it toward a circuit breaker.
func (k Kind) Transient() bool {
	switch k {
	case KindTimeout, KindUnreachable, KindRateLimited, KindUnavailable, KindServerError:
		return true
	}
	return false
}

// Message prefixes, exactly as the troubleshooting table in the docs shows
// them, so operators can search for what they see.
const (
	MsgAuthInvalid   = "API key is missing or invalid"
	MsgAuthOrCredits = "API key is missing/invalid or account credits are exhausted"
	MsgQuota         = "account quota exhausted — check billing and credits"
	MsgPermission    = "API key lacks permission for this endpoint"
	MsgNotFound      = "endpoint not found — check the base URL and model name"
	MsgUnreachable   = "endpoint unreachable"
	MsgRateLimited   = "rate limited by upstream"
	MsgUnavailable   = "upstream is temporarily unavailable"
	MsgServerError   = "upstream server error"
	MsgRedirect      = "upstream answered with a redirect, which is not followed — check the base URL"
	MsgRejected      = "upstream rejected the request"
	MsgCanceled      = "request cancelled before the upstream answered"
	MsgCredential    = "credential unresolvable"
	// AdviceInsecureTLS follows a certificate verification failure.
	AdviceInsecureTLS = "if you trust this certificate, delete the service and re-register it " +
		"with allow-insecure TLS enabled (the setting is create-only)"
)

// Outcome is what happened on one upstream request: either a response
// (StatusCode, Header, Body) or a transport error (Err).
type Outcome struct {
	Protocol   Protocol
	Host       string // shown in messages; the URL host, e.g. api.openai.com
	StatusCode int
	Header     http.Header
	Body       []byte        // the start of the response body; 64 KiB is plenty
	Err        error         // transport error; a response with Err set means the body read failed
	Timeout    time.Duration // the deadline that applied, only to say so in the message
	Secret     string        // the API key that was sent; redacted from every message
	Now        time.Time     // for Retry-After dates; zero means time.Now()
}

// Diagnosis is the classified Outcome.
type Diagnosis struct {
	Kind       Kind
	Message    string // empty for KindOK
	RetryAfter time.Duration
}

// Classify turns an upstream outcome into a diagnosis a person can act on.
// Messages quote at most a short, sanitised provider message and never the
// key, even when the upstream echoes it.
func Classify(o Outcome) Diagnosis {
	if o.Err != nil && (o.StatusCode == 0 || isSuccess(o.StatusCode)) {
		return classifyTransport(o)
	}
	return classifyStatus(o)
}

func isSuccess(code int) bool { return code >= 200 && code < 300 }

func classifyStatus(o Outcome) Diagnosis {
	parsed := parseErrorBody(o.Body)
	kind := kindForStatus(o.Protocol, o.StatusCode, parsed)
	d := Diagnosis{Kind: kind}
	if kind == KindOK {
		return d
	}
	if kind == KindRateLimited || kind == KindUnavailable {
		now := o.Now
		if now.IsZero() {
			now = time.Now()
		}
		d.RetryAfter = RetryAfter(o.Header, o.Body, now)
	}
	d.Message = statusMessage(kind, o, d.RetryAfter, Sanitize(parsed.Message, o.Secret))
	return d
}

// kindForStatus encodes PROTOCOLS.md §5.8 and §8: the status code decides,
// except where providers overload one code with two meanings.
func kindForStatus(p Protocol, code int, e upstreamError) Kind {
	switch {
	case isSuccess(code):
		return KindOK
	case code >= 300 && code < 400:
		return KindRedirect
	case code == http.StatusUnauthorized && p == AnthropicV1:
		return KindAuthOrCredits
	case code == http.StatusUnauthorized:
		return KindAuthInvalid
	case code == http.StatusPaymentRequired:
		return KindQuota
	case code == http.StatusBadRequest || code == http.StatusForbidden:
		return kindForRejection(p, code, e)
	case code == http.StatusNotFound || code == http.StatusGone:
		return KindNotFound
	case code == http.StatusTooManyRequests && isQuotaExhausted(e):
		return KindQuota
	case code == http.StatusTooManyRequests:
		return KindRateLimited
	}
	return kindForServerSide(code)
}

// kindForRejection sorts out 400 and 403, which providers use for bad keys
// (Gemini 400 API_KEY_INVALID, Gemini 403 without a key, NVIDIA 403),
// billing (Anthropic 400 credit balance, Gemini 400 FAILED_PRECONDITION) and
// real permission problems alike.
func kindForRejection(p Protocol, code int, e upstreamError) Kind {
	switch {
	case isBadKey(e):
		return KindAuthInvalid
	case p == AnthropicV1 && e.mentions("credit balance"):
		return KindAuthOrCredits
	case e.Status == "FAILED_PRECONDITION" && e.mentions("billing"):
		return KindQuota
	case code == http.StatusForbidden:
		return KindPermission
	}
	return KindRejected
}

// kindForServerSide splits server-side failures: 502, 503, 504 and
// Anthropic's 529 mean "overloaded or a hop is down, try again shortly"; 500
// and anything else 5xx mean the upstream itself failed. 408 is the upstream
// timing out our request, which is the same kind of trouble as 504.
func kindForServerSide(code int) Kind {
	switch code {
	case http.StatusRequestTimeout, http.StatusBadGateway, http.StatusServiceUnavailable,
		http.StatusGatewayTimeout, 529:
		return KindUnavailable
	}
	if code >= 500 {
		return KindServerError
	}
	return KindRejected
}

func isBadKey(e upstreamError) bool {
	return e.hasReason("API_KEY_INVALID") || e.Code == "invalid_api_key" ||
		e.mentions("API key not valid") || e.mentions("unregistered callers") ||
		e.mentions("Authorization failed")
}

func isQuotaExhausted(e upstreamError) bool {
	return e.Code == "insufficient_quota" || e.Type == "insufficient_quota" ||
		e.Code == "credit_balance_exhausted"
}

var statusPrefixes = map[Kind]string{
	KindAuthInvalid:   MsgAuthInvalid,
	KindAuthOrCredits: MsgAuthOrCredits,
	KindQuota:         MsgQuota,
	KindPermission:    MsgPermission,
	KindNotFound:      MsgNotFound,
	KindRateLimited:   MsgRateLimited,
	KindUnavailable:   MsgUnavailable,
	KindServerError:   MsgServerError,
	KindRedirect:      MsgRedirect,
	KindRejected:      MsgRejected,
}

func statusMessage(kind Kind, o Outcome, retry time.Duration, quoted string) string {
	msg := fmt.Sprintf("%s (status %d from %s)", statusPrefixes[kind], o.StatusCode, Sanitize(o.Host))
	if retry > 0 {
		msg += fmt.Sprintf(", retry after %s", retry.Round(time.Millisecond))
	}
	if quoted != "" {
		msg += ": " + quoted
	}
	return msg
}

// classifyTransport explains a request that got no usable response.
func classifyTransport(o Outcome) Diagnosis {
	host := Sanitize(o.Host)
	cause := Sanitize(innermostCause(o.Err).Error(), o.Secret)
	switch {
	case errors.Is(o.Err, context.Canceled):
		return Diagnosis{Kind: KindCanceled, Message: fmt.Sprintf("%s (%s)", MsgCanceled, host)}
	case isTimeout(o.Err):
		return Diagnosis{Kind: KindTimeout, Message: timeoutMessage(host, o.Timeout)}
	case isCertificateError(o.Err):
		return Diagnosis{Kind: KindTLS,
			Message: fmt.Sprintf("%s: %s: %s — %s", MsgUnreachable, host, cause, AdviceInsecureTLS)}
	}
	return Diagnosis{Kind: KindUnreachable, Message: fmt.Sprintf("%s: %s: %s", MsgUnreachable, host, describeNetError(o.Err, cause))}
}

func timeoutMessage(host string, timeout time.Duration) string {
	if timeout > 0 {
		return fmt.Sprintf("%s: request to %s timed out after %s", MsgUnreachable, host, timeout)
	}
	return fmt.Sprintf("%s: request to %s timed out", MsgUnreachable, host)
}

// innermostCause drops the url.Error wrapper, whose text repeats the method
// and full URL; the message already names the host.
func innermostCause(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) && urlErr.Err != nil {
		return urlErr.Err
	}
	return err
}

func describeNetError(err error, cause string) string {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("DNS lookup of %s failed: no such host", Sanitize(dnsErr.Name))
	case errors.As(err, &dnsErr):
		return "DNS lookup failed: " + cause
	case errors.Is(err, syscall.ECONNREFUSED) && !strings.Contains(cause, "connection refused"):
		return "connection refused: " + cause
	}
	return cause
}

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
}

func isCertificateError(err error) bool {
	var (
		verifyErr    *tls.CertificateVerificationError
		authorityErr x509.UnknownAuthorityError
		hostnameErr  x509.HostnameError
		invalidErr   x509.CertificateInvalidError
	)
	return errors.As(err, &verifyErr) || errors.As(err, &authorityErr) ||
		errors.As(err, &hostnameErr) || errors.As(err, &invalidErr)
}
