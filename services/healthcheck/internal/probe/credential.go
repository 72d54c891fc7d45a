package probe

import (
	"fmt"

	"github.com/switchyard/switchyard/pkg/provider"
)

// CredentialProblem says why a service's API key could not be obtained, so
// no probe could be sent.
type CredentialProblem int

// The ways resolving a credential fails.
const (
	// CredentialEnvUnset: the credential names an environment variable
	// that is unset or empty where the credential service runs.
	CredentialEnvUnset CredentialProblem = iota + 1
	// CredentialFileUnreadable: the credential names a file (a mounted
	// Kubernetes Secret) that is missing or unreadable.
	CredentialFileUnreadable
	// CredentialDecryptFailed: the stored ciphertext cannot be decrypted,
	// usually because the master key it was sealed with is not loaded.
	CredentialDecryptFailed
	// CredentialMissing: the service refers to a credential that does not
	// exist.
	CredentialMissing
)

// CredentialUnresolvable builds the Failed result for a service whose key
// could not be resolved. ref names what is missing and must not be secret:
// the environment variable name, the file path, the master key id, or the
// credential name.
func CredentialUnresolvable(problem CredentialProblem, ref string) Result {
	return Result{
		Status:  StatusFailed,
		Kind:    provider.KindCredentialUnresolvable,
		Message: provider.MsgCredential + ": " + credentialDetail(problem, provider.Sanitize(ref)),
	}
}

func credentialDetail(problem CredentialProblem, ref string) string {
	switch problem {
	case CredentialEnvUnset:
		return fmt.Sprintf("environment variable %q is not set or is empty where the credential service runs", ref)
	case CredentialFileUnreadable:
		return fmt.Sprintf("file %q is missing or unreadable — check the mounted secret", ref)
	case CredentialDecryptFailed:
		return fmt.Sprintf("the stored secret cannot be decrypted with master key %q — "+
			"check that the credential service has that key loaded", ref)
	case CredentialMissing:
		return fmt.Sprintf("credential %q does not exist — edit the service and set its API key", ref)
	}
	return fmt.Sprintf("the API key could not be obtained (%s)", ref)
}
