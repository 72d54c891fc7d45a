package validate

import (
	"errors"
	"strings"
)

// Alias field names, as in the ModelAlias protobuf message.
const (
	FieldAliasName      = "alias.name"
	FieldAliasTargets   = "alias.targets"
	FieldAliasModelFrom = "alias.model_from"
)

// MaxAliasTargets bounds the services behind one alias.
const MaxAliasTargets = 32

// AliasTarget is one service behind an alias, as validation sees it.
type AliasTarget struct {
	Service string
	Weight  uint32
}

// Alias checks a model alias: its name follows the model id rules (it is
// the model name applications send), it has 1 to MaxAliasTargets distinct
// services, each a valid service name, and model_from has a known form.
// Whether each service exists is the registry's check, not this package's.
func Alias(name string, targets []AliasTarget, modelFrom string) error {
	if err := Model(name); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return fieldError(FieldAliasName, "alias name: %s", strings.Replace(e.Message, "Model name", "the edge model name", 1))
		}
		return err
	}
	if len(targets) == 0 {
		return fieldError(FieldAliasTargets, "alias %s needs at least one target service, for example --target openai-gpt-4o=3 --target azure-gpt-4o=1.", quote(name))
	}
	if len(targets) > MaxAliasTargets {
		return fieldError(FieldAliasTargets, "alias %s has %d targets; the maximum is %d.", quote(name), len(targets), MaxAliasTargets)
	}
	seen := map[string]bool{}
	for _, t := range targets {
		if err := Name(t.Service); err != nil {
			var e *Error
			errors.As(err, &e)
			return fieldError(FieldAliasTargets, "target %s is not a service name: %s", quote(t.Service), e.Message)
		}
		if seen[t.Service] {
			return fieldError(FieldAliasTargets, "target %s is listed twice; give it one entry with the combined weight.", quote(t.Service))
		}
		seen[t.Service] = true
	}
	return ModelFrom(modelFrom)
}

// ModelFrom checks where a templated alias takes the upstream model id
// from: "" (the target service's own model), "path", "header:<name>" or
// "query:<name>".
func ModelFrom(v string) error {
	if v == "" || v == "path" {
		return nil
	}
	kind, name, ok := strings.Cut(v, ":")
	switch {
	case ok && kind == "header" && isToken(name):
		return nil
	case ok && kind == "query" && isQueryName(name):
		return nil
	}
	return fieldError(FieldAliasModelFrom, "model_from %s is not understood: use \"\" (the service's own model), \"path\", \"header:<Header-Name>\" or \"query:<param>\".", quote(v))
}

// isToken reports whether s is an HTTP header field name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !isAlnum(r) && !strings.ContainsRune("!#$%&'*+-.^_`|~", r) {
			return false
		}
	}
	return true
}

func isQueryName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !isAlnum(r) && !strings.ContainsRune("-._~", r) {
			return false
		}
	}
	return true
}
