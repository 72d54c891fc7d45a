package validate

import "strings"

// Access policy and limit field names, as in the Service protobuf message.
const (
	FieldAllowedGroups  = "allowed_groups"
	FieldAllowedDomains = "allowed_domains"
	FieldLimits         = "limits"
)

// ReservedNames cannot be service names or namespaces: the edge tells a
// pinned path (/{service}/v1/..., /{service}/passthrough/...) from the
// plain form by these segments, so a service named after one could not be
// reached.
var ReservedNames = []string{"v1", "passthrough"}

func reserved(field, label, name string) error {
	for _, r := range ReservedNames {
		if name == r {
			return fieldError(field, "%s %s is reserved: the edge's paths use it (/%s/v1/..., /{service}/passthrough/...). Choose another name.", label, quote(name), r)
		}
	}
	return nil
}

// MaxPolicyEntries bounds each access list.
const MaxPolicyEntries = 64

// AccessPolicy checks a service's allowed groups and email domains (seed
// 001) and returns them lower-cased: groups are compared with the consumer
// key's groups, domains with the part of the key owner's email after '@',
// both without regard to case. A leading '@' on a domain is dropped.
func AccessPolicy(groups, domains []string) (normGroups, normDomains []string, err error) {
	normGroups = lowerAll(groups, "")
	if err := policyList(FieldAllowedGroups, "group", normGroups, groupChar); err != nil {
		return nil, nil, err
	}
	normDomains = lowerAll(domains, "@")
	if err := policyList(FieldAllowedDomains, "domain", normDomains, domainChar); err != nil {
		return nil, nil, err
	}
	for _, d := range normDomains {
		if strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") || strings.Contains(d, "..") || !strings.Contains(d, ".") {
			return nil, nil, fieldError(FieldAllowedDomains, "domain %s is not a domain name such as lab.example (subdomains are listed one by one).", quote(d))
		}
	}
	return normGroups, normDomains, nil
}

// Limits checks per-service requests and tokens per minute.
func Limits(rpm, tpm int64) error {
	if rpm < 0 || tpm < 0 {
		return fieldError(FieldLimits, "limits are per minute and must not be negative (0 means unlimited); got rpm %d, tpm %d.", rpm, tpm)
	}
	return nil
}

func lowerAll(values []string, trimPrefix string) []string {
	if len(values) == 0 {
		return nil
	}
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(v), trimPrefix))
	}
	return out
}

func policyList(field, kind string, values []string, ok func(rune) bool) error {
	if len(values) > MaxPolicyEntries {
		return fieldError(field, "%d %ss given; the maximum is %d.", len(values), kind, MaxPolicyEntries)
	}
	seen := make(map[string]bool, len(values))
	for _, v := range values {
		if v == "" || len(v) > 253 {
			return fieldError(field, "%s %s must have 1 to 253 characters.", kind, quote(v))
		}
		for i, r := range v {
			if !ok(r) {
				return fieldError(field, "%s %s: %s at position %d is not allowed.", kind, quote(v), describeRune(r), i+1)
			}
		}
		if seen[v] {
			return fieldError(field, "%s %s is listed twice; list each %s once.", kind, quote(v), kind)
		}
		seen[v] = true
	}
	return nil
}

// groupChar matches the consumer keys' group rule (lower-cased).
func groupChar(r rune) bool {
	return ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') || strings.ContainsRune("-_.:@/", r)
}

func domainChar(r rune) bool {
	return ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') || r == '-' || r == '.'
}
