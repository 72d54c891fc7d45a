package natsperm

import (
	"errors"
	"slices"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/switchyard/switchyard/pkg/contract"
)

// deniedToEveryService are publishes no service user may make: stream and
// account administration (GHSA-fhg8-qxh5-7q3w), admin requests, system
// subjects.
var deniedToEveryService = []string{
	"$JS.API.STREAM.DELETE." + contract.StreamUsage,
	"$JS.API.STREAM.DELETE.KV_" + contract.BucketCredentials,
	"$JS.API.STREAM.PURGE." + contract.StreamUsage,
	"$JS.API.ACCOUNT.PURGE.SWITCHYARD",
	"$JS.API.STREAM.CREATE." + contract.StreamUsage,
	"$JS.API.STREAM.UPDATE." + contract.StreamUsage,
	"$JS.API.STREAM.CREATE.KV_" + contract.BucketKeys,
	"$JS.API.CONSUMER.DELETE." + contract.StreamUsage + "." + contract.ConsumerMetering,
	"$JS.API.CONSUMER.CREATE." + contract.StreamUsage + ".other",
	"$JS.API.STREAM.MSG.DELETE." + contract.StreamUsage,
	"$JS.API.STREAM.SNAPSHOT." + contract.StreamUsage,
	"$JS.API.SERVER.REMOVE",
	"$SYS.REQ.SERVER.PING",
	contract.SubjServicesRegister,
	contract.SubjKeysCreate,
	contract.SubjCredentialsRotate,
}

// mayResolve are the users allowed to ask for a decrypted provider key.
var mayResolve = []string{"router", "healthcheck"}

func TestServiceUsersAreRefusedOutsideTheirAllowlists(t *testing.T) {
	ns := startServer(t)
	for _, user := range serviceUsers {
		t.Run(user, func(t *testing.T) {
			c := connectAs(t, ns, user, user)
			denied := append(slices.Clone(deniedToEveryService), foreignBucketWrites(user)...)
			if !slices.Contains(mayResolve, user) {
				denied = append(denied, contract.SubjCredentialResolve)
			}
			for _, subject := range denied {
				if !c.publishRefused(t, subject) {
					t.Errorf("%s may publish %s", user, subject)
				}
			}
			for _, subject := range deniedSubscriptions(user) {
				if !c.subscribeRefused(t, subject) {
					t.Errorf("%s may subscribe to %s", user, subject)
				}
			}
		})
	}
}

// foreignBucketWrites are writes to every bucket the user's service does
// not own (its grant's writes), $KV.sy_credentials.> included.
func foreignBucketWrites(user string) []string {
	var out []string
	for _, kc := range contract.Declare(contract.DefaultOptions()).Buckets {
		if !slices.Contains(grantOf(user).writes, kc.Bucket) {
			out = append(out, "$KV."+kc.Bucket+".forged")
		}
	}
	return out
}

func grantOf(user string) grant {
	for _, g := range grants {
		if g.user == user {
			return g
		}
	}
	return grant{}
}

// deniedSubscriptions: other services' replies (the router's carry keys),
// the shared inbox, every subject, and the credential RPCs for all but
// the credential service.
func deniedSubscriptions(user string) []string {
	out := []string{">", "_INBOX.>", "_INBOX_switchyard-init.>", "$JS.API.>", "sy.admin.v1.>"}
	for _, other := range serviceUsers {
		if other != user {
			out = append(out, "_INBOX_"+other+".>", "_INBOX_"+other+".abc.def")
		}
	}
	if user != "credential" {
		out = append(out, contract.SubjCredentialResolve, contract.SubjCredentialPut, "sy.rpc.v1.>")
	}
	return out
}

func TestAnonymousAndWrongPasswordConnectsAreRefused(t *testing.T) {
	ns := startServer(t)
	tests := []struct {
		name string
		opts []nats.Option
	}{
		{"anonymous", nil},
		{"wrong password", []nats.Option{nats.UserInfo("router", "guess")}},
		{"unknown user", []nats.Option{nats.UserInfo("root", "root")}},
	}
	for _, tt := range tests {
		nc, err := nats.Connect(ns.ClientURL(), append(tt.opts, nats.NoReconnect())...)
		if err == nil {
			nc.Close()
			t.Errorf("%s: connected", tt.name)
			continue
		}
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("%s: err = %v, want an authorization error", tt.name, err)
		}
	}
}
