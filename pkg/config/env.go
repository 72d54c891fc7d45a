// Package config holds the conventions every Switchyard binary follows for
// its flags: each flag can also be set from an environment variable named
// SY_ plus the flag name in upper case with '-' and '.' turned into '_'
// (-nats-url → SY_NATS_URL, -router.listen → SY_ROUTER_LISTEN), which is
// how containers and Kubernetes manifests configure the services. A flag
// given on the command line wins over the environment.
package config

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// EnvName is the environment variable that sets flag name.
func EnvName(name string) string {
	r := strings.NewReplacer("-", "_", ".", "_")
	return "SY_" + strings.ToUpper(r.Replace(name))
}

// ApplyEnv sets every flag of fs not given on the command line from its
// environment variable, if present. Call it after fs.Parse.
func ApplyEnv(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(EnvName(f.Name)); ok {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("environment %s: %w", EnvName(f.Name), serr)
			}
		}
	})
	return err
}

// StringList is a comma-separated list flag.
type StringList []string

func (l *StringList) String() string { return strings.Join(*l, ",") }

// Set replaces the list with the comma-separated values of v.
func (l *StringList) Set(v string) error {
	*l = nil
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}
