package metering

import (
	"errors"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/switchyard/switchyard/pkg/contract"
)

var errBadBatch = errors.New("usage batch: bad length prefix")

// usagePayloads returns the encoded UsageEvents a message carries: the
// message itself, or, with contract.UsageBatchHeader, each length-delimited
// event of the batch. All of a batch's events share the message's stream
// sequence; their request ids are still claimed one by one in the ledger.
// A torn batch yields the events before the damage and an error.
func usagePayloads(m jetstream.Msg) ([][]byte, error) {
	data := m.Data()
	if m.Headers().Get(contract.UsageBatchHeader) != contract.UsageBatchFormat {
		return [][]byte{data}, nil
	}
	var out [][]byte
	for len(data) > 0 {
		ev, n := protowire.ConsumeBytes(data)
		if n < 0 {
			return out, errBadBatch
		}
		out = append(out, ev)
		data = data[n:]
	}
	return out, nil
}
