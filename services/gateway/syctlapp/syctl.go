// Package syctlapp exposes syctl's entry point to other modules (the
// end-to-end tests drive the real CLI through it).
package syctlapp

import (
	"context"
	"io"

	"github.com/switchyard/switchyard/services/gateway/internal/syctl"
)

// Run runs syctl with args (without the program name) and returns its exit
// code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return syctl.Run(ctx, args, stdin, stdout, stderr)
}
