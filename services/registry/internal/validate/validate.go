// Package validate holds the registry's registration rules as pure
// functions: service name, namespace, model, base URL, protocol (with the
// Azure fields), functions and tags, and the create-only fields an update
// may not change.
//
// Every refusal is a *Error carrying the request field it is about and a
// message that says which rule was broken and what to send instead. The
// messages follow the wording operators of existing products already know
// (see shared/seeds/002). Inputs are plain strings and structs; the registry
// maps its protobuf records onto Service.
package validate

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/switchyard/switchyard/pkg/provider"
)

// Field names, as in the Service protobuf message and admin requests.
const (
	FieldName             = "name"
	FieldNamespace        = "namespace"
	FieldModel            = "model"
	FieldBaseURL          = "base_url"
	FieldProtocol         = "protocol"
	FieldFunctions        = "functions"
	FieldTags             = "tags"
	FieldAllowInsecureTLS = "allow_insecure_tls"
	FieldAzureDeployment  = "azure_deployment"
	FieldAzureAPIVersion  = "azure_api_version"
	FieldCredential       = "credential"
	FieldUpdateMask       = "update_mask"
)

// ErrInvalid matches every *Error with errors.Is, for callers that only need
// to map "the request was invalid" to a status code.
var ErrInvalid = errors.New("invalid service registration")

// Error is one refused field. Field is a Field* constant; Message is the
// operator-facing explanation.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Field + ": " + e.Message }

// Is makes errors.Is(err, ErrInvalid) true for every *Error.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

func fieldError(field, format string, args ...any) *Error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Service is the registry record as far as validation cares.
type Service struct {
	Name             string
	Namespace        string
	Model            string
	BaseURL          string
	Protocol         string
	Functions        []string
	Tags             []string
	AllowInsecureTLS bool
	AzureDeployment  string
	AzureAPIVersion  string
	AllowedGroups    []string
	AllowedDomains   []string
	RPM, TPM         int64
}

// Registration checks every field of a new service and returns it
// normalized (base URL without a trailing slash, protocol in its canonical
// spelling, access lists lower-cased). The first broken rule is returned,
// checked in this order: name, namespace, model, base URL, protocol, Azure
// fields, functions, tags, access policy, limits.
func Registration(s Service) (Service, error) {
	out := s
	out.Functions, out.Tags = slices.Clone(s.Functions), slices.Clone(s.Tags)
	if err := Name(s.Name); err != nil {
		return Service{}, err
	}
	if err := Namespace(s.Namespace); err != nil {
		return Service{}, err
	}
	if err := Model(s.Model); err != nil {
		return Service{}, err
	}
	baseURL, err := BaseURL(s.BaseURL)
	if err != nil {
		return Service{}, err
	}
	protocol, err := Protocol(s.Protocol)
	if err != nil {
		return Service{}, err
	}
	if err := Azure(protocol, baseURL, s.AzureDeployment, s.AzureAPIVersion); err != nil {
		return Service{}, err
	}
	if err := Functions(s.Functions); err != nil {
		return Service{}, err
	}
	if err := Tags(s.Tags); err != nil {
		return Service{}, err
	}
	if out.AllowedGroups, out.AllowedDomains, err = AccessPolicy(s.AllowedGroups, s.AllowedDomains); err != nil {
		return Service{}, err
	}
	if err := Limits(s.RPM, s.TPM); err != nil {
		return Service{}, err
	}
	out.BaseURL, out.Protocol = baseURL, string(protocol)
	return out, nil
}

// maxQuoted bounds how much of a refused value is echoed back.
const maxQuoted = 80

// quote renders a user-supplied value for a message: quoted (so control
// characters are visible) and cut short so a huge input does not produce a
// huge reply.
func quote(value string) string {
	if len(value) <= maxQuoted {
		return fmt.Sprintf("%q", value)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(value[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", value[:cut], len(value))
}

// describeRune names a character for a message, spelling out the invisible
// ones.
func describeRune(r rune) string {
	switch r {
	case ' ':
		return "a space"
	case '\t':
		return "a tab"
	case '\n', '\r':
		return "a line break"
	case utf8.RuneError:
		return "an invalid UTF-8 byte"
	}
	if r < 0x20 || r == 0x7f {
		return fmt.Sprintf("the control character %U", r)
	}
	return fmt.Sprintf("%q", r)
}

// Protocol checks an API protocol name and returns its canonical form.
// Letter case and surrounding spaces are forgiven (as provider.Parse does).
func Protocol(name string) (provider.Protocol, error) {
	if name == "" {
		return "", fieldError(FieldProtocol, "API Protocol Version is required: choose %s. It decides both the request body shape and the authentication header.", protocolList())
	}
	p, err := provider.Parse(name)
	if err != nil {
		return "", fieldError(FieldProtocol, "unknown API Protocol Version %s: choose %s (OPENAI_V1 for OpenAI, NVIDIA NIM, vLLM, OpenRouter and any OpenAI-compatible endpoint).",
			quote(name), protocolList())
	}
	return p, nil
}

func protocolList() string {
	all := provider.All()
	names := make([]string, len(all))
	for i, p := range all {
		names[i] = string(p)
	}
	return fmt.Sprintf("one of %v", names)
}

// Azure deployment names: letters, digits, '-', '_' and '.', up to 64.
var azureDeploymentPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Azure API versions are dates, optionally with a suffix such as -preview.
var azureAPIVersionPattern = regexp.MustCompile(`^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(-[a-z]+)?$`)

// Azure checks the Azure OpenAI fields: required with AZURE_OPENAI, refused
// with any other protocol. baseURL is the normalized base URL; one that
// already names a deployment is refused with the values to use instead.
func Azure(protocol provider.Protocol, baseURL, deployment, apiVersion string) error {
	if protocol != provider.AzureOpenAI {
		if deployment != "" {
			return fieldError(FieldAzureDeployment, "azure_deployment applies only to API Protocol Version AZURE_OPENAI; remove it or choose AZURE_OPENAI.")
		}
		if apiVersion != "" {
			return fieldError(FieldAzureAPIVersion, "azure_api_version applies only to API Protocol Version AZURE_OPENAI; remove it or choose AZURE_OPENAI.")
		}
		return nil
	}
	if host, after, found := strings.Cut(baseURL, "/openai/deployments/"); found {
		return fieldError(FieldBaseURL, "Model Base URL %s already names a deployment: use %q as the base URL and %q as azure_deployment.",
			quote(baseURL), host, strings.SplitN(after, "/", 2)[0])
	}
	if deployment == "" {
		return fieldError(FieldAzureDeployment, "AZURE_OPENAI needs azure_deployment: the name of your model deployment in the Azure OpenAI resource (for example gpt-4o-prod).")
	}
	if !azureDeploymentPattern.MatchString(deployment) {
		return fieldError(FieldAzureDeployment, "azure_deployment %s is not a deployment name: use 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit.", quote(deployment))
	}
	if apiVersion == "" {
		return fieldError(FieldAzureAPIVersion, "AZURE_OPENAI needs azure_api_version, for example 2024-10-21 or 2025-04-01-preview.")
	}
	if !azureAPIVersionPattern.MatchString(apiVersion) {
		return fieldError(FieldAzureAPIVersion, "azure_api_version %s is not an Azure API version: use the YYYY-MM-DD form with an optional suffix, for example 2024-10-21 or 2025-04-01-preview.", quote(apiVersion))
	}
	return nil
}
