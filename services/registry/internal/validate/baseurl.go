package validate

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// MaxBaseURLLength caps a base URL.
const MaxBaseURLLength = 2048

const baseURLExample = "for example https://api.openai.com or http://vllm-svc.inference:8000"

// endpointSuffixes are the paths consumer applications append after /v1;
// a base URL that ends in one of them was copied from an endpoint.
var endpointSuffixes = []string{"chat/completions", "completions", "embeddings", "models", "messages", "responses"}

// BaseURL checks a provider base URL and returns it normalized: scheme and
// host in lower case, trailing slashes stripped, the path prefix kept.
// Surrounding spaces are trimmed (they carry no meaning in a URL).
//
// Refused: anything but http and https; a missing host; credentials
// (user:password@); a query string or fragment; empty, "." or ".." path
// segments; and a path ending in /v1 or /v1beta (or in a full endpoint such
// as /v1/chat/completions), with a message giving the corrected value.
func BaseURL(raw string) (string, error) {
	trimmed := strings.TrimSpace(raw)
	if trimmed == "" {
		return "", fieldError(FieldBaseURL, "Model Base URL is required: the provider's scheme and host plus any required path prefix, %s.", baseURLExample)
	}
	if len(trimmed) > MaxBaseURLLength {
		return "", fieldError(FieldBaseURL, "Model Base URL is %d characters; the maximum is %d.", len(trimmed), MaxBaseURLLength)
	}
	u, err := parseBaseURL(trimmed)
	if err != nil {
		return "", err
	}
	if err := checkHost(u); err != nil {
		return "", err
	}
	path, err := cleanPath(u)
	if err != nil {
		return "", err
	}
	normalized := strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + path
	if err := checkVersionSuffix(normalized, path); err != nil {
		return "", err
	}
	return normalized, nil
}

func parseBaseURL(trimmed string) (*url.URL, error) {
	if !strings.Contains(trimmed, "://") {
		return nil, fieldError(FieldBaseURL, "Model Base URL %s has no scheme: start it with https:// (or http:// for a service inside your network). Did you mean %q?",
			quote(trimmed), "https://"+strings.TrimRight(trimmed, "/"))
	}
	u, err := url.Parse(trimmed)
	if err != nil {
		// url.Error repeats the whole input, which may hold a password;
		// keep only the reason.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, fieldError(FieldBaseURL, "Model Base URL is not a valid URL (%v); %s.", err, baseURLExample)
	}
	if scheme := strings.ToLower(u.Scheme); scheme != "http" && scheme != "https" {
		return nil, fieldError(FieldBaseURL, "Model Base URL scheme %q is not supported: use https:// (or http:// for a service inside your network).", u.Scheme)
	}
	if u.User != nil {
		return nil, fieldError(FieldBaseURL, "Model Base URL must not contain credentials (user:password@host): put the API key in the API key field, and give only the scheme and host, like %q.",
			u.Scheme+"://"+u.Host)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(trimmed, "#") {
		return nil, fieldError(FieldBaseURL, "Model Base URL must not contain a query string or fragment ('?' or '#'): give only the scheme, host and any path prefix, like %q. For Azure, put the API version in azure_api_version.",
			u.Scheme+"://"+u.Host+strings.TrimRight(u.EscapedPath(), "/"))
	}
	return u, nil
}

func checkHost(u *url.URL) error {
	host := u.Hostname()
	if host == "" {
		return fieldError(FieldBaseURL, "Model Base URL has no host: %s.", baseURLExample)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fieldError(FieldBaseURL, "Model Base URL port %q is not a port number between 1 and 65535.", port)
		}
	}
	if net.ParseIP(host) != nil {
		return nil
	}
	for i, r := range host {
		if !isAlnum(r) && r != '-' && r != '.' && r != '_' {
			return fieldError(FieldBaseURL, "Model Base URL host %s contains %s at position %d; a host name has only letters, digits, '-' and '.'.",
				quote(host), describeRune(r), i+1)
		}
	}
	return nil
}

// cleanPath strips trailing slashes and refuses segments that would make
// the joined request path ambiguous.
func cleanPath(u *url.URL) (string, error) {
	path := strings.TrimRight(u.EscapedPath(), "/")
	if path == "" {
		return "", nil
	}
	for segment := range strings.SplitSeq(path[1:], "/") {
		if segment == "" || segment == "." || segment == ".." {
			return "", fieldError(FieldBaseURL, "Model Base URL path %q has an empty, \".\" or \"..\" segment; give the path prefix plainly, like /api.", path)
		}
	}
	return path, nil
}

// checkVersionSuffix refuses a base URL that already contains the version
// segment consumers append, and gives the value to use instead.
func checkVersionSuffix(normalized, path string) error {
	segments := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i := len(segments) - 1; i >= 0; i-- {
		version := strings.ToLower(segments[i])
		if version != "v1" && version != "v1beta" {
			continue
		}
		rest := strings.Join(segments[i+1:], "/")
		if !isEndpointRest(version, rest) {
			return nil
		}
		corrected := strings.TrimSuffix(normalized, "/"+strings.Join(segments[i:], "/"))
		return versionSuffixError(normalized, "/"+segments[i], rest, corrected)
	}
	return nil
}

func isEndpointRest(version, rest string) bool {
	if rest == "" {
		return true
	}
	if version == "v1beta" && (rest == "models" || strings.HasPrefix(rest, "models/")) {
		return true
	}
	for _, suffix := range endpointSuffixes {
		if strings.EqualFold(rest, suffix) {
			return true
		}
	}
	return false
}

func versionSuffixError(normalized, version, rest, corrected string) *Error {
	duplicated := "/v1/v1/chat/completions"
	appender := "consumer applications append /v1 themselves"
	if strings.EqualFold(version, "/v1beta") {
		duplicated = "/v1beta/v1beta/models/{model}:generateContent"
		appender = "consumer applications append /v1beta (Gemini) themselves"
	}
	what := "must not end in " + version
	if rest != "" {
		what = "is a full endpoint URL (it ends in " + version + "/" + rest + ")"
	}
	return fieldError(FieldBaseURL, "Model Base URL %s %s: %s, so including it here causes duplicated paths such as %s, which returns a 404. Use %q instead.",
		quote(normalized), what, appender, duplicated, corrected)
}
