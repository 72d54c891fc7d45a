package syctl

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// maxKeyBytes bounds what `--api-key -` reads from stdin; provider keys are
// a few hundred bytes at most.
const maxKeyBytes = 64 << 10

// optString is a string flag that records whether it was given, so an
// explicitly empty value can be told from an absent one. Its String is
// empty so help never shows a value.
type optString struct {
	value string
	set   bool
}

func (o *optString) String() string     { return "" }
func (o *optString) Set(v string) error { o.value, o.set = v, true; return nil }

// optBool is a boolean flag that records whether it was given.
type optBool struct {
	value bool
	set   bool
}

func (o *optBool) String() string   { return strconv.FormatBool(o.value) }
func (o *optBool) IsBoolFlag() bool { return true }
func (o *optBool) Set(v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	o.value, o.set = b, true
	return nil
}

// keyFlags are the three mutually exclusive ways to give a provider key.
type keyFlags struct {
	value optString
	env   optString
	file  optString
}

func (k *keyFlags) register(fs *flag.FlagSet) {
	fs.Var(&k.value, "api-key", "provider API `KEY`; pass - to read it from stdin (recommended: keeps it out of shell history and ps)")
	fs.Var(&k.env, "api-key-env", "name (`VAR`) of the credential service's environment variable holding the key")
	fs.Var(&k.file, "api-key-file", "`PATH` of a file the credential service reads the key from (e.g. a mounted Kubernetes Secret); re-read on change")
}

// given reports whether any key flag was used.
func (k *keyFlags) given() bool { return k.value.set || k.env.set || k.file.set }

// source returns the credential source the flags describe, or nil when none
// was given. The key itself never appears in an error.
func (k *keyFlags) source(stdin io.Reader, prompt io.Writer) (*pb.CredentialSource, error) {
	n := 0
	for _, set := range []bool{k.value.set, k.env.set, k.file.set} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return nil, nil
	case n > 1:
		return nil, usageErrorf("give the API key one way only: --api-key, --api-key-env or --api-key-file")
	case k.env.set:
		return nonEmpty("--api-key-env", k.env.value, &pb.CredentialSource{Source: &pb.CredentialSource_Env{Env: k.env.value}})
	case k.file.set:
		return nonEmpty("--api-key-file", k.file.value, &pb.CredentialSource{Source: &pb.CredentialSource_File{File: k.file.value}})
	}
	value := k.value.value
	if value == "-" {
		var err error
		if value, err = readKey(stdin, prompt); err != nil {
			return nil, err
		}
	}
	return nonEmpty("--api-key", value, &pb.CredentialSource{Source: &pb.CredentialSource_Value{Value: value}})
}

func nonEmpty(flagName, value string, src *pb.CredentialSource) (*pb.CredentialSource, error) {
	if value == "" {
		return nil, usageErrorf("%s is empty", flagName)
	}
	return src, nil
}

// readKey reads a key from stdin: the first line, without surrounding
// whitespace, so `echo $KEY | syctl ...` and a pasted key both work.
func readKey(stdin io.Reader, prompt io.Writer) (string, error) {
	if stdin == nil {
		return "", usageErrorf("--api-key - reads the key from stdin, but there is no stdin")
	}
	if isTerminal(stdin) {
		fmt.Fprint(prompt, "API key (end with Enter, then Ctrl-D): ")
	}
	data, err := io.ReadAll(io.LimitReader(stdin, maxKeyBytes+1))
	if err != nil {
		return "", fmt.Errorf("read the API key from stdin: %w", err)
	}
	if len(data) > maxKeyBytes {
		return "", usageErrorf("stdin holds more than %d bytes; --api-key - expects just the key", maxKeyBytes)
	}
	line, _, _ := bytes.Cut(bytes.TrimSpace(data), []byte("\n"))
	key := string(bytes.TrimSpace(line))
	if key == "" {
		return "", usageErrorf("--api-key - found no key on stdin")
	}
	return key, nil
}

// isTerminal reports whether r is an interactive terminal, where a prompt
// helps; pipes and files get none.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
