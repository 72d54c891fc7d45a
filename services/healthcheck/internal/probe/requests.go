package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/switchyard/switchyard/pkg/provider"
)

const (
	// errorBodyLimit is enough for any provider's error or model object.
	errorBodyLimit = 64 << 10
	// listBodyLimit allows for large catalogs (OpenRouter lists hundreds
	// of models) while bounding what a hostile upstream can make us read.
	listBodyLimit = 8 << 20
	userAgent     = "switchyard-healthcheck"
)

// request is one probe request, rebuilt for each send so that it can be
// repeated without credentials.
type request struct {
	method string
	url    string
	body   []byte
	// acceptStatus is a non-2xx status that still proves the check (Azure's
	// validation 400); zero when only 2xx does.
	acceptStatus int
}

func (r request) build(ctx context.Context) (*http.Request, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// baseURL is a validated service base URL without a trailing slash.
type baseURL struct{ u url.URL }

func (b baseURL) host() string { return b.u.Host }

// join appends path segments, escaping each one, so a model id such as
// meta/llama-3.1-8b-instruct becomes two segments and a '?' or '%' inside a
// name can never turn into a query or an escape of our making.
func (b baseURL) join(query url.Values, segments ...string) string {
	u := b.u
	escaped := make([]string, len(segments))
	for i, s := range segments {
		escaped[i] = url.PathEscape(s)
	}
	u.Path = b.u.Path + "/" + strings.Join(segments, "/")
	u.RawPath = b.u.EscapedPath() + "/" + strings.Join(escaped, "/")
	u.RawQuery = query.Encode()
	return u.String()
}

var errInvalidTarget = errors.New("invalid probe target")

// validateTarget rejects targets that would make the probe send something
// other than what it means to (a path that climbs out of the model
// endpoint, credentials in the URL) before any request is made.
func validateTarget(t Target) (baseURL, error) {
	if !t.Protocol.Valid() {
		return baseURL{}, fmt.Errorf("%w: unknown API protocol %q", errInvalidTarget, t.Protocol)
	}
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(t.BaseURL), "/"))
	switch {
	case err != nil:
		return baseURL{}, fmt.Errorf("%w: base URL does not parse", errInvalidTarget)
	case u.Scheme != "http" && u.Scheme != "https":
		return baseURL{}, fmt.Errorf("%w: base URL scheme must be http or https", errInvalidTarget)
	case u.Host == "":
		return baseURL{}, fmt.Errorf("%w: base URL has no host", errInvalidTarget)
	case u.User != nil:
		return baseURL{}, fmt.Errorf("%w: base URL must not contain credentials", errInvalidTarget)
	}
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	if err := validateNames(t); err != nil {
		return baseURL{}, err
	}
	return baseURL{u: *u}, nil
}

func validateNames(t Target) error {
	if t.Protocol == provider.AzureOpenAI {
		deployment := azureDeployment(t)
		if deployment == "" || strings.Contains(deployment, "/") || !safeSegment(deployment) {
			return fmt.Errorf("%w: Azure deployment name %q is empty or not a single path segment", errInvalidTarget, deployment)
		}
		return nil
	}
	if t.Model == "" {
		return fmt.Errorf("%w: model name is empty", errInvalidTarget)
	}
	for _, segment := range strings.Split(t.Model, "/") {
		if !safeSegment(segment) {
			return fmt.Errorf("%w: model name %q has an empty, '.' or '..' segment or a control character", errInvalidTarget, t.Model)
		}
	}
	return nil
}

// safeSegment refuses segments that a server would normalise away ("." and
// "..", which would let a model name address another endpoint) and control
// characters.
func safeSegment(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	return strings.IndexFunc(s, unicode.IsControl) < 0
}

func azureDeployment(t Target) string {
	if t.AzureDeployment != "" {
		return t.AzureDeployment
	}
	return t.Model
}

func modelSegments(model string) []string { return strings.Split(model, "/") }

// geminiModelPath maps a Gemini model name to its resource path: "gemini-x"
// and "models/gemini-x" both mean models/gemini-x; tuned models keep their
// own collection.
func geminiModelPath(model string) []string {
	if rest, ok := strings.CutPrefix(model, "tunedModels/"); ok {
		return append([]string{"tunedModels"}, modelSegments(rest)...)
	}
	return append([]string{"models"}, modelSegments(strings.TrimPrefix(model, "models/"))...)
}

// isAzureV1 reports whether the target uses Azure's unversioned v1 surface.
func isAzureV1(version string) bool {
	return version == "" || strings.EqualFold(version, "v1")
}
