package outbound

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateURLAccepts(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"https://api.openai.com", "https://api.openai.com"},
		{"https://api.openai.com/v1", "https://api.openai.com/v1"},
		{"HTTPS://API.Anthropic.COM/", "https://api.anthropic.com/"},
		{"http://vllm.default.svc.cluster.local:8000/v1", "http://vllm.default.svc.cluster.local:8000/v1"},
		{"http://my_vllm:8000", "http://my_vllm:8000"},
		{"http://example.com:0080/", "http://example.com:80/"},
		{"http://example.com:/x", "http://example.com/x"},
		{"http://example.com./", "http://example.com./"},
		{"http://10.0.3.7:8000/v1", "http://10.0.3.7:8000/v1"},
		{"http://[2001:DB8:0:0::1]:8443/", "http://[2001:db8::1]:8443/"},
		{"http://[0:0:0:0:0:ffff:a9fe:a9fe]/", "http://[::ffff:169.254.169.254]/"},
		{"https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"},
		{"https://res.openai.azure.com/openai/deployments/gpt?api-version=2024-10-21", "https://res.openai.azure.com/openai/deployments/gpt?api-version=2024-10-21"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := ValidateURL(tt.in)
			if err != nil {
				t.Fatalf("ValidateURL(%q): %v", tt.in, err)
			}
			if got := u.String(); got != tt.want {
				t.Errorf("ValidateURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidateURLRefuses(t *testing.T) {
	tests := []struct {
		in      string
		blocked bool   // ErrBlocked rather than ErrInvalidURL
		want    string // part of the message
	}{
		{in: "", want: "empty"},
		{in: "api.openai.com", want: "no scheme"},
		{in: "file:///etc/passwd", want: "only http:// and https://"},
		{in: "gopher://127.0.0.1:6379/_FLUSHALL", want: "only http:// and https://"},
		{in: "ftp://example.com/", want: "only http:// and https://"},
		{in: "javascript:alert(1)", want: "only http:// and https://"},
		{in: "http:example.com", want: "write the URL as http://host/path"},
		{in: "https://user:pass@example.com/", want: "user name or password"},
		{in: "https://user@example.com/", want: "user name or password"},
		{in: "http://evil.example#@good.example/", want: "fragment"},
		{in: "http://example.com/#", want: "fragment"},
		{in: "http://example.com\\@169.254.169.254/", want: "backslash"},
		{in: "http://example.com /", want: "whitespace"},
		{in: " http://example.com/", want: "whitespace"},
		{in: "http://exa\tmple.com/", want: "whitespace"},
		{in: "http:///path", want: "no host"},
		{in: "http://:80/", want: "no host"},
		{in: "http://example.com:99999/", want: "port"},
		{in: "http://[127.0.0.1]/", want: "cannot be parsed"},
		{in: "http://[fe80::1%25eth0]/", want: "zone"},
		{in: "http://%31%32%37.0.0.1/", want: "cannot be parsed (invalid URL escape)"},
		{in: "http://exa..mple.com/", want: "not a valid DNS name"},
		{in: "http://-_!.com/", want: "not a valid DNS name"},
		{in: "http://" + strings.Repeat("a", 64) + ".com/", want: "not a valid DNS name"},
		{in: "http://ｌｏｃａｌｈｏｓｔ/", want: "punycode"},
		{in: "http://①②⑦。0。0。1/", want: "punycode"},
		{in: "http://exаmple.com/", want: "punycode"}, // Cyrillic а
		{in: "http://bücher.example/", want: "punycode"},
		{in: "http://" + strings.Repeat("a", maxURLLength), want: "longer"},
		{in: "http://2130706433/", blocked: true, want: "2130706433 is a non-standard numeric IPv4"},
		{in: "http://0x7f000001/", blocked: true, want: "numeric IPv4"},
		{in: "http://017700000001/", blocked: true, want: "numeric IPv4"},
		{in: "http://127.1/", blocked: true, want: "numeric IPv4"},
		{in: "http://127.000.000.001/", blocked: true, want: "numeric IPv4"},
		{in: "http://metadata.google.internal/computeMetadata/v1/", blocked: true, want: "cloud metadata"},
		{in: "http://METADATA.GOOGLE.INTERNAL./", blocked: true, want: "cloud metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ValidateURL(tt.in)
			if err == nil {
				t.Fatalf("ValidateURL(%q) accepted it", tt.in)
			}
			want := ErrInvalidURL
			if tt.blocked {
				want = ErrBlocked
			}
			if !errors.Is(err, want) {
				t.Errorf("error %v does not match %v", err, want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}

func TestValidateURLNeverEchoesCredentials(t *testing.T) {
	const secret = "sk-canary-7f3a9d"
	inputs := []string{
		"https://user:" + secret + "@example.com/",
		"https://" + secret + "@example.com/",
		"https://user:" + secret + "@exa mple.com/",
		"https://user:" + secret + "@[::1/",
		"https://user:" + secret + "@example.com:bad/",
		"https://user:" + secret + "%zz@example.com/",
		secret + ":" + secret + "@example.com",
		"http://example.com:" + secret + "/",
	}
	for _, in := range inputs {
		_, err := ValidateURL(in)
		if err == nil {
			t.Fatalf("ValidateURL(%q) accepted it", in)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error for %q echoes the secret: %v", in, err)
		}
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		policy string
		in     string
		allow  bool
	}{
		{"", "https://api.openai.com/v1", true},
		{"", "http://rebind.example/", true}, // names are judged at dial time
		{"", "http://169.254.169.254/latest/meta-data/", false},
		{"", "http://[fd00:ec2::254]/", false},
		{"", "http://100.100.100.200/", false},
		{"", "http://127.0.0.1:8222/varz", false},
		{"", "http://localhost:6379", false},
		{"", "http://api.localhost/", false},
		{"", "http://0.0.0.0/", false},
		{"", "http://[::1]/", false},
		{"", "http://[::ffff:169.254.169.254]/", false},
		{"", "http://10.0.3.7:8000/v1", false},
		{"private", "http://10.0.3.7:8000/v1", true},
		{"private", "http://[fd00:ec2::254]/", false},
		{"10.0.3.7", "http://10.0.3.7:8000/v1", true},
		{"127.0.0.1/32", "http://localhost:8000/", true},
		{"127.0.0.1/32", "http://[::1]:8000/", false},
		{"loopback", "http://localhost:8000/", true},
		{"loopback", "http://0.0.0.0:8000/", false},
		{"169.254.169.254/32", "http://169.254.169.254/", true},
		{"169.254.169.254/32", "http://metadata.google.internal/", false}, // by name, always
	}
	for _, tt := range tests {
		t.Run(tt.policy+" "+tt.in, func(t *testing.T) {
			u, err := mustPolicy(t, tt.policy).CheckURL(tt.in)
			if got := err == nil; got != tt.allow {
				t.Fatalf("CheckURL(%q) under %q = %v, want allowed=%v", tt.in, tt.policy, err, tt.allow)
			}
			if (u != nil) != tt.allow {
				t.Errorf("CheckURL returned URL %v with error %v", u, err)
			}
		})
	}
}
