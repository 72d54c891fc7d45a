package validate

import (
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/pkg/provider"
)

// createOnlyField describes a field that is fixed at registration.
type createOnlyField struct {
	field string
	label string
	why   string
	value func(Service) string
}

// createOnlyFields lists, in the order they are reported, the fields an
// update may not change: the probe that passed at registration holds only
// for these exact values. The Azure deployment counts as create-only
// because, like the model, it selects what answers.
var createOnlyFields = []createOnlyField{
	{FieldName, "External Service Name", "", func(s Service) string { return s.Name }},
	{FieldModel, "Model name", "", func(s Service) string { return s.Model }},
	{FieldBaseURL, "Model Base URL", "", func(s Service) string { return comparableBaseURL(s.BaseURL) }},
	{FieldProtocol, "API Protocol Version", " Each protocol probes a different endpoint path with a different authentication header, so the registration probe only holds for the original protocol.",
		func(s Service) string { return comparableProtocol(s.Protocol) }},
	{FieldAllowInsecureTLS, "Allow Insecure Connection", " You can't toggle it after registration.",
		func(s Service) string { return fmt.Sprint(s.AllowInsecureTLS) }},
	{FieldAzureDeployment, "Azure deployment", "", func(s Service) string { return s.AzureDeployment }},
}

// CreateOnly compares an existing record with the record an update would
// produce (the caller overlays the request onto a copy of existing) and
// refuses a change to any create-only field, naming the field and saying to
// deregister and register again. Functions, tags, the Azure API version and
// the credential may change.
func CreateOnly(existing, proposed Service) error {
	for _, f := range createOnlyFields {
		before, after := f.value(existing), f.value(proposed)
		if before == after {
			continue
		}
		return fieldError(f.field, "%s is create-only and cannot be changed after registration (registered %s, requested %s).%s To change it, deregister the service and register it again.",
			f.label, quote(before), quote(after), f.why)
	}
	return nil
}

// EditableFields are the update_mask paths an update may name.
var EditableFields = []string{FieldFunctions, FieldTags, FieldCredential, FieldAzureAPIVersion,
	FieldAllowedGroups, FieldAllowedDomains, FieldLimits}

// UpdateMask refuses update_mask paths that name a create-only field (with
// the same advice as CreateOnly) or no known field at all.
func UpdateMask(paths []string) error {
	for _, path := range paths {
		if isEditable(path) {
			continue
		}
		for _, f := range createOnlyFields {
			if path == f.field {
				return fieldError(f.field, "%s is create-only and cannot be changed after registration.%s To change it, deregister the service and register it again.", f.label, f.why)
			}
		}
		return fieldError(FieldUpdateMask, "unknown field %s in update_mask; editable fields are %s.", quote(path), strings.Join(EditableFields, ", "))
	}
	return nil
}

func isEditable(path string) bool {
	for _, editable := range EditableFields {
		if path == editable {
			return true
		}
	}
	return false
}

// comparableBaseURL normalizes when it can, so "https://x/" equals
// "https://x"; an invalid value compares as given.
func comparableBaseURL(raw string) string {
	if normalized, err := BaseURL(raw); err == nil {
		return normalized
	}
	return raw
}

func comparableProtocol(raw string) string {
	if p, err := provider.Parse(raw); err == nil {
		return string(p)
	}
	return raw
}
