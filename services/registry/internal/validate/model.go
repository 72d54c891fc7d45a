package validate

import (
	"strings"
	"unicode/utf8"
)

// MaxModelLength caps a model id. The longest real ids (fine-tune ids,
// "accounts/<org>/models/<name>" paths) stay well under 200 characters.
const MaxModelLength = 256

const modelExample = "for example gpt-4o-mini or meta/llama-3.1-8b-instruct"

// Model checks a provider model id. It is kept exactly as given: model ids
// are case-sensitive, so nothing is trimmed, lowered or rewritten.
//
// Allowed: printable ASCII without spaces, including '/', ':', '.', '@',
// '+' and '=' (meta/llama-3.1-8b-instruct, ft:gpt-4o-mini:org::id,
// anthropic.claude-3-5-sonnet-20240620-v1:0, @cf/meta/llama-3-8b-instruct).
//
// Refused, and why:
//   - empty, whitespace, control characters, non-ASCII: never part of a
//     provider id, almost always a copy-paste accident;
//   - '*' and '>': NATS wildcards. The seed does not need them (no provider
//     uses them) and the model name travels in NATS subjects and KV keys;
//     pkg/contract escapes tokens anyway, this is defence in depth;
//   - '?', '#', '%', '\\', '"': the model is placed in URL paths (Gemini,
//     Azure) where they would start a query or fragment or change escaping;
//   - empty, "." or ".." parts between slashes: a path like "../files" would
//     walk to another endpoint on the provider's host.
func Model(model string) error {
	if model == "" {
		return fieldError(FieldModel, "Model name is required: the exact identifier the upstream provider expects, %s. It is case-sensitive.", modelExample)
	}
	if len(model) > MaxModelLength {
		return fieldError(FieldModel, "Model name %s is %d characters; the maximum is %d.", quote(model), len(model), MaxModelLength)
	}
	if err := modelChars(model); err != nil {
		return err
	}
	return modelSlashParts(model)
}

func modelChars(model string) error {
	for i, r := range model {
		reason := ""
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			reason = "Enter the provider's exact model id with no spaces; it is case-sensitive, so Switchyard never trims or changes it."
		case r < 0x20 || r == 0x7f:
			reason = "Model ids never contain control characters."
		case r >= utf8.RuneSelf:
			reason = "Model ids are ASCII; check for a look-alike character pasted from a web page."
		case r == '*' || r == '>':
			reason = "'*' and '>' are NATS wildcard characters, which no provider uses in a model id."
		case strings.ContainsRune(`?#%\"`, r):
			reason = "The model id is sent in URL paths, where this character would change the request."
		default:
			continue
		}
		return fieldError(FieldModel, "Model name %s contains %s at position %d. %s", quote(model), describeRune(r), i+1, reason)
	}
	return nil
}

func modelSlashParts(model string) error {
	if !strings.Contains(model, "/") {
		if model == "." || model == ".." {
			return fieldError(FieldModel, "Model name %s is not a model id; use the provider's exact id, %s.", quote(model), modelExample)
		}
		return nil
	}
	for part := range strings.SplitSeq(model, "/") {
		if part == "" || part == "." || part == ".." {
			return fieldError(FieldModel, "Model name %s has an empty, \".\" or \"..\" part between slashes; slash-separated ids need a real name on each side of every '/', like meta/llama-3.1-8b-instruct.", quote(model))
		}
	}
	return nil
}

// Label rules for functions and tags: they are matched by filters and may
// appear in subjects and KV keys, so they are short identifiers.
const (
	MaxLabelLength = 63
	MaxLabels      = 32
)

// Functions checks capability tags (for example "chatbot-gen-content").
func Functions(functions []string) error {
	return labels(FieldFunctions, "function", functions)
}

// Tags checks free-form grouping tags.
func Tags(tags []string) error {
	return labels(FieldTags, "tag", tags)
}

const labelRule = "use 1 to 63 letters, digits, '-', '_', '.' or ':', starting and ending with a letter or digit"

func labels(field, kind string, values []string) error {
	if len(values) > MaxLabels {
		return fieldError(field, "%d %ss given; the maximum is %d.", len(values), kind, MaxLabels)
	}
	seen := make(map[string]bool, len(values))
	for i, v := range values {
		if err := label(field, kind, i, v); err != nil {
			return err
		}
		if seen[v] {
			return fieldError(field, "%s %q is listed twice; list each %s once.", kind, v, kind)
		}
		seen[v] = true
	}
	return nil
}

func label(field, kind string, index int, value string) error {
	if value == "" || len(value) > MaxLabelLength {
		return fieldError(field, "%s #%d %s has %d characters: %s.", kind, index+1, quote(value), len(value), labelRule)
	}
	for i, r := range value {
		if !isLabelChar(r) {
			return fieldError(field, "%s %s contains %s at position %d: %s.", kind, quote(value), describeRune(r), i+1, labelRule)
		}
	}
	if !isAlnum(rune(value[0])) || !isAlnum(rune(value[len(value)-1])) {
		return fieldError(field, "%s %s must start and end with a letter or digit: %s.", kind, quote(value), labelRule)
	}
	return nil
}

func isAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

func isLabelChar(r rune) bool {
	return isAlnum(r) || r == '-' || r == '_' || r == '.' || r == ':'
}
