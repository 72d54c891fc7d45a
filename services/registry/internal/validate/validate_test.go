package validate

import (
	"errors"
	"strings"
	"testing"
)

// check asserts err is nil when want is empty, or a *Error on field whose
// message contains every string in want.
func check(t *testing.T, err error, field string, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var verr *Error
	if !errors.As(err, &verr) {
		t.Fatalf("err = %v, want a *validate.Error", err)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Error("errors.Is(err, ErrInvalid) is false")
	}
	if verr.Field != field {
		t.Errorf("Field = %q, want %q (message %q)", verr.Field, field, verr.Message)
	}
	for _, w := range want {
		if !strings.Contains(verr.Message, w) {
			t.Errorf("message %q\n  does not contain %q", verr.Message, w)
		}
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"simple", "openai-gpt-4o-mini", nil},
		{"dotted", "azure.gpt-4o.prod", nil},
		{"digits only", "42", nil},
		{"double hyphen inside", "a--b", nil},
		{"exactly 63", strings.Repeat("a", 63), nil},
		{"empty", "", []string{"External Service Name is required", "openai-gpt-4o-mini"}},
		{"64 characters", strings.Repeat("a", 64), []string{RuleNameMaxLength, "This one has 64."}},
		{"uppercase", "OpenAI", []string{RuleNameNoUppercase, `'O' at position 1`, `Try "openai"`}},
		{"underscore", "gpt_4o", []string{RuleNameNoUppercase, `'_' at position 4`, `Try "gpt-4o"`}},
		{"space", "my service", []string{RuleNameNoUppercase, "a space at position 3", `Try "my-service"`}},
		{"other punctuation", "gpt!4o", []string{RuleNameCharset, `'!' at position 4`}},
		{"slash", "meta/llama", []string{RuleNameCharset, `'/' at position 5`}},
		{"non-ascii", "café", []string{RuleNameCharset, `'é' at position 4`}},
		{"control", "a\x00b", []string{RuleNameCharset, "control character U+0000"}},
		{"leading hyphen", "-openai", []string{RuleNameHyphens, `Segment "-openai" starts with a hyphen`, `Try "openai"`}},
		{"trailing hyphen", "openai-", []string{RuleNameHyphens, "ends with a hyphen"}},
		{"hyphen at segment start", "azure.-prod", []string{RuleNameHyphens, `"-prod" starts`}},
		{"hyphen at segment end", "azure-.prod", []string{RuleNameHyphens, `"azure-" ends`}},
		{"leading dot", ".openai", []string{RuleNameDots, "cannot start or end with a dot"}},
		{"trailing dot", "openai.", []string{RuleNameDots}},
		{"double dot", "a..b", []string{RuleNameDots, "two dots in a row"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, Name(tt.input), FieldName, tt.want)
		})
	}
}

func TestNameEchoIsBounded(t *testing.T) {
	err := Name(strings.Repeat("A", 10000))
	if err == nil || len(err.Error()) > 400 {
		t.Errorf("a 10 kB name produced a %d-byte message", len(err.Error()))
	}
}

func TestNamespace(t *testing.T) {
	check(t, Namespace(""), FieldNamespace, nil)
	check(t, Namespace("team-a"), FieldNamespace, nil)
	check(t, Namespace("Team_A"), FieldNamespace, []string{"invalid namespace", RuleNameNoUppercase})
}

func TestModel(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"openai", "gpt-4o-mini", nil},
		{"slash", "meta/llama-3.1-8b-instruct", nil},
		{"case kept", "Qwen/Qwen2.5-7B-Instruct", nil},
		{"fine-tune colons", "ft:gpt-4o-mini-2024-07-18:org::9abc", nil},
		{"bedrock style", "anthropic.claude-3-5-sonnet-20240620-v1:0", nil},
		{"cloudflare at", "@cf/meta/llama-3-8b-instruct", nil},
		{"fireworks path", "accounts/fireworks/models/llama-v3p1-8b-instruct", nil},
		{"empty", "", []string{"Model name is required", "case-sensitive", "meta/llama-3.1-8b-instruct"}},
		{"too long", strings.Repeat("m", 257), []string{"257 characters", "maximum is 256"}},
		{"trailing space", "gpt-4o ", []string{"a space at position 7", "never trims"}},
		{"leading tab", "\tgpt-4o", []string{"a tab at position 1"}},
		{"newline", "gpt\n4o", []string{"a line break at position 4"}},
		{"control", "gpt\x1b4o", []string{"control character U+001B"}},
		{"non-ascii", "gpt‐4o", []string{"position 4", "ASCII"}},
		{"star wildcard", "gpt-*", []string{"'*'", "NATS wildcard"}},
		{"gt wildcard", "gpt>4", []string{"'>'", "NATS wildcard"}},
		{"question mark", "gpt?x=1", []string{"'?'", "URL paths"}},
		{"hash", "gpt#1", []string{"'#'"}},
		{"percent", "gpt%2F4o", []string{"'%'"}},
		{"leading slash", "/gpt-4o", []string{"between slashes"}},
		{"trailing slash", "meta/", []string{"between slashes"}},
		{"double slash", "meta//llama", []string{"between slashes"}},
		{"dot dot segment", "../files", []string{"between slashes"}},
		{"lone dot dot", "..", []string{"is not a model id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, Model(tt.input), FieldModel, tt.want)
		})
	}
}

func TestLabels(t *testing.T) {
	many := make([]string, 33)
	for i := range many {
		many[i] = "t" + strings.Repeat("x", i)
	}
	tests := []struct {
		name  string
		input []string
		want  []string
	}{
		{"none", nil, nil},
		{"seed values", []string{"chatbot-gen-content", "aidb-embeddings", "team:search", "v1.2", "Prod_EU"}, nil},
		{"empty entry", []string{""}, []string{"#1", "has 0 characters", "1 to 63"}},
		{"too long", []string{strings.Repeat("a", 64)}, []string{"has 64 characters"}},
		{"space", []string{"chat bot"}, []string{"a space at position 5"}},
		{"slash", []string{"a/b"}, []string{"'/' at position 2"}},
		{"wildcard", []string{"aidb-*"}, []string{"'*' at position 6"}},
		{"leading hyphen", []string{"-x"}, []string{"start and end with a letter or digit"}},
		{"trailing dot", []string{"x."}, []string{"start and end with a letter or digit"}},
		{"duplicate", []string{"chat", "embed", "chat"}, []string{`"chat" is listed twice`}},
		{"too many", many, []string{"33", "maximum is 32"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, Functions(tt.input), FieldFunctions, tt.want)
			check(t, Tags(tt.input), FieldTags, tt.want)
		})
	}
}

func TestProtocol(t *testing.T) {
	tests := []struct {
		input string
		canon string
		want  []string
	}{
		{"OPENAI_V1", "OPENAI_V1", nil},
		{"ANTHROPIC_V1", "ANTHROPIC_V1", nil},
		{"GEMINI_V1_BETA", "GEMINI_V1_BETA", nil},
		{"AZURE_OPENAI", "AZURE_OPENAI", nil},
		{"openai_v1", "OPENAI_V1", nil},
		{"", "", []string{"API Protocol Version is required", "OPENAI_V1", "AZURE_OPENAI", "authentication header"}},
		{"OPENAI", "", []string{`unknown API Protocol Version "OPENAI"`, "GEMINI_V1_BETA", "OpenAI-compatible"}},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			p, err := Protocol(tt.input)
			check(t, err, FieldProtocol, tt.want)
			if string(p) != tt.canon {
				t.Errorf("canonical = %q, want %q", p, tt.canon)
			}
		})
	}
}
