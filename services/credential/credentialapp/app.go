// Package credentialapp is the credential service's seam: its Config,
// flags and validation, and the App that the credential binary and the
// all-in-one switchyard binary both run.
package credentialapp

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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
	runtime.Base
	// MasterKeysFile holds "<id>:<base64 32 bytes>" entries, first active.
	MasterKeysFile string
	// FilePollInterval is how often key files are re-read for changes.
	FilePollInterval time.Duration
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
	return c.Base.Validate(Name)
}

// New validates cfg, loads the master keys and returns the credential
// module.
func New(cfg Config, log *slog.Logger) (*runtime.Service, error) {
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
	log = log.With("svc", Name)
	return runtime.NewService(Name, cfg.Base, log, func(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, ready func()) error {
		kv, err := store.Open(ctx, js)
		if err != nil {
			return err
		}
		svc := credential.New(kv, kr)
		ms, err := credentialtransport.Serve(nc, credentialendpoint.New(svc, log), cfg.Version, log)
		if err != nil {
			return err
		}
		defer func() { _ = ms.Stop() }()
		files := credential.NewFileWatcher(kv, js, cfg.FilePollInterval, log)
		go func() {
			if err := files.Run(ctx); err != nil {
				log.Error("key file watcher stopped; rotated key files reach the edge only when their service changes", "err", err)
			}
		}()
		ready()
		log.Info("serving", "active_master_key", kr.ActiveID())
		<-ctx.Done()
		return nil
	}), nil
}

// GenerateMasterKey returns a fresh master key entry ("<id>:<base64>") for
// a development setup; production keys come from a secret store.
func GenerateMasterKey(id string) (secret.Secret, error) { return envelope.GenerateKeyEntry(id) }
