package syctl

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

func usageCommand() *command {
	return &command{
		name: "usage", summary: "show metered requests and tokens per window, consumer, model and service",
		usage: "[--model M] [--service S] [--consumer C] [--window minute|day] [--since 1h|7d|RFC3339] [--until ...]",
		help: `--since and --until take a duration back from now (90m, 1h, 7d), a date
(2025-01-31) or an RFC 3339 time (2025-01-31T12:00:00Z). Windows are in UTC.`,
		run: runUsage,
	}
}

// usageWindows are the rollup windows metering keeps.
var usageWindows = []string{"minute", "day"}

func runUsage(ctx context.Context, c *cli, args []string) error {
	req, err := c.parseUsage(args)
	if err != nil {
		return err
	}
	var rep pb.UsageQueryResponse
	if err := c.call(ctx, contract.SubjUsageQuery, req, &rep); err != nil {
		return err
	}
	if c.global.output == outputJSON {
		return printJSON(c.stdout, &rep)
	}
	if len(rep.GetRows()) == 0 {
		_, err := fmt.Fprintln(c.stdout, "No usage recorded for these filters.")
		return err
	}
	return printUsageTable(c, rep.GetRows())
}

// parseUsage turns the command line into a usage query.
func (c *cli) parseUsage(args []string) (*pb.UsageQueryRequest, error) {
	var since, until string
	req := &pb.UsageQueryRequest{}
	fs := c.newFlagSet()
	fs.StringVar(&req.Model, "model", "", "only this model (the provider's model id)")
	fs.StringVar(&req.Service, "service", "", "only this service")
	fs.StringVar(&req.Consumer, "consumer", "", "only this consumer")
	fs.StringVar(&req.Window, "window", "minute", "rollup window: minute or day")
	fs.StringVar(&since, "since", "", "only windows from this time: 1h, 7d, 2025-01-31 or RFC 3339")
	fs.StringVar(&until, "until", "", "only windows before this time (same forms as --since)")
	if _, err := c.parseExact(fs, args, 0, "no arguments"); err != nil {
		return nil, err
	}
	if !contains(usageWindows, req.Window) {
		return nil, usageErrorf("unknown --window %q: use minute or day", req.Window)
	}
	var err error
	if req.Since, err = parseTimeFlag("--since", since, c.now()); err != nil {
		return nil, err
	}
	if req.Until, err = parseTimeFlag("--until", until, c.now()); err != nil {
		return nil, err
	}
	return req, nil
}

// parseTimeFlag reads a point in time as a duration back from now (with a
// "d" suffix for days), a date or an RFC 3339 time; "" means unset.
func parseTimeFlag(name, v string, now time.Time) (*timestamppb.Timestamp, error) {
	if v == "" {
		return nil, nil
	}
	if d, err := parseLookback(v); err == nil {
		return timestamppb.New(now.Add(-d)), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return timestamppb.New(t), nil
		}
	}
	return nil, usageErrorf("%s %q is not a duration (1h, 7d), a date (2025-01-31) or an RFC 3339 time", name, v)
}

func parseLookback(v string) (time.Duration, error) {
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(v, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(v)
	}
	if err == nil && d < 0 {
		err = fmt.Errorf("negative duration")
	}
	return d, err
}

func printUsageTable(c *cli, rows []*pb.UsageRow) error {
	t := newTable(c.stdout, "WINDOW START", "CONSUMER", "MODEL", "SERVICE", "REQUESTS", "PROMPT", "COMPLETION", "TOTAL",
		"LIMITED", "COST USD")
	var sum pb.UsageRow
	for _, r := range rows {
		t.row(windowStart(r), r.GetConsumer(), r.GetModel(), r.GetService(), num(r.GetRequests()),
			num(r.GetPromptTokens()), num(r.GetCompletionTokens()), num(r.GetPromptTokens()+r.GetCompletionTokens()),
			num(r.GetRateLimited()), usd(r.GetCostUsd()))
		sum.Requests += r.GetRequests()
		sum.PromptTokens += r.GetPromptTokens()
		sum.CompletionTokens += r.GetCompletionTokens()
		sum.RateLimited += r.GetRateLimited()
		sum.CostUsd += r.GetCostUsd()
	}
	t.footer("TOTAL", "", "", "", num(sum.Requests), num(sum.PromptTokens), num(sum.CompletionTokens),
		num(sum.PromptTokens+sum.CompletionTokens), num(sum.RateLimited), usd(sum.CostUsd))
	return t.flush()
}

// usd shows spend to the cent, or finer below a cent so small test
// traffic does not read as free.
func usd(v float64) string {
	if v != 0 && v < 0.01 {
		return strconv.FormatFloat(v, 'f', 6, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// windowStart shows a day window as a date and a minute window to the
// minute, both in UTC.
func windowStart(r *pb.UsageRow) string {
	if r.GetStart() == nil {
		return ""
	}
	layout := "2006-01-02 15:04"
	if r.GetWindow() == "day" {
		layout = time.DateOnly
	}
	return r.GetStart().AsTime().UTC().Format(layout)
}

func num(n int64) string { return strconv.FormatInt(n, 10) }

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
