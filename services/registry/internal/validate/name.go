package validate

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxNameLength is the longest service name (a DNS label's limit).
const MaxNameLength = 63

// The DNS-style naming rules, worded as operators already know them. Each
// name refusal quotes exactly one of them.
const (
	RuleNameCharset     = "Lowercase letters and digits only."
	RuleNameHyphens     = "Hyphens (-) are allowed within segments but not at the start or end."
	RuleNameDots        = "Dots (.) are allowed as segment separators."
	RuleNameNoUppercase = "No uppercase letters, underscores, or spaces."
	RuleNameMaxLength   = "Maximum 63 characters."
)

const nameExample = "Example: openai-gpt-4o-mini, azure.gpt-4o.prod."

// Name checks a service name against the DNS-style rules.
func Name(name string) error {
	if err := dnsName(FieldName, "External Service Name", name, true); err != nil {
		return err
	}
	return reserved(FieldName, "service name", name)
}

// Namespace checks the optional namespace (the first path segment of the
// /{namespace}/{service}/v1 form) with the same rules as a name.
func Namespace(namespace string) error {
	if namespace == "" {
		return nil
	}
	if err := dnsName(FieldNamespace, "namespace", namespace, false); err != nil {
		return err
	}
	return reserved(FieldNamespace, "namespace", namespace)
}

func dnsName(field, label, name string, required bool) error {
	if name == "" {
		if required {
			return fieldError(field, "%s is required. %s", label, nameExample)
		}
		return nil
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLength {
		return nameRuleError(field, label, name, RuleNameMaxLength, fmt.Sprintf("This one has %d.", n))
	}
	for i, r := range name {
		if rule, ok := brokenCharRule(r); ok {
			detail := fmt.Sprintf("Found %s at position %d.", describeRune(r), i+1)
			return nameRuleError(field, label, name, rule, detail)
		}
	}
	return nameSegments(field, label, name)
}

// brokenCharRule returns the rule a character breaks, if any.
func brokenCharRule(r rune) (string, bool) {
	switch {
	case 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '-', r == '.':
		return "", false
	case 'A' <= r && r <= 'Z', r == '_', r == ' ':
		return RuleNameNoUppercase, true
	default:
		return RuleNameCharset, true
	}
}

func nameSegments(field, label, name string) error {
	for segment := range strings.SplitSeq(name, ".") {
		switch {
		case segment == "":
			return nameRuleError(field, label, name, RuleNameDots,
				"A name cannot start or end with a dot or contain two dots in a row.")
		case strings.HasPrefix(segment, "-"):
			return nameRuleError(field, label, name, RuleNameHyphens,
				fmt.Sprintf("Segment %q starts with a hyphen.", segment))
		case strings.HasSuffix(segment, "-"):
			return nameRuleError(field, label, name, RuleNameHyphens,
				fmt.Sprintf("Segment %q ends with a hyphen.", segment))
		}
	}
	return nil
}

func nameRuleError(field, label, name, rule, detail string) *Error {
	msg := fmt.Sprintf("invalid %s %s: %s %s", label, quote(name), rule, detail)
	if suggestion := suggestName(name); suggestion != "" && suggestion != name {
		msg += fmt.Sprintf(" Try %q.", suggestion)
	} else {
		msg += " " + nameExample
	}
	return &Error{Field: field, Message: msg}
}

// suggestName proposes the nearest valid name (lower case, '_' and spaces
// turned into hyphens, stray hyphens and dots removed), or "" if that is
// still not valid.
func suggestName(name string) string {
	mapped := strings.Map(func(r rune) rune {
		switch {
		case 'A' <= r && r <= 'Z':
			return r + ('a' - 'A')
		case r == '_' || r == ' ':
			return '-'
		}
		return r
	}, name)
	var segments []string
	for segment := range strings.SplitSeq(mapped, ".") {
		for strings.Contains(segment, "--") {
			segment = strings.ReplaceAll(segment, "--", "-")
		}
		if segment = strings.Trim(segment, "-"); segment != "" {
			segments = append(segments, segment)
		}
	}
	suggestion := strings.Join(segments, ".")
	if suggestion == "" || utf8.RuneCountInString(suggestion) > MaxNameLength {
		return ""
	}
	for _, r := range suggestion {
		if _, broken := brokenCharRule(r); broken {
			return ""
		}
	}
	return suggestion
}
