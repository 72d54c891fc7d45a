// Package declarative applies a Switchyard config file — services, their
// credentials and model aliases, in TOML — through the registry's own API,
// so every validation rule and every probe applies exactly as for `syctl
// services register`. It also imports the two formats users of other
// gateways already have: a connectors TOML (providers with base_url and
// api_key, models mapped internal → external) and endpoint fixtures JSON
// (api_url, api_key_env_name, endpoint_slug).
//
// Plan compares the file with what is registered and returns the actions
// that would make them equal; an unchanged file plans nothing, so applying
// it again writes nothing and probes nothing. Apply runs a plan. The
// registry re-applies its -config-file whenever the file changes (Reloader);
// `syctl apply -f FILE [--dry-run]` runs the same code over NATS.
//
// TOML, with github.com/BurntSushi/toml: one format and one library serve
// both the config file and the connectors importer (that format is TOML
// already), TOML has no implicit typing surprises (a model id such as "no"
// or "1.10" stays a string), and the library is small, dependency-free and
// reports the line of a mistake.
package declarative

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// ManagedTag marks a service the config file owns: a later apply may update
// or deregister it. Services registered by hand never carry it and are
// never touched.
const ManagedTag = "managed-by:config"

// Config is one config file.
type Config struct {
	// AllowInlineSecrets permits api_key / value in the file itself. Off by
	// default: keys come from environment variables or files (mounted
	// Secrets) of the credential service.
	AllowInlineSecrets bool                  `toml:"allow_inline_secrets"`
	Credentials        map[string]Credential `toml:"credentials"`
	Services           []Service             `toml:"services"`
	Aliases            []Alias               `toml:"aliases"`
	Imports            []Import              `toml:"imports"`
}

// Credential says where a key comes from; exactly one field is set. Env and
// File name a variable or a path on the credential service's host.
type Credential struct {
	Env   string `toml:"env"`
	File  string `toml:"file"`
	Value string `toml:"value"`
}

// Service declares one external inference service.
type Service struct {
	Name             string   `toml:"name"`
	Model            string   `toml:"model"`
	BaseURL          string   `toml:"base_url"`
	Protocol         string   `toml:"protocol"`
	Namespace        string   `toml:"namespace"`
	Functions        []string `toml:"functions"`
	Tags             []string `toml:"tags"`
	AllowInsecureTLS bool     `toml:"allow_insecure_tls"`
	AzureDeployment  string   `toml:"azure_deployment"`
	AzureAPIVersion  string   `toml:"azure_api_version"`
	// Credential names an entry of [credentials]; or give the key source
	// directly with one of the api_key_* fields.
	Credential string `toml:"credential"`
	APIKeyEnv  string `toml:"api_key_env"`
	APIKeyFile string `toml:"api_key_file"`
	APIKey     string `toml:"api_key"`
	// Access policy and per-service limits, as `services update` edits
	// them (changed in place; empty lists and zero limits mean none).
	AllowedGroups  []string `toml:"allowed_groups"`
	AllowedDomains []string `toml:"allowed_domains"`
	RPM            int64    `toml:"rpm"`
	TPM            int64    `toml:"tpm"`
}

// Alias declares one edge model name served by one or more services.
type Alias struct {
	Name      string   `toml:"name"`
	Targets   []Target `toml:"targets"`
	ModelFrom string   `toml:"model_from"`
}

// Target is one service behind an alias.
type Target struct {
	Service string `toml:"service"`
	Weight  uint32 `toml:"weight"`
}

// Import merges a file in another product's format.
type Import struct {
	// Format is FormatConnectors or FormatEndpoints.
	Format string `toml:"format"`
	// Path is relative to the config file.
	Path string `toml:"path"`
	// AllowInlineSecrets lets a connectors file's api_key values in (they
	// are inline by that format's design; the file itself is a Secret).
	AllowInlineSecrets bool `toml:"allow_inline_secrets"`
}

// Load reads and parses a config file, merges its imports and checks that
// every reference in it resolves.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, filepath.Dir(path))
}

// Parse parses config text; dir resolves relative import paths.
func Parse(data []byte, dir string) (*Config, error) {
	var c Config
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&c)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		return nil, fmt.Errorf("config: unknown key %q (check the spelling; see docs/declarative-config.md)", un[0].String())
	}
	for _, imp := range c.Imports {
		if err := c.merge(imp, dir); err != nil {
			return nil, err
		}
	}
	c.Imports = nil
	return &c, c.check()
}

