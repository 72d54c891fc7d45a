package validate

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/provider"
)

const duplicatedPath404 = "duplicated paths such as /v1/v1/chat/completions, which returns a 404"

func TestBaseURL(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		output string
		want   []string
	}{
		{"openai", "https://api.openai.com", "https://api.openai.com", nil},
		{"trailing slash stripped", "https://api.openai.com/", "https://api.openai.com", nil},
		{"many trailing slashes", "https://api.openai.com///", "https://api.openai.com", nil},
		{"path prefix kept", "https://openrouter.ai/api", "https://openrouter.ai/api", nil},
		{"in-cluster http with port", "http://vllm-svc.inference:8000", "http://vllm-svc.inference:8000", nil},
		{"host and scheme lowered", "HTTPS://API.OpenAI.com/Api", "https://api.openai.com/Api", nil},
		{"surrounding spaces", "  https://api.anthropic.com \n", "https://api.anthropic.com", nil},
		{"ipv6", "http://[::1]:8080/", "http://[::1]:8080", nil},
		{"v1 in the middle", "https://gateway.ai.cloudflare.com/v1/acct/gw/openai", "https://gateway.ai.cloudflare.com/v1/acct/gw/openai", nil},
		{"empty", " ", "", []string{"Model Base URL is required", "https://api.openai.com"}},
		{"too long", "https://x/" + strings.Repeat("a", 2048), "", []string{"maximum is 2048"}},
		{"no scheme", "api.openai.com/", "", []string{"has no scheme", `"https://api.openai.com"`}},
		{"ftp", "ftp://files.example.com", "", []string{`scheme "ftp" is not supported`, "https://"}},
		{"credentials", "https://user:hunter2@api.example.com", "", []string{"must not contain credentials", `"https://api.example.com"`}},
		{"query", "https://x.openai.azure.com/?api-version=2024-10-21", "", []string{"query string or fragment", `"https://x.openai.azure.com"`, "azure_api_version"}},
		{"fragment", "https://api.openai.com#x", "", []string{"query string or fragment"}},
		{"no host", "https:///v1", "", []string{"has no host"}},
		{"bad port", "http://vllm:0", "", []string{`port "0"`}},
		{"port too big", "http://vllm:70000", "", []string{`port "70000"`}},
		{"bad host char", "http://vl lm:80", "", []string{"not a valid URL"}},
		{"host with star", "https://*.example.com", "", []string{"host", "'*'"}},
		{"dot dot segment", "https://x.example.com/api/../v2", "", []string{`".."`}},
		{"empty segment", "https://x.example.com/a//b", "", []string{"empty"}},
		{"ends in v1", "https://api.openai.com/v1", "", []string{"must not end in /v1", "consumer applications append /v1 themselves", duplicatedPath404, `Use "https://api.openai.com" instead`}},
		{"ends in v1 slash", "https://api.openai.com/v1/", "", []string{"must not end in /v1", `Use "https://api.openai.com" instead`}},
		{"openrouter v1", "https://openrouter.ai/api/v1", "", []string{duplicatedPath404, `Use "https://openrouter.ai/api" instead`}},
		{"upper V1", "https://integrate.api.nvidia.com/V1", "", []string{"must not end in /V1", `Use "https://integrate.api.nvidia.com" instead`}},
		{"gemini v1beta", "https://generativelanguage.googleapis.com/v1beta", "", []string{"must not end in /v1beta", "append /v1beta (Gemini)", "/v1beta/v1beta/models/", "which returns a 404", `Use "https://generativelanguage.googleapis.com" instead`}},
		{"full endpoint", "https://api.openai.com/v1/chat/completions", "", []string{"is a full endpoint URL", "/v1/chat/completions)", duplicatedPath404, `Use "https://api.openai.com" instead`}},
		{"anthropic endpoint", "https://api.anthropic.com/v1/messages", "", []string{"full endpoint", `Use "https://api.anthropic.com" instead`}},
		{"gemini model endpoint", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent", "", []string{"full endpoint", `Use "https://generativelanguage.googleapis.com" instead`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BaseURL(tt.input)
			check(t, err, FieldBaseURL, tt.want)
			if got != tt.output {
				t.Errorf("BaseURL(%q) = %q, want %q", tt.input, got, tt.output)
			}
		})
	}
}

func TestBaseURLNeverEchoesPassword(t *testing.T) {
	for _, input := range []string{
		"https://user:hunter2@api.example.com",
		"https://user:hunter2@api.example.com:bad/",
		"https://:hunter2@[::1",
		"https://x/?key=hunter2",
	} {
		_, err := BaseURL(input)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("BaseURL(%q): err = %v; must refuse without echoing the secret", input, err)
		}
	}
}

func TestAzure(t *testing.T) {
	const base = "https://contoso.openai.azure.com"
	tests := []struct {
		name                            string
		protocol                        provider.Protocol
		baseURL, deployment, apiVersion string
		field                           string
		want                            []string
	}{
		{"complete", provider.AzureOpenAI, base, "gpt-4o-prod", "2024-10-21", "", nil},
		{"preview version", provider.AzureOpenAI, base, "gpt-4o", "2025-04-01-preview", "", nil},
		{"other protocol without azure fields", provider.OpenAIV1, base, "", "", "", nil},
		{"missing deployment", provider.AzureOpenAI, base, "", "2024-10-21", FieldAzureDeployment, []string{"AZURE_OPENAI needs azure_deployment"}},
		{"bad deployment", provider.AzureOpenAI, base, "gpt 4o", "2024-10-21", FieldAzureDeployment, []string{`"gpt 4o" is not a deployment name`}},
		{"missing api version", provider.AzureOpenAI, base, "gpt-4o", "", FieldAzureAPIVersion, []string{"AZURE_OPENAI needs azure_api_version", "2024-10-21"}},
		{"bad api version", provider.AzureOpenAI, base, "gpt-4o", "v1", FieldAzureAPIVersion, []string{`"v1" is not an Azure API version`, "YYYY-MM-DD"}},
		{"impossible month", provider.AzureOpenAI, base, "gpt-4o", "2024-13-01", FieldAzureAPIVersion, []string{"not an Azure API version"}},
		{"deployment in base URL", provider.AzureOpenAI, base + "/openai/deployments/gpt-4o/chat", "", "", FieldBaseURL, []string{"already names a deployment", `"https://contoso.openai.azure.com"`, `"gpt-4o" as azure_deployment`}},
		{"deployment without azure", provider.OpenAIV1, base, "gpt-4o", "", FieldAzureDeployment, []string{"only to API Protocol Version AZURE_OPENAI"}},
		{"api version without azure", provider.AnthropicV1, base, "", "2024-10-21", FieldAzureAPIVersion, []string{"only to API Protocol Version AZURE_OPENAI"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, Azure(tt.protocol, tt.baseURL, tt.deployment, tt.apiVersion), tt.field, tt.want)
		})
	}
}
