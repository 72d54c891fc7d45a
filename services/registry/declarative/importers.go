package declarative

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Import formats.
const (
	// FormatConnectors is the external API connectors TOML: one table per
	// provider with base_url and api_key, and one sub-table per model with
	// internal (the name applications use) and external (the provider's
	// model id).
	FormatConnectors = "connectors"
	// FormatEndpoints is the endpoint fixtures JSON: entries whose fields
	// carry endpoint_slug, cluster, framework, model and a config with
	// api_url and api_key_env_name.
	FormatEndpoints = "endpoints"
)

// ImportConnectors converts a connectors TOML. Each provider becomes a
// credential (its api_key, inline: the format keeps keys in the file) and
// each model a service "<provider>-<model key>" serving the external id,
// with an alias from the internal name to it, so applications keep the
// names they use. A base_url ending in /v1 loses it (Switchyard appends
// /v1 itself).
func ImportConnectors(data []byte) (*Config, error) {
	var raw map[string]map[string]any
	if _, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&raw); err != nil {
		return nil, fmt.Errorf("connectors TOML: %w", err)
	}
	c := &Config{Credentials: map[string]Credential{}}
	for _, provider := range sortedKeys(raw) {
		if err := c.addProvider(provider, raw[provider]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Config) addProvider(provider string, table map[string]any) error {
	baseURL, _ := table["base_url"].(string)
	key, _ := table["api_key"].(string)
	if baseURL == "" || key == "" {
		return fmt.Errorf("provider [%s] needs base_url and api_key", provider)
	}
	credName := slugName(provider)
	c.Credentials[credName] = Credential{Value: key}
	c.AllowInlineSecrets = true
	for _, model := range sortedKeys(table) {
		m, ok := table[model].(map[string]any)
		if !ok {
			continue // base_url, api_key
		}
		internal, _ := m["internal"].(string)
		external, _ := m["external"].(string)
		if internal == "" || external == "" {
			return fmt.Errorf("model [%s.%s] needs internal and external", provider, model)
		}
		name := slugName(provider + "-" + model)
		c.Services = append(c.Services, Service{Name: name, Model: external, BaseURL: stripVersion(baseURL),
			Protocol: "OPENAI_V1", Functions: []string{"chat"}, Credential: credName})
		c.Aliases = append(c.Aliases, Alias{Name: internal, Targets: []Target{{Service: name, Weight: 1}}})
	}
	return nil
}

// stripVersion removes a trailing /v1 (and slash) from a base URL.
func stripVersion(u string) string {
	return strings.TrimSuffix(strings.TrimRight(u, "/"), "/v1")
}

// endpointFixture is one entry of the fixtures JSON.
type endpointFixture struct {
	Model  string `json:"model"`
	Fields struct {
		Slug      string `json:"endpoint_slug"`
		Cluster   string `json:"cluster"`
		Framework string `json:"framework"`
		Model     string `json:"model"`
		// The endpoint's access policy (seed 001's allowed_globus_groups
		// and allowed_domains): the service's allowed groups and domains.
		AllowedGroups  []string `json:"allowed_globus_groups"`
		AllowedDomains []string `json:"allowed_domains"`
		Config         struct {
			APIURL     string `json:"api_url"`
			APIKeyEnv  string `json:"api_key_env_name"`
			APIKeyFile string `json:"api_key_file"`
		} `json:"config"`
	} `json:"fields"`
}

// ImportEndpoints converts endpoint fixtures JSON (a list, or one entry).
// Each entry becomes a service named by its endpoint_slug — checked against
// the slugified "cluster framework model" — serving the model, with the
// key from the api_key_env_name variable and the access policy from
// allowed_globus_groups and allowed_domains. Entries of other fixture models
// (clusters) are skipped. An api_url whose path has more than a /v1 prefix
// before the endpoint cannot be expressed as a base URL and is refused.
func ImportEndpoints(data []byte) (*Config, error) {
	var list []endpointFixture
	if err := json.Unmarshal(data, &list); err != nil {
		var one endpointFixture
		if err1 := json.Unmarshal(data, &one); err1 != nil {
			return nil, fmt.Errorf("endpoint fixtures JSON: %w", err)
		}
		list = []endpointFixture{one}
	}
	c := &Config{}
	var errs []error
	for i, f := range list {
		if f.Model != "" && !strings.HasSuffix(f.Model, ".endpoint") {
			continue
		}
		s, err := endpointService(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("entry %d: %w", i+1, err))
			continue
		}
		c.Services = append(c.Services, s)
	}
	return c, errors.Join(errs...)
}

