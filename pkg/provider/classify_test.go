package provider

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// These cases pin the status-code rules of kindForStatus with the bodies of
// PROTOCOLS.md; the probe package tests the same rows end to end through
// HTTP fakes of each provider.
func TestClassifyStatus(t *testing.T) {
	cases := []struct {
		name     string
		protocol Protocol
		status   int
		body     string
		want     Kind
		prefix   string
	}{
		{"2xx", OpenAIV1, 200, `{}`, KindOK, ""},
		{"OpenAI 401", OpenAIV1, 401, `{"error":{"message":"x","type":"invalid_request_error","code":"invalid_api_key"}}`, KindAuthInvalid, MsgAuthInvalid + " (status 401 from h)"},
		{"Anthropic 401", AnthropicV1, 401, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`, KindAuthOrCredits, MsgAuthOrCredits},
		{"Anthropic 400 credit", AnthropicV1, 400, `{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}`, KindAuthOrCredits, MsgAuthOrCredits},
		{"Anthropic 400 other", AnthropicV1, 400, `{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: required"}}`, KindRejected, MsgRejected},
		{"Anthropic 402 billing", AnthropicV1, 402, `{"type":"error","error":{"type":"billing_error","message":"billing"}}`, KindQuota, MsgQuota},
		{"OpenRouter 402", OpenAIV1, 402, `{"error":{"code":402,"message":"Insufficient credits"}}`, KindQuota, MsgQuota},
		{"Gemini 400 key", GeminiV1Beta, 400, `{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}`, KindAuthInvalid, MsgAuthInvalid},
		{"Gemini 400 billing", GeminiV1Beta, 400, `{"error":{"code":400,"message":"Gemini API free tier is not available in your country. Please enable billing on your project.","status":"FAILED_PRECONDITION"}}`, KindQuota, MsgQuota},
		{"Gemini 403 no key", GeminiV1Beta, 403, `{"error":{"code":403,"message":"Method doesn't allow unregistered callers (callers without established identity).","status":"PERMISSION_DENIED"}}`, KindAuthInvalid, MsgAuthInvalid},
		{"Gemini 403 permission", GeminiV1Beta, 403, `{"error":{"code":403,"message":"Permission denied","status":"PERMISSION_DENIED"}}`, KindPermission, MsgPermission},
		{"NVIDIA 403", OpenAIV1, 403, `{"status":403,"title":"Forbidden","detail":"Authorization failed"}`, KindAuthInvalid, MsgAuthInvalid},
		{"OpenAI 403 region", OpenAIV1, 403, `{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","code":"unsupported_country_region_territory"}}`, KindPermission, MsgPermission},
		{"404", OpenAIV1, 404, `{"detail":"Not Found"}`, KindNotFound, MsgNotFound},
		{"NVIDIA 410 empty", OpenAIV1, 410, ``, KindNotFound, MsgNotFound},
		{"429 quota", OpenAIV1, 429, `{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}`, KindQuota, MsgQuota},
		{"429 rate", OpenAIV1, 429, `{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}`, KindRateLimited, MsgRateLimited},
		{"408", OpenAIV1, 408, ``, KindUnavailable, MsgUnavailable},
		{"500", OpenAIV1, 500, ``, KindServerError, MsgServerError},
		{"501", OpenAIV1, 501, ``, KindServerError, MsgServerError},
		{"502", OpenAIV1, 502, ``, KindUnavailable, MsgUnavailable},
		{"503", OpenAIV1, 503, ``, KindUnavailable, MsgUnavailable},
		{"504", OpenAIV1, 504, ``, KindUnavailable, MsgUnavailable},
		{"529", AnthropicV1, 529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, KindUnavailable, MsgUnavailable},
		{"301", OpenAIV1, 301, ``, KindRedirect, MsgRedirect},
		{"422", OpenAIV1, 422, ``, KindRejected, MsgRejected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Classify(Outcome{Protocol: tc.protocol, Host: "h", StatusCode: tc.status, Body: []byte(tc.body)})
			if d.Kind != tc.want || !strings.HasPrefix(d.Message, tc.prefix) {
				t.Fatalf("got %s %q, want %s starting %q", d.Kind, d.Message, tc.want, tc.prefix)
			}
			if tc.want == KindOK && d.Message != "" {
				t.Errorf("OK carries message %q", d.Message)
			}
		})
	}
}

func TestClassifyRetryAfterOnlyForTransientStatuses(t *testing.T) {
	header := http.Header{"Retry-After": {"7"}}
	cases := []struct {
		status int
		want   time.Duration
	}{{429, 7 * time.Second}, {503, 7 * time.Second}, {529, 7 * time.Second}, {401, 0}, {500, 0}}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			d := Classify(Outcome{Protocol: AnthropicV1, Host: "h", StatusCode: tc.status, Header: header})
			if d.RetryAfter != tc.want {
				t.Fatalf("RetryAfter %s, want %s", d.RetryAfter, tc.want)
			}
		})
	}
}

