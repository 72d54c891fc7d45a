package declarative

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseRefusals(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"inline key refused by default", `
[[services]]
name = "a"
api_key = "sk-1"`, "an inline API key is refused"},
		{"inline key in credentials refused", `
[credentials.openai]
value = "sk-1"`, "an inline API key is refused"},
		{"no key", `
[[services]]
name = "a"`, "no API key"},
		{"two sources", `
[[services]]
name = "a"
api_key_env = "A"
api_key_file = "/k"`, "exactly one of env, file or value"},
		{"credential and direct", `
[credentials.c]
env = "A"
[[services]]
name = "a"
credential = "c"
api_key_env = "B"`, "either credential or one api_key_* field"},
		{"dangling credential", `
[[services]]
name = "a"
credential = "nope"`, `credential "nope" is not defined`},
		{"duplicate service", `
[[services]]
name = "a"
api_key_env = "A"
[[services]]
name = "a"
api_key_env = "A"`, `service "a" is declared twice`},
		{"alias to undeclared service", `
[[aliases]]
name = "m"
targets = [{ service = "ghost" }]`, `targets "ghost", which this file does not declare`},
		{"unknown key", `
[[services]]
name = "a"
api_key_env = "A"
modle = "x"`, `unknown key "services.modle"`},
		{"bad import format", `
[[imports]]
format = "yaml"
path = "testdata/connectors.toml"`, `unknown format "yaml"`},
		{"connectors import needs inline allowance", `
[[imports]]
format = "connectors"
path = "testdata/connectors.toml"`, "set allow_inline_secrets = true on the import"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.text), ".")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "sk-1") {
				t.Fatalf("error repeats a key: %v", err)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	text := `
[credentials.openai]
env = "OPENAI_API_KEY"

[[services]]
name = "openai-gpt-4o"
model = "gpt-4o"
base_url = "https://api.openai.com"
protocol = "OPENAI_V1"
functions = ["chat"]
credential = "openai"

[[services]]
name = "vllm-llama"
model = "meta-llama/Llama-3.1-8B-Instruct"
base_url = "http://vllm:8000"
protocol = "OPENAI_V1"
api_key_file = "/run/secrets/vllm"

[[aliases]]
name = "chat"
targets = [{ service = "openai-gpt-4o", weight = 3 }, { service = "vllm-llama", weight = 1 }]

[[imports]]
format = "endpoints"
path = "testdata/endpoints.json"
`
	c, err := Parse([]byte(text), ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Services) != 3 || len(c.Aliases) != 1 || c.Services[2].APIKeyEnv != "LLAMA_70B_API_KEY" {
		t.Fatalf("parsed %+v", c)
	}
}

func TestLoadResolvesImportsRelativeToTheFile(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/connectors.toml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "conn.toml"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "[[imports]]\nformat = \"connectors\"\npath = \"conn.toml\"\nallow_inline_secrets = true\n"
	if err := os.WriteFile(filepath.Join(dir, "sy.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(filepath.Join(dir, "sy.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Services) != 3 || len(c.Aliases) != 3 {
		t.Fatalf("imported %d services and %d aliases, want 3 and 3", len(c.Services), len(c.Aliases))
	}
}