func endpointService(f endpointFixture) (Service, error) {
	fl := f.Fields
	want := Slugify(strings.Join([]string{fl.Cluster, fl.Framework, strings.ToLower(fl.Model)}, " "))
	slug := fl.Slug
	if slug == "" {
		slug = want
	}
	if slug != want {
		return Service{}, fmt.Errorf("endpoint_slug %q is not the slugified cluster-framework-model %q", slug, want)
	}
	base, err := baseFromAPIURL(fl.Config.APIURL)
	if err != nil {
		return Service{}, fmt.Errorf("%s: %w", slug, err)
	}
	if fl.Config.APIKeyEnv == "" && fl.Config.APIKeyFile == "" {
		return Service{}, fmt.Errorf("%s: config.api_key_env_name is required", slug)
	}
	return Service{Name: slugName(slug), Model: fl.Model, BaseURL: base, Protocol: "OPENAI_V1",
		Functions: []string{"chat"}, Tags: trimmed([]string{labelOf(fl.Cluster), labelOf(fl.Framework)}),
		APIKeyEnv: fl.Config.APIKeyEnv, APIKeyFile: fl.Config.APIKeyFile,
		AllowedGroups: fl.AllowedGroups, AllowedDomains: fl.AllowedDomains}, nil
}

// endpointSuffixes are the OpenAI paths an api_url may end in.
var endpointSuffixes = []string{"/chat/completions", "/completions", "/embeddings"}

// baseFromAPIURL turns a full endpoint URL into a base URL:
// https://api.example.com/v1/chat/completions -> https://api.example.com.
func baseFromAPIURL(apiURL string) (string, error) {
	u := strings.TrimRight(apiURL, "/")
	for _, suf := range endpointSuffixes {
		if strings.HasSuffix(u, suf) {
			u = strings.TrimSuffix(u, suf)
			break
		}
	}
	u = stripVersion(u)
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok || scheme == "" {
		return "", fmt.Errorf("api_url %q is not an absolute URL", apiURL)
	}
	if strings.Contains(rest, "/v1/") {
		return "", fmt.Errorf("api_url %q has a path after /v1 (Switchyard calls {base}/v1/chat/completions, so it cannot reach this endpoint); register it by hand with the right base URL", apiURL)
	}
	return u, nil
}

var (
	slugDrop  = regexp.MustCompile(`[^\w\s-]`)
	slugSpace = regexp.MustCompile(`[-\s]+`)
)

// Slugify is Django's slugify for ASCII input: drop everything but word
// characters, spaces and hyphens, lower-case, collapse runs of spaces and
// hyphens into one hyphen, and trim hyphens and underscores at the ends.
// "my-cluster my-framework meta-llama/meta-llama-3.1-70b-instruct" ->
// "my-cluster-my-framework-meta-llamameta-llama-31-70b-instruct".
func Slugify(s string) string {
	var ascii strings.Builder
	for _, r := range s {
		if r < 0x80 {
			ascii.WriteRune(r)
		}
	}
	out := strings.ToLower(slugDrop.ReplaceAllString(ascii.String(), ""))
	out = slugSpace.ReplaceAllString(out, "-")
	return strings.Trim(out, "-_")
}

// slugName makes a slug a valid service name: underscores become hyphens
// and the result is cut to 63 characters.
func slugName(s string) string {
	s = strings.ReplaceAll(Slugify(s), "_", "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	return s
}

// labelOf makes a value a valid tag, or "" when nothing is left.
func labelOf(s string) string { return slugName(s) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