// TestClassifyTransportErrors uses errors from real failed requests.
func TestClassifyTransportErrors(t *testing.T) {
	tlsServer := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsServer.Close)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := listener.Addr().String()
	_ = listener.Close()
	expired, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	canceled, cancelNow := context.WithCancel(context.Background())
	cancelNow()

	cases := []struct {
		name string
		ctx  context.Context
		url  string
		want Kind
		in   string
	}{
		{"TLS", context.Background(), tlsServer.URL, KindTLS, "x509: "},
		{"refused", context.Background(), "http://" + refused, KindUnreachable, "connection refused"},
		{"timeout", expired, "http://" + refused, KindTimeout, "timed out after 1ns"},
		{"canceled", canceled, "http://" + refused, KindCanceled, MsgCanceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(tc.ctx, http.MethodGet, tc.url, nil)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("request unexpectedly succeeded")
			}
			d := Classify(Outcome{Host: "h", Err: err, Timeout: time.Nanosecond})
			if d.Kind != tc.want || !strings.Contains(d.Message, tc.in) {
				t.Fatalf("got %s %q, want %s containing %q", d.Kind, d.Message, tc.want, tc.in)
			}
		})
	}
}

func TestKindTransient(t *testing.T) {
	transient := map[Kind]bool{KindTimeout: true, KindUnreachable: true, KindRateLimited: true,
		KindUnavailable: true, KindServerError: true}
	all := []Kind{KindOK, KindAuthInvalid, KindAuthOrCredits, KindQuota, KindPermission, KindNotFound,
		KindTLS, KindTimeout, KindUnreachable, KindRateLimited, KindUnavailable, KindServerError,
		KindRedirect, KindRejected, KindCanceled, KindCredentialUnresolvable}
	for _, k := range all {
		if k.Transient() != transient[k] {
			t.Errorf("%s.Transient() = %v, want %v", k, k.Transient(), transient[k])
		}
	}
}

func BenchmarkClassifyOpenAI401(b *testing.B) {
	body := []byte(`{"error":{"message":"Incorrect API key provided: sk-test-****cdef. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
	o := Outcome{Protocol: OpenAIV1, Host: "api.openai.com", StatusCode: 401, Body: body, Secret: "sk-test-VALIDKEY-0123456789abcdef"}
	for b.Loop() {
		Classify(o)
	}
}

func BenchmarkSanitizeTypicalMessage(b *testing.B) {
	msg := "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 28039, Requested 3906. Please try again in 3.89s."
	for b.Loop() {
		Sanitize(msg, "sk-test-VALIDKEY-0123456789abcdef")
	}
}

func TestParseErrorBody(t *testing.T) {
	cases := []struct {
		name string
		body string
		want upstreamError
	}{
		{"OpenAI", `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			upstreamError{Message: "Incorrect API key provided", Type: "invalid_request_error", Code: "invalid_api_key"}},
		{"OpenAI null code", `{"error":{"message":"m","type":"server_error","param":null,"code":null}}`,
			upstreamError{Message: "m", Type: "server_error"}},
		{"Anthropic", `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_1"}`,
			upstreamError{Message: "invalid x-api-key", Type: "authentication_error"}},
		{"Gemini", `{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"47s"}]}}`,
			upstreamError{Message: "API key not valid.", Code: "400", Status: "INVALID_ARGUMENT", Reasons: []string{"API_KEY_INVALID"}, RetryDelay: 47 * time.Second}},
		{"Azure string code", `{"error":{"code":"DeploymentNotFound","message":"does not exist"}}`,
			upstreamError{Message: "does not exist", Code: "DeploymentNotFound"}},
		{"OpenRouter numeric code", `{"error":{"code":402,"message":"Insufficient credits","metadata":{"limit_source":"openrouter_credits"}}}`,
			upstreamError{Message: "Insufficient credits", Code: "402"}},
		{"vLLM auth string error", `{"error":"Unauthorized"}`, upstreamError{Message: "Unauthorized"}},
		{"vLLM old flat", `{"object":"error","message":"The model x does not exist.","type":"NotFoundError","param":null,"code":404}`,
			upstreamError{Message: "The model x does not exist.", Type: "NotFoundError", Code: "404"}},
		{"FastAPI detail", `{"detail":"Not Found"}`, upstreamError{Message: "Not Found"}},
		{"NVIDIA problem", `{"status":403,"title":"Forbidden","detail":"Authorization failed"}`, upstreamError{Message: "Authorization failed"}},
		{"problem without detail", `{"status":404,"title":"Not Found"}`, upstreamError{Message: "Not Found"}},
		{"empty", ``, upstreamError{}},
		{"HTML", `<html>502 Bad Gateway</html>`, upstreamError{}},
		{"JSON array", `[{"error":{"message":"streamed"}}]`, upstreamError{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := parseErrorBody([]byte(tc.body))
			if got.Message != tc.want.Message || got.Type != tc.want.Type || got.Code != tc.want.Code ||
				got.Status != tc.want.Status || !slices.Equal(got.Reasons, tc.want.Reasons) || got.RetryDelay != tc.want.RetryDelay {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	gemini := `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"12.5s"}]}}`
	cases := []struct {
		name   string
		header http.Header
		body   string
		want   time.Duration
	}{
		{"seconds", http.Header{"Retry-After": {"20"}}, "", 20 * time.Second},
		{"fractional seconds", http.Header{"Retry-After": {"1.5"}}, "", 1500 * time.Millisecond},
		{"milliseconds win", http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"20"}}, "", 250 * time.Millisecond},
		{"HTTP date", http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, "", 90 * time.Second},
		{"date in the past", http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, "", 0},
		{"Gemini retryDelay", http.Header{}, gemini, 12500 * time.Millisecond},
		{"header beats body", http.Header{"Retry-After": {"3"}}, gemini, 3 * time.Second},
		{"capped", http.Header{"Retry-After": {"31536000"}}, "", time.Hour},
		{"overflow capped", http.Header{"Retry-After": {"1e300"}}, "", time.Hour},
		{"negative ignored", http.Header{"Retry-After": {"-5"}}, "", 0},
		{"garbage ignored", http.Header{"Retry-After": {"soon"}}, "", 0},
		{"nothing", http.Header{}, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := RetryAfter(tc.header, []byte(tc.body), now); got != tc.want {
				t.Fatalf("RetryAfter = %s, want %s", got, tc.want)
			}
		})
	}
}

