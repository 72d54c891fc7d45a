package syctl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// jsonOutput matches the wire form the admin subjects speak (field names as
// in the .proto), so `-o json` output can be fed back to `nats req`.
var jsonOutput = protojson.MarshalOptions{UseProtoNames: true}

// printJSON writes msg as indented protojson. protojson varies its
// whitespace on purpose; re-indenting makes the output stable for scripts
// and diffs.
func printJSON(w io.Writer, msg proto.Message) error {
	data, err := jsonOutput.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode reply as JSON: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, data, "", "  "); err != nil {
		return fmt.Errorf("indent reply JSON: %w", err)
	}
	out.WriteByte('\n')
	_, err = out.WriteTo(w)
	return err
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.row(header...)
	return t
}

// row writes one row, with "-" for an empty cell so columns stay
// readable; tabs and newlines inside a cell would break the columns, so
// they become spaces.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		if cells[i] = strings.Join(strings.Fields(c), " "); cells[i] == "" {
			cells[i] = "-"
		}
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// footer writes a row as given, for totals whose blank cells mean "all".
func (t *table) footer(cells ...string) {
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// fields writes "Label: value" lines, aligned, skipping empty values.
func printFields(w io.Writer, pairs [][2]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	for _, p := range pairs {
		if p[1] != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", p[0], p[1])
		}
	}
	return tw.Flush()
}

// truncate shortens s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// formatTime shows a timestamp in UTC, or "" when it is unset.
func formatTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
