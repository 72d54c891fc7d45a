package declarative

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestImportConnectors(t *testing.T) {
	data, err := os.ReadFile("testdata/connectors.toml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ImportConnectors(data)
	if err != nil {
		t.Fatal(err)
	}
	wantServices := []Service{
		{Name: "openai-gpt4", Model: "gpt-4o-2024-11-20", BaseURL: "https://api.openai.com", Protocol: "OPENAI_V1", Functions: []string{"chat"}, Credential: "openai"},
		{Name: "openai-o3", Model: "o3-mini", BaseURL: "https://api.openai.com", Protocol: "OPENAI_V1", Functions: []string{"chat"}, Credential: "openai"},
		{Name: "provider2-deepseek", Model: "deepseek-r1", BaseURL: "https://example.com/second/v7", Protocol: "OPENAI_V1", Functions: []string{"chat"}, Credential: "provider2"},
	}
	if !reflect.DeepEqual(c.Services, wantServices) {
		t.Fatalf("services:\n got %+v\nwant %+v", c.Services, wantServices)
	}
	wantAliases := map[string]string{"gpt-4o-do-not-use": "openai-gpt4", "o3-mini-do-not-use": "openai-o3", "deepseek-example": "provider2-deepseek"}
	for _, a := range c.Aliases {
		if len(a.Targets) != 1 || wantAliases[a.Name] != a.Targets[0].Service {
			t.Errorf("alias %s -> %+v", a.Name, a.Targets)
		}
	}
	if len(c.Aliases) != len(wantAliases) || c.Credentials["openai"].Value != "sk-connector-CANARY-1" || !c.AllowInlineSecrets {
		t.Fatalf("aliases %d, credentials %d, inline %v", len(c.Aliases), len(c.Credentials), c.AllowInlineSecrets)
	}
}

func TestImportConnectorsRefusesIncompleteProviders(t *testing.T) {
	for _, text := range []string{
		"[p]\nbase_url = \"https://x\"\n",
		"[p]\nbase_url = \"https://x\"\napi_key = \"k\"\n[p.m]\ninternal = \"a\"\n",
	} {
		if _, err := ImportConnectors([]byte(text)); err == nil {
			t.Errorf("accepted %q", text)
		}
	}
}

func TestImportEndpoints(t *testing.T) {
	data, err := os.ReadFile("testdata/endpoints.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ImportEndpoints(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []Service{{
		Name: "my-cluster-my-framework-meta-llamameta-llama-31-70b-instruct", Model: "meta-llama/Meta-Llama-3.1-70B-Instruct",
		BaseURL: "https://api.example.com", Protocol: "OPENAI_V1", Functions: []string{"chat"},
		Tags: []string{"my-cluster", "my-framework"}, APIKeyEnv: "LLAMA_70B_API_KEY",
		AllowedGroups: []string{"ML-Team"}, AllowedDomains: []string{"lab.example"},
	}}
	if !reflect.DeepEqual(c.Services, want) {
		t.Fatalf("services:\n got %+v\nwant %+v", c.Services, want)
	}
}

func TestImportEndpointsRefusals(t *testing.T) {
	entry := func(slug, url, env string) string {
		return `{"model":"resource_server_async.endpoint","fields":{"endpoint_slug":"` + slug +
			`","cluster":"c","framework":"api","model":"M-70B","config":{"api_url":"` + url + `","api_key_env_name":"` + env + `"}}}`
	}
	tests := []struct{ name, json, want string }{
		{"slug mismatch", entry("wrong", "https://x/v1/chat/completions", "K"), `is not the slugified cluster-framework-model "c-api-m-70b"`},
		{"model in path", entry("c-api-m-70b", "https://x/v1/your-model/chat/completions", "K"), "has a path after /v1"},
		{"no env", entry("c-api-m-70b", "https://x/v1/chat/completions", ""), "api_key_env_name is required"},
		{"relative url", entry("c-api-m-70b", "x/chat/completions", "K"), "not an absolute URL"},
		{"not json", "{", "endpoint fixtures JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ImportEndpoints([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSlugify(t *testing.T) {
	tests := []struct{ in, want string }{
		{"my-cluster my-framework meta-llama/meta-llama-3.1-70b-instruct", "my-cluster-my-framework-meta-llamameta-llama-31-70b-instruct"},
		{"your-cluster api your-model-70b", "your-cluster-api-your-model-70b"},
		{"  A  b--c_ ", "a-b-c"},
		{"_x_", "x"},
		{"café au lait", "caf-au-lait"},
	}
	for _, tt := range tests {
		if got := Slugify(tt.in); got != tt.want {
			t.Errorf("Slugify(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
