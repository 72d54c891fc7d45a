package runtime

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/natsx"
)

// Base is the part of every service's Config that its binary fills in: how
// it reaches NATS, the topology it ensures, and its version.
type Base struct {
	NATS     natsx.ConnConfig
	Topology contract.Options
	Version  string
}

// Validate checks what every service needs.
func (b Base) Validate(service string) error {
	if b.NATS.URL == "" {
		return errors.New(service + ": -nats-url is required")
	}
	return nil
}

// Serve is a service's body: it runs with NATS connected and the topology
// ensured, calls ready once the service can do its job, and returns when
// ctx ends.
type Serve func(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, ready func()) error

// Service is a Module made of a Base and a Serve: the shape every
// Switchyard service has.
type Service struct {
	name  string
	base  Base
	log   *slog.Logger
	serve Serve
	Readiness
}

// NewService returns the module; log should already carry the service name.
func NewService(name string, base Base, log *slog.Logger, serve Serve) *Service {
	return &Service{name: name, base: base, log: log, serve: serve}
}

// Name implements Module.
func (s *Service) Name() string { return s.name }

// Run connects the service's own NATS connection and serves until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	nc, js, err := ConnectNATS(ctx, s.base.NATS, s.base.Topology, s.log)
	if err != nil {
		return err
	}
	defer CloseNATS(nc)
	err = s.serve(ctx, nc, js, func() { s.Set(nil) })
	if err != nil && ctx.Err() == nil {
		// /readyz and ReadyCheck say why, not "starting" for ever.
		s.Set(fmt.Errorf("stopped: %w", err))
	}
	return err
}

// ServiceMain is the whole main of a standalone service binary: the shared
// flags plus register's, then build with the resulting Base.
func ServiceMain(name, opsAddr, version string, register func(*flag.FlagSet),
	build func(Base, *slog.Logger) (Module, error)) int {
	var common Common
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	common.RegisterFlags(fs, opsAddr)
	register(fs)
	return Main(name, fs, os.Args[1:], &common, func(log *slog.Logger) ([]Module, error) {
		base := Base{NATS: common.NATS, Topology: common.Topology, Version: version}
		base.NATS.Name = name
		m, err := build(base, log)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return []Module{m}, nil
	})
}
