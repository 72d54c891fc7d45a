package syctl

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchyard/switchyard/pkg/config"
)

// Output formats.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// globalFlags say how to reach NATS and how to print. They are accepted
// before the command (`syctl -o json services list`) and after it
// (`syctl services list -o json`); each can be set from the environment
// variable named by config.EnvName (SY_NATS_URL, SY_NATS_CREDS, ...).
type globalFlags struct {
	natsURL      string
	natsCreds    string
	natsUser     string
	natsPassword secretValue
	timeout      time.Duration
	output       string
}

const defaultNATSURL = "nats://127.0.0.1:4222"

// defaultTimeout covers the registry's inline probe (up to 10 s) with room
// for the credential write and a slow upstream.
const defaultTimeout = 30 * time.Second

func defaultGlobals() globalFlags {
	return globalFlags{natsURL: defaultNATSURL, timeout: defaultTimeout, output: outputTable}
}

// register adds the global flags to fs with their current values as
// defaults, so a later parse only overrides what it is given.
func (g *globalFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.natsURL, "nats-url", g.natsURL, "NATS server URL (env SY_NATS_URL)")
	fs.StringVar(&g.natsCreds, "nats-creds", g.natsCreds, "NATS .creds file (JWT + nkey) (env SY_NATS_CREDS)")
	fs.StringVar(&g.natsUser, "nats-user", g.natsUser, "NATS user (env SY_NATS_USER)")
	fs.Var(&g.natsPassword, "nats-password", "NATS password (env SY_NATS_PASSWORD)")
	fs.DurationVar(&g.timeout, "timeout", g.timeout, "how long to wait for a reply (env SY_TIMEOUT)")
	fs.StringVar(&g.output, "output", g.output, "output format: table or json (env SY_OUTPUT)")
	fs.StringVar(&g.output, "o", g.output, "shorthand for --output")
}

func (g *globalFlags) check() error {
	if g.output != outputTable && g.output != outputJSON {
		return usageErrorf("unknown output format %q: use -o table or -o json", g.output)
	}
	if g.timeout <= 0 {
		return usageErrorf("--timeout must be positive, got %s", g.timeout)
	}
	return nil
}

// secretValue is a string flag whose value is never shown: its String is
// empty, so flag help never prints it as a default.
type secretValue struct{ value string }

func (s *secretValue) String() string     { return "" }
func (s *secretValue) Set(v string) error { s.value = v; return nil }

// listFlag is a repeatable flag; each use may also hold comma-separated
// values (`--tag a --tag b` equals `--tag a,b`). set records that the flag
// was given at all, so `--tag ""` can mean "no tags".
type listFlag struct {
	values []string
	set    bool
}

func (l *listFlag) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(l.values, ",")
}

func (l *listFlag) Set(v string) error {
	l.set = true
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			l.values = append(l.values, s)
		}
	}
	return nil
}

// parseGlobals parses the global flags in front of the command and applies
// their SY_* environment defaults; it returns the command and its args.
func (c *cli) parseGlobals(args []string) ([]string, error) {
	fs := flag.NewFlagSet("syctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.global.register(fs)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return []string{"-h"}, nil
		}
		return nil, usageErrorf("%v; run `syctl -h`", err)
	}
	if err := config.ApplyEnv(fs); err != nil {
		return nil, usageErrorf("%v", err)
	}
	return fs.Args(), c.global.check()
}

// newFlagSet returns an empty flag set for the leaf being run.
func (c *cli) newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet(strings.Join(c.path, " "), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses a leaf's flags (its own and the global ones) with
// positional arguments allowed anywhere, as in `syctl services get NAME -o
// json`. Everything after `--` is positional. A -h prints the leaf's help.
func (c *cli) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	if wantsHelp(args) {
		c.printLeafHelp(c.stdout, fs)
		return nil, errHelpShown
	}
	c.global.register(fs)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageErrorf("%v; run `%s -h`", err, strings.Join(c.path, " "))
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	return positional, c.global.check()
}

// parseExact parses like parse and requires exactly n positional arguments,
// named by what in the error.
func (c *cli) parseExact(fs *flag.FlagSet, args []string, n int, what string) ([]string, error) {
	pos, err := c.parse(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != n {
		return nil, usageErrorf("%s takes %s (got %d argument(s)); run `%s -h`",
			strings.Join(c.path, " "), what, len(pos), strings.Join(c.path, " "))
	}
	return pos, nil
}

func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "-help" || a == "--help" {
			return true
		}
	}
	return false
}

// printLeafHelp prints a leaf's synopsis, its own flags and its notes.
func (c *cli) printLeafHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  %s %s\n", c.cmd.summary, strings.Join(c.path, " "), c.cmd.usage)
	if hasFlags(fs) {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if c.cmd.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.cmd.help))
	}
	fmt.Fprintln(w, "\nGlobal flags (--nats-url, --nats-creds, --nats-user, --nats-password, --timeout, -o) work here too; see `syctl -h`.")
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// printGroupHelp lists a group's commands; the root also lists the global
// flags.
func (c *cli) printGroupHelp(w io.Writer, cmd *command, path []string) {
	name := strings.Join(path, " ")
	fmt.Fprintf(w, "%s\n\nUsage:\n  %s COMMAND [flags]\n\nCommands:\n", cmd.summary, name)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range cmd.subs {
		fmt.Fprintf(tw, "  %s\t%s\n", s.name, s.summary)
	}
	_ = tw.Flush()
	if len(path) == 1 {
		fmt.Fprintln(w, "\nGlobal flags (before or after the command):")
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		g := defaultGlobals()
		g.register(fs)
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fmt.Fprintf(w, "\nRun `%s COMMAND -h` for a command's flags.\n", name)
}
