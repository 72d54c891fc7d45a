package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard/switchyard/pkg/contract"
)

// ErrTopologyMissing is wrapped by TopologyExists when a declared stream,
// bucket or consumer does not exist yet.
var ErrTopologyMissing = errors.New("not created yet")

// TopologyExists reports whether every stream, KV bucket and durable
// consumer that contract.Declare lists exists. It only lists names
// ($JS.API.STREAM.NAMES and $JS.API.CONSUMER.NAMES.<stream>), so a service
// user needs no create rights and no info rights on other services' data.
func TopologyExists(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, o contract.Options) error {
	have, err := streamNames(ctx, js)
	if err != nil {
		return err
	}
	t := contract.Declare(o)
	var missing []string
	for _, sc := range t.Streams {
		if !slices.Contains(have, sc.Name) {
			missing = append(missing, "stream "+sc.Name)
		}
	}
	for _, kc := range t.Buckets {
		if !slices.Contains(have, "KV_"+kc.Bucket) {
			missing = append(missing, "bucket "+kc.Bucket)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: %w", strings.Join(missing, ", "), ErrTopologyMissing)
	}
	return consumersExist(ctx, nc, t.Consumers)
}

func streamNames(ctx context.Context, js jetstream.JetStream) ([]string, error) {
	lister := js.StreamNames(ctx)
	var names []string
	for name := range lister.Name() {
		names = append(names, name)
	}
	if err := lister.Err(); err != nil {
		return nil, fmt.Errorf("list JetStream streams: %w", err)
	}
	return names, nil
}

// consumersExist asks $JS.API.CONSUMER.NAMES.<stream> directly: the
// jetstream package's listing needs STREAM.INFO first.
func consumersExist(ctx context.Context, nc *nats.Conn, want []contract.StreamConsumer) error {
	for _, c := range want {
		msg, err := nc.RequestWithContext(ctx, "$JS.API.CONSUMER.NAMES."+c.Stream, []byte("{}"))
		if err != nil {
			return fmt.Errorf("list consumers of %s: %w", c.Stream, err)
		}
		var resp struct {
			Consumers []string `json:"consumers"`
			Error     *struct {
				Description string `json:"description"`
			} `json:"error"`
		}
		if err := json.Unmarshal(msg.Data, &resp); err != nil {
			return fmt.Errorf("list consumers of %s: %w", c.Stream, err)
		}
		if resp.Error != nil {
			return fmt.Errorf("list consumers of %s: %s", c.Stream, resp.Error.Description)
		}
		if !slices.Contains(resp.Consumers, c.Config.Durable) {
			return fmt.Errorf("consumer %s on %s: %w", c.Config.Durable, c.Stream, ErrTopologyMissing)
		}
	}
	return nil
}