const (
	testSecret  = "sk-proj-Zx81QqLmNo42PwRt77Ab"
	slashSecret = "a/b+c=d/e+f=g/h" // every fragment changes when URL-encoded
)

func TestSanitize(t *testing.T) {
	long := strings.Repeat("word ", 100)
	cases := []struct {
		name string
		in   string
		want string
	}{
		{"plain text kept", "invalid x-api-key", "invalid x-api-key"},
		{"raw key", "Incorrect API key provided: " + testSecret + ".", "Incorrect API key provided: [REDACTED]."},
		{"base64 key", "token " + base64.StdEncoding.EncodeToString([]byte(testSecret)), "token [REDACTED]"},
		{"url-encoded key", "url ?key=" + url.QueryEscape(slashSecret) + "&x=1", "url ?key=[REDACTED]&x=1"},
		{"key suffix", "key ends ..." + testSecret[len(testSecret)-8:], "key ends ...[REDACTED]"},
		{"masked echo", "Incorrect API key provided: sk-proj-****************77Ab. Find yours", "Incorrect API key provided: [REDACTED] Find yours"},
		{"control characters and newlines", "line1\n\tline2\x1b[31m\u202eevil", "line1 line2 [31m evil"},
		{"invalid UTF-8", "bad \xff\xfe bytes", "bad bytes"},
		{"truncated", long, strings.TrimSpace(long[:MaxQuotedMessage-1]) + "…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sanitize(tc.in, testSecret, slashSecret); got != tc.want {
				t.Fatalf("Sanitize = %q\nwant       %q", got, tc.want)
			}
		})
	}
}

func TestSanitizeIgnoresTinySecrets(t *testing.T) {
	if got := Sanitize("a normal sentence", "a"); got != "a normal sentence" {
		t.Fatalf("a one-letter secret mangled the text: %q", got)
	}
}

// FuzzSanitize checks the redactor's contract on arbitrary text and keys: no
// key fragment of secretWindow bytes survives, the output is valid, printable
// UTF-8 and never longer than MaxQuotedMessage runes.
func FuzzSanitize(f *testing.F) {
	f.Add("Incorrect API key provided: sk-abc123456789", "sk-abc123456789")
	f.Add("nothing secret here", "AIzaSyD-0123456789abcdef")
	f.Add("dup aaaaaaaaaa aaaaaa", "aaaaaaa")
	f.Fuzz(func(t *testing.T, text, secret string) {
		got := Sanitize(text+" "+secret+" "+text, secret)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > MaxQuotedMessage {
			t.Fatalf("invalid or too long output %q", got)
		}
		if len(secret) < minSecretLen || normalize(secret) != secret || strings.Contains(secret, " ") {
			return // real keys are printable and contain no spaces
		}
		width := min(secretWindow, len(secret))
		for i := 0; i+width <= len(secret); i++ {
			if strings.Contains(got, secret[i:i+width]) && !strings.Contains(redacted, secret[i:i+width]) {
				t.Fatalf("fragment %q of the secret survived in %q", secret[i:i+width], got)
			}
		}
	})
}
