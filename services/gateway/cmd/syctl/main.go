// Command syctl is Switchyard's admin CLI: it registers, inspects and
// deregisters external inference services, shows usage and rotates master
// keys, all over the admin NATS subjects. Run `syctl help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchyard/switchyard/services/gateway/internal/syctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := syctl.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
