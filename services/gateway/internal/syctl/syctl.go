// Package syctl is Switchyard's admin command line. Every command except
// `credentials gen-master-key`, `version` and `help` is one request/reply on
// an admin NATS subject (sy.admin.v1.*), so anything syctl does can also be
// done with the real `nats req` client.
//
// Run is the whole program behind a testable seam: it takes the arguments,
// standard streams and a context, and returns the process exit code (0 on
// success, 1 when the request failed, 2 for a usage error).
package syctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"time"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// Version is syctl's version, set at link time with
// -ldflags "-X github.com/switchyard/switchyard/services/gateway/internal/syctl.Version=v1.2.3".
// When unset, the module version from the build info is shown.
var Version = ""

// command is one node of the command tree: a group (subs) or a leaf (run).
type command struct {
	name    string
	summary string
	// usage is the argument synopsis shown after the command path.
	usage string
	// help is extra text printed after the flags of a leaf's -h.
	help string
	subs []*command
	run  func(ctx context.Context, c *cli, args []string) error
}

// cli is what one Run invocation works with.
type cli struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	global globalFlags
	now    func() time.Time
	// cmd and path are the leaf being run, for its flag set and help.
	cmd  *command
	path []string
}

// Run executes syctl with args (without the program name) and returns the
// exit code. It never calls os.Exit, and reads the environment only for the
// SY_* defaults of the global flags.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, global: defaultGlobals(), now: time.Now}
	root := rootCommand()
	rest, err := c.parseGlobals(args)
	if err == nil {
		err = c.dispatch(ctx, root, []string{"syctl"}, rest)
	}
	return c.report(err)
}

// dispatch walks the command tree along args and runs the leaf it reaches.
func (c *cli) dispatch(ctx context.Context, cmd *command, path, args []string) error {
	if cmd.run != nil {
		c.cmd, c.path = cmd, path
		return cmd.run(ctx, c, args)
	}
	if len(args) > 0 && args[0] == "help" && cmd.find("help") == nil {
		// `syctl services help register` reads as `syctl services register -h`.
		return c.dispatch(ctx, cmd, path, append(args[1:], "-h"))
	}
	if len(args) == 0 || isHelpArg(args[0]) {
		c.printGroupHelp(c.stdout, cmd, path)
		if len(args) == 0 {
			return usageErrorf("%s needs a command", strings.Join(path, " "))
		}
		return nil
	}
	sub := cmd.find(args[0])
	if sub == nil {
		return usageErrorf("unknown command %q for %s; run `%s -h` for the list",
			args[0], strings.Join(path, " "), strings.Join(path, " "))
	}
	return c.dispatch(ctx, sub, append(path, sub.name), args[1:])
}

func (cmd *command) find(name string) *command {
	for _, s := range cmd.subs {
		if s.name == name {
			return s
		}
	}
	return nil
}

func isHelpArg(a string) bool {
	return a == "-h" || a == "-help" || a == "--help"
}

// rootCommand is the command tree.
func rootCommand() *command {
	return &command{name: "syctl", summary: "Switchyard admin CLI over NATS", subs: []*command{
		servicesCommand(),
		aliasesCommand(),
		keysCommand(),
		applyCommand(),
		usageCommand(),
		credentialsCommand(),
		{name: "version", summary: "print syctl's version", run: runVersion},
		{name: "help", summary: "show help for a command", usage: "[COMMAND...]", run: runHelp},
	}}
}

func runVersion(_ context.Context, c *cli, args []string) error {
	if len(args) > 0 {
		return usageErrorf("version takes no arguments")
	}
	_, err := fmt.Fprintln(c.stdout, "syctl", version())
	return err
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// runHelp prints the help of the command named by args: `syctl help
// services register` is `syctl services register -h`.
func runHelp(ctx context.Context, c *cli, args []string) error {
	return c.dispatch(ctx, rootCommand(), []string{"syctl"}, append(args, "-h"))
}

// report prints err for a person and maps it to an exit code.
func (c *cli) report(err error) int {
	if err == nil || errors.Is(err, errHelpShown) {
		return ExitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(c.stderr, "error: %s\n", ue.msg)
		return ExitUsage
	}
	printError(c.stderr, err)
	return ExitError
}

// usageError is a mistake in the command line; it exits with ExitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelpShown ends a command whose -h was answered.
var errHelpShown = errors.New("help shown")