func (c *Config) merge(imp Import, dir string) error {
	path := imp.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: import %s: %w", imp.Path, err)
	}
	var got *Config
	switch imp.Format {
	case FormatConnectors:
		got, err = ImportConnectors(data)
	case FormatEndpoints:
		got, err = ImportEndpoints(data)
	default:
		return fmt.Errorf("config: import %s: unknown format %q; use %q or %q", imp.Path, imp.Format, FormatConnectors, FormatEndpoints)
	}
	if err != nil {
		return fmt.Errorf("config: import %s: %w", imp.Path, err)
	}
	if got.AllowInlineSecrets && !imp.AllowInlineSecrets && !c.AllowInlineSecrets {
		return fmt.Errorf("config: import %s holds inline API keys; set allow_inline_secrets = true on the import to accept them", imp.Path)
	}
	return c.add(got, imp.Path)
}

// add merges other's entries into c; a name defined twice is an error.
func (c *Config) add(other *Config, from string) error {
	for name, cred := range other.Credentials {
		if _, dup := c.Credentials[name]; dup {
			return fmt.Errorf("config: import %s: credential %q is already defined", from, name)
		}
		if c.Credentials == nil {
			c.Credentials = map[string]Credential{}
		}
		c.Credentials[name] = cred
	}
	c.Services = append(c.Services, other.Services...)
	c.Aliases = append(c.Aliases, other.Aliases...)
	if other.AllowInlineSecrets {
		c.AllowInlineSecrets = true
	}
	return nil
}

// check refuses duplicate names, dangling references and inline keys that
// were not allowed. Field rules (name syntax, base URL, ...) are the
// registry's and are applied when the plan runs.
func (c *Config) check() error {
	var errs []error
	seen := map[string]bool{}
	for _, s := range c.Services {
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("service %q is declared twice", s.Name))
		}
		seen[s.Name] = true
		if _, err := c.source(s); err != nil {
			errs = append(errs, fmt.Errorf("service %q: %w", s.Name, err))
		}
	}
	aliases := map[string]bool{}
	for _, a := range c.Aliases {
		if aliases[a.Name] {
			errs = append(errs, fmt.Errorf("alias %q is declared twice", a.Name))
		}
		aliases[a.Name] = true
		for _, t := range a.Targets {
			if !seen[t.Service] {
				errs = append(errs, fmt.Errorf("alias %q targets %q, which this file does not declare", a.Name, t.Service))
			}
		}
	}
	for name, cred := range c.Credentials {
		if err := c.checkCredential(cred); err != nil {
			errs = append(errs, fmt.Errorf("credential %q: %w", name, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}

// source is the credential a service declares.
func (c *Config) source(s Service) (Credential, error) {
	direct := Credential{Env: s.APIKeyEnv, File: s.APIKeyFile, Value: s.APIKey}
	set := countSet(direct.Env, direct.File, direct.Value)
	switch {
	case s.Credential != "" && set > 0:
		return Credential{}, errors.New("give either credential or one api_key_* field, not both")
	case s.Credential != "":
		cred, ok := c.Credentials[s.Credential]
		if !ok {
			return Credential{}, fmt.Errorf("credential %q is not defined under [credentials]", s.Credential)
		}
		return cred, nil
	case set == 0:
		return Credential{}, errors.New("no API key: set api_key_env, api_key_file or credential")
	}
	return direct, c.checkCredential(direct)
}

func (c *Config) checkCredential(cred Credential) error {
	switch {
	case countSet(cred.Env, cred.File, cred.Value) != 1:
		return errors.New("set exactly one of env, file or value")
	case cred.Value != "" && !c.AllowInlineSecrets:
		return errors.New("an inline API key is refused: use an environment variable or a file (env/file, api_key_env/api_key_file), or set allow_inline_secrets = true")
	}
	return nil
}

func countSet(vals ...string) int {
	return len(vals) - len(slices.DeleteFunc(slices.Clone(vals), func(v string) bool { return v != "" }))
}

// describe names a source without its value: "env OPENAI_API_KEY",
// "file /run/key", "inline value".
func (cred Credential) describe() string {
	switch {
	case cred.Env != "":
		return "env " + cred.Env
	case cred.File != "":
		return "file " + cred.File
	}
	return "inline value"
}

// withManagedTag returns tags plus ManagedTag, sorted and deduplicated.
func withManagedTag(tags []string) []string {
	out := append(slices.Clone(tags), ManagedTag)
	slices.Sort(out)
	return slices.Compact(out)
}

// trimmed drops empty strings.
func trimmed(list []string) []string {
	var out []string
	for _, v := range list {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
