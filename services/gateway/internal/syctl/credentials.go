package syctl

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

func credentialsCommand() *command {
	return &command{name: "credentials", summary: "manage the master keys that encrypt provider keys", subs: []*command{
		{name: "rotate-master", summary: "re-wrap every stored data key under the active master key (online)", run: runRotateMaster, help: rotateHelp},
		{name: "gen-master-key", summary: "print a new random master key entry (offline)", usage: "[--id ID]", run: runGenMasterKey, help: genKeyHelp},
	}}
}

const rotateHelp = `
Rotation: run gen-master-key, put the new entry FIRST in SY_MASTER_KEYS
(or the -master-keys-file, SY_MASTER_KEYS_FILE), keeping the old entry after it;
restart the credential service; run rotate-master; then remove the old entry.
Provider keys are never decrypted by a rotation.`

const genKeyHelp = `
Prints "<id>:<base64 of 32 random bytes>" on stdout and nothing else, so it can
be redirected into a secret store. Treat the output as a secret.`

// masterKeySize is AES-256's key length; the credential service refuses
// any other.
const masterKeySize = 32

// keyIDPattern is the key id syntax the credential service accepts.
var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func runRotateMaster(ctx context.Context, c *cli, args []string) error {
	if _, err := c.parseExact(c.newFlagSet(), args, 0, "no arguments"); err != nil {
		return err
	}
	var rep pb.RotateMasterResponse
	if err := c.call(ctx, contract.SubjCredentialsRotate, &pb.RotateMasterRequest{}, &rep); err != nil {
		return err
	}
	if c.global.output == outputJSON {
		return printJSON(c.stdout, &rep)
	}
	_, err := fmt.Fprintf(c.stdout, "Re-wrapped %d data key(s) under master key %q; %d already used it.\n",
		rep.GetRewrapped(), rep.GetActiveKeyId(), rep.GetUnchanged())
	return err
}

func runGenMasterKey(_ context.Context, c *cli, args []string) error {
	var id string
	fs := c.newFlagSet()
	fs.StringVar(&id, "id", "", "key `ID` stored in every record it wraps (default k<UTC timestamp>)")
	if _, err := c.parseExact(fs, args, 0, "no arguments"); err != nil {
		return err
	}
	if id == "" {
		id = "k" + c.now().UTC().Format("20060102150405")
	}
	if !keyIDPattern.MatchString(id) {
		return usageErrorf("--id %q: use 1-64 characters from A-Z a-z 0-9 . _ -", id)
	}
	entry, err := newMasterKeyEntry(id)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.stdout, entry)
	return err
}

// newMasterKeyEntry returns "<id>:<base64 of 32 random bytes>", the entry
// format of SY_MASTER_KEYS.
func newMasterKeyEntry(id string) (string, error) {
	key := make([]byte, masterKeySize)
	defer clear(key)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("generate master key: %w", err)
	}
	return id + ":" + base64.StdEncoding.EncodeToString(key), nil
}
