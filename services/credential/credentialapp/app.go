// Package credentialapp is the credential service's seam: its Config,
// flags and validation, and the App that the credential binary and the
// all-in-one switchyard binary both run.
package credentialapp

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"time"

	"github.com/switchyard/switchyard/pkg/contract"
	"github.com/switchyard/switchyard/pkg/natsx"
	"github.com/switchyard/switchyard/pkg/runtime"
	"github.com/switchyard/switchyard/pkg/secret"
	"github.com/switchyard/switchyard/services/credential/internal/credential"
	"github.com/switchyard/switchyard/services/credential/internal/credentialendpoint"
	"github.com/switchyard/switchyard/services/credential/internal/credentialtransport"
	"github.com/switchyard/switchyard/services/credential/internal/envelope"
	"github.com/switchyard/switchyard/services/credential/internal/store"
)

// Name is the target name.
const Name = "credential"

// EnvMasterKeys holds the master key entries inline (see envelope's doc
// for the format); -master-keys-file wins when both are set.
const EnvMasterKeys = "SY_MASTER_KEYS"

// Config configures the credential service.
type Config struct {
	NATS     natsx.ConnConfig
	Topology contract.Options
	// MasterKeysFile holds "<id>:<base64 32 bytes>" entries, first active.
	MasterKeysFile string
	// FilePollInterval is how often key files are re-read for changes.
	FilePollInterval time.Duration
	Version          string
}

// RegisterFlags adds the service's own flags with the given prefix.
func (c *Config) RegisterFlags(fs *flag.FlagSet, prefix string) {
	fs.StringVar(&c.MasterKeysFile, prefix+"master-keys-file", "",
		"file of master keys (<id>:<base64 32 bytes>, first active); or set "+EnvMasterKeys)
	fs.DurationVar(&c.FilePollInterval, prefix+"file-poll-interval", credential.DefaultFilePollInterval,
		"how often key files (--api-key-file sources, mounted Secrets) are re-read; a change reaches the edge within it")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.NATS.URL == "" {
		return errors.New("credential: -nats-url is required")
	}
	return nil
}

// App is a running credential service.
type App struct {
	cfg     Config
	log     *slog.Logger
	keyring *envelope.Keyring
	runtime.Readiness
}

// New validates cfg and loads the master keys.
func New(cfg Config, log *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	kr, err := envelope.LoadKeyring(func(name string) string {
		switch name {
		case envelope.EnvMasterKeysFile:
			return cfg.MasterKeysFile
		case envelope.EnvMasterKeys:
			if cfg.MasterKeysFile == "" {
				return os.Getenv(EnvMasterKeys)
			}
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	return &App{cfg: cfg, log: log.With("svc", Name), keyring: kr}, nil
}

// Name implements runtime.Module.
func (a *App) Name() string { return Name }

// Run serves until ctx ends.
func (a *App) Run(ctx context.Context) error {
	nc, js, err := runtime.ConnectNATS(ctx, a.cfg.NATS, a.cfg.Topology, a.log)
	if err != nil {
		return err
	}
	defer runtime.CloseNATS(nc)
	kv, err := store.Open(ctx, js)
	if err != nil {
		return err
	}
	svc := credential.New(kv, a.keyring)
	ms, err := credentialtransport.Serve(nc, credentialendpoint.New(svc, a.log), a.cfg.Version, a.log)
	if err != nil {
		return err
	}
	defer func() { _ = ms.Stop() }()
	files := credential.NewFileWatcher(kv, js, a.cfg.FilePollInterval, a.log)
	go func() {
		if err := files.Run(ctx); err != nil {
			a.log.Error("key file watcher stopped; rotated key files reach the edge only when their service changes", "err", err)
		}
	}()
	a.Set(nil)
	a.log.Info("serving", "active_master_key", a.keyring.ActiveID())
	<-ctx.Done()
	return nil
}

// GenerateMasterKey returns a fresh master key entry ("<id>:<base64>") for
// a development setup; production keys come from a secret store.
func GenerateMasterKey(id string) (secret.Secret, error) { return envelope.GenerateKeyEntry(id) }
