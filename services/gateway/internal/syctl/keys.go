package syctl

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

func keysCommand() *command {
	return &command{name: "keys", summary: "create, list, revoke and update consumer keys (what applications send to the edge)", subs: []*command{
		{name: "create", summary: "create a consumer key (shown once)", usage: "--owner EMAIL [--group G ...] [--model M ...] [--service S ...] [--expires T] [--rpm N] [--tpm N] [--model-limit M=RPM/TPM ...]", help: keysCreateHelp, run: runKeysCreate},
		{name: "list", summary: "list consumer keys (never the keys themselves)", usage: "[--owner EMAIL]", run: runKeysList},
		{name: "revoke", summary: "revoke a consumer key; every router refuses it within a second", usage: "ID", run: runKeysRevoke},
		{name: "update", summary: "change a key's groups, models, services, expiry or limits", usage: "ID [--group G ...] [--model M ...] [--service S ...] [--expires T|never] [--rpm N] [--tpm N] [--model-limit M=RPM/TPM ...]", help: keysUpdateHelp, run: runKeysUpdate},
	}}
}

const keysCreateHelp = `
The key is printed once and cannot be shown again: Switchyard stores only its
SHA-256. Applications send it as "Authorization: Bearer sy-…".

--model and --service restrict the key to those edge models (model ids or
aliases) and services; without them the key may use every one. Services may
further restrict callers by group and by the owner's email domain.
--expires takes an RFC 3339 time (2030-01-31T00:00:00Z) or a duration from now
(720h, 30d). Limits are per minute; 0 or absent means unlimited.

  syctl keys create --owner ana@lab.example --group research --model gpt-4o --rpm 60`

const keysUpdateHelp = `
A flag replaces the whole field: --model a --model b sets the models to [a b];
--model "" allows every model again; --expires never removes the expiry;
--rpm and --tpm together replace the key's limits: one given alone makes the
other unlimited. The owner cannot change: create a new key.`

// keysAllowanceFlags are the editable parts of a key.
type keysAllowanceFlags struct {
	groups, models, services listFlag
	expires                  optString
	rpm, tpm                 optString
	modelLimits              keysModelLimitsFlag
}

func (f *keysAllowanceFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.groups, "group", "`GROUP` the key belongs to; repeat for more")
	fs.Var(&f.models, "model", "edge `MODEL` (id or alias) the key may use; repeat for more (none: every model)")
	fs.Var(&f.services, "service", "`SERVICE` the key may use; repeat for more (none: every service)")
	fs.Var(&f.expires, "expires", "expiry: RFC 3339 `TIME` or a duration from now such as 720h or 30d")
	fs.Var(&f.rpm, "rpm", "requests per minute for the key (`N`, 0: unlimited)")
	fs.Var(&f.tpm, "tpm", "tokens per minute for the key (`N`, 0: unlimited)")
	fs.Var(&f.modelLimits, "model-limit", "per-model limit `MODEL=RPM/TPM` (0: unlimited); repeat for more")
}

// limits returns the key's own limits when --rpm or --tpm was given.
func (f *keysAllowanceFlags) limits() (*pb.Limits, error) {
	if !f.rpm.set && !f.tpm.set {
		return nil, nil
	}
	rpm, err := keysParseCount("--rpm", f.rpm)
	if err != nil {
		return nil, err
	}
	tpm, err := keysParseCount("--tpm", f.tpm)
	return &pb.Limits{Rpm: rpm, Tpm: tpm}, err
}

func keysParseCount(name string, o optString) (int64, error) {
	if !o.set {
		return 0, nil
	}
	n, err := strconv.ParseInt(o.value, 10, 64)
	if err != nil || n < 0 {
		return 0, usageErrorf("%s takes a whole number of at least 0, got %q", name, o.value)
	}
	return n, nil
}

// expiry parses --expires; never reports "never".
func (f *keysAllowanceFlags) expiry(now time.Time) (ts *timestamppb.Timestamp, never bool, err error) {
	v := strings.TrimSpace(f.expires.value)
	switch {
	case !f.expires.set:
		return nil, false, nil
	case v == "never":
		return nil, true, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return timestamppb.New(t), false, nil
	}
	d, err := time.ParseDuration(v)
	if days, ok := strings.CutSuffix(v, "d"); ok && err != nil {
		var n int
		if n, err = strconv.Atoi(days); err == nil {
			d = time.Duration(n) * 24 * time.Hour
		}
	}
	if err != nil || d <= 0 {
		return nil, false, usageErrorf("--expires takes an RFC 3339 time (2030-01-31T00:00:00Z), a duration such as 720h or 30d, or never; got %q", v)
	}
	return timestamppb.New(now.Add(d)), false, nil
}

// keysModelLimitsFlag is the repeatable --model-limit MODEL=RPM/TPM.
type keysModelLimitsFlag struct {
	limits map[string]*pb.Limits
	set    bool
}

func (m *keysModelLimitsFlag) String() string { return "" }

func (m *keysModelLimitsFlag) Set(v string) error {
	m.set = true
	if v == "" {
		return nil // --model-limit "" clears them
	}
	eq := strings.LastIndexByte(v, '=')
	rpm, tpm, ok := strings.Cut(v[eq+1:], "/")
	r, errR := strconv.ParseInt(rpm, 10, 64)
	t, errT := strconv.ParseInt(tpm, 10, 64)
	if eq <= 0 || !ok || errR != nil || errT != nil || r < 0 || t < 0 {
		return fmt.Errorf("want MODEL=RPM/TPM such as gpt-4o=60/100000, got %q", v)
	}
	if m.limits == nil {
		m.limits = map[string]*pb.Limits{}
	}
	m.limits[v[:eq]] = &pb.Limits{Rpm: r, Tpm: t}
	return nil
}

func runKeysCreate(ctx context.Context, c *cli, args []string) error {
	var f keysAllowanceFlags
	var owner string
	fs := c.newFlagSet()
	fs.StringVar(&owner, "owner", "", "who is responsible for the key, as an `EMAIL` address (required)")
	f.register(fs)
	if _, err := c.parseExact(fs, args, 0, "no arguments"); err != nil {
		return err
	}
	if owner == "" {
		return usageErrorf("keys create needs --owner (an email address)")
	}
	limits, err := f.limits()
	if err != nil {
		return err
	}
	expires, never, err := f.expiry(c.now())
	if err != nil || never {
		return keysOr(err, usageErrorf("--expires never is for keys update; leave it out to create a key that does not expire"))
	}
	req := &pb.CreateKeyRequest{Owner: owner, Groups: f.groups.values, AllowedModels: f.models.values,
		AllowedServices: f.services.values, ExpiresAt: expires, Limits: limits, ModelLimits: f.modelLimits.limits}
	var rep pb.CreateKeyResponse
	if err := c.call(ctx, contract.SubjKeysCreate, req, &rep); err != nil {
		return err
	}
	fmt.Fprintln(c.stderr, "warning: this is the only time the key is shown; store it now (Switchyard keeps only its hash)")
	if c.global.output == outputJSON {
		return printJSON(c.stdout, &rep)
	}
	if err := keysPrintRecord(c, rep.GetRecord()); err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "Key:       %s\n", rep.GetKey())
	return err
}

func keysOr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

func runKeysList(ctx context.Context, c *cli, args []string) error {
	var owner string
	fs := c.newFlagSet()
	fs.StringVar(&owner, "owner", "", "only the keys of this `EMAIL`")
	if _, err := c.parseExact(fs, args, 0, "no arguments"); err != nil {
		return err
	}
	var rep pb.ListKeysResponse
	if err := c.call(ctx, contract.SubjKeysList, &pb.ListKeysRequest{Owner: owner}, &rep); err != nil {
		return err
	}
	if c.global.output == outputJSON {
		return printJSON(c.stdout, &rep)
	}
	if len(rep.GetKeys()) == 0 {
		_, err := fmt.Fprintln(c.stdout, "no consumer keys; create one with `syctl keys create --owner EMAIL`")
		return err
	}
	t := newTable(c.stdout, "ID", "PREFIX", "OWNER", "STATE", "GROUPS", "MODELS", "SERVICES", "LIMITS", "EXPIRES", "CREATED")
	for _, k := range rep.GetKeys() {
		t.row(k.GetId(), k.GetPrefix()+"…", k.GetOwner(), keysState(k, c.now()), keysJoin(k.GetGroups()),
			keysJoin(k.GetAllowedModels()), keysJoin(k.GetAllowedServices()), keysLimitsText(k),
			formatTime(k.GetExpiresAt()), formatTime(k.GetCreatedAt()))
	}
	return t.flush()
}

func runKeysRevoke(ctx context.Context, c *cli, args []string) error {
	pos, err := c.parseExact(c.newFlagSet(), args, 1, "one key ID (see `syctl keys list`)")
	if err != nil {
		return err
	}
	var rep pb.RevokeKeyResponse
	if err := c.call(ctx, contract.SubjKeysRevoke, &pb.RevokeKeyRequest{Id: pos[0]}, &rep); err != nil {
		return err
	}
	if c.global.output == outputJSON {
		return printJSON(c.stdout, &rep)
	}
	_, err = fmt.Fprintf(c.stdout, "revoked %s (%s…, owner %s)\n", rep.GetRecord().GetId(), rep.GetRecord().GetPrefix(), rep.GetRecord().GetOwner())
	return err
}

func runKeysUpdate(ctx context.Context, c *cli, args []string) error {
	var f keysAllowanceFlags
	fs := c.newFlagSet()
	f.register(fs)
	pos, err := c.parseExact(fs, args, 1, "one key ID (see `syctl keys list`)")
	if err != nil {
		return err
	}
	req, err := f.updateRequest(pos[0], c.now())
	if err != nil {
		return err
	}
	var rep pb.UpdateKeyResponse
	if err := c.call(ctx, contract.SubjKeysUpdate, req, &rep); err != nil {
		return err
	}
	if c.global.output == outputJSON {
		return printJSON(c.stdout, &rep)
	}
	return keysPrintRecord(c, rep.GetRecord())
}

// updateRequest sends the fields whose flags were given, named in the
// update mask so an empty value clears the field.
func (f *keysAllowanceFlags) updateRequest(id string, now time.Time) (*pb.UpdateKeyRequest, error) {
	req := &pb.UpdateKeyRequest{Id: id, Groups: f.groups.values, AllowedModels: f.models.values,
		AllowedServices: f.services.values, ModelLimits: f.modelLimits.limits}
	var err error
	if req.ExpiresAt, _, err = f.expiry(now); err != nil {
		return nil, err
	}
	if req.Limits, err = f.limits(); err != nil {
		return nil, err
	}
	for _, m := range []struct {
		set   bool
		field string
	}{
		{f.groups.set, "groups"}, {f.models.set, "allowed_models"}, {f.services.set, "allowed_services"},
		{f.expires.set, "expires_at"}, {f.rpm.set || f.tpm.set, "limits"}, {f.modelLimits.set, "model_limits"},
	} {
		if m.set {
			req.UpdateMask = append(req.UpdateMask, m.field)
		}
	}
	if len(req.UpdateMask) == 0 {
		return nil, usageErrorf("keys update needs at least one of --group, --model, --service, --expires, --rpm, --tpm, --model-limit")
	}
	return req, nil
}

func keysPrintRecord(c *cli, k *pb.ConsumerKey) error {
	return printFields(c.stdout, [][2]string{
		{"ID", k.GetId()}, {"Prefix", k.GetPrefix() + "…"}, {"Owner", k.GetOwner()}, {"State", keysState(k, c.now())},
		{"Groups", keysJoin(k.GetGroups())}, {"Models", keysOrAny(k.GetAllowedModels())},
		{"Services", keysOrAny(k.GetAllowedServices())}, {"Limits", keysLimitsText(k)},
		{"Expires", keysOrNever(formatTime(k.GetExpiresAt()))}, {"Created", formatTime(k.GetCreatedAt())},
	})
}

func keysState(k *pb.ConsumerKey, now time.Time) string {
	switch {
	case k.GetRevoked():
		return "revoked"
	case k.GetExpiresAt() != nil && !now.Before(k.GetExpiresAt().AsTime()):
		return "expired"
	}
	return "active"
}

// keysLimitsText shows the key's limits, then its per-model ones, e.g.
// "60 rpm, gpt-4o: 10 rpm 1000 tpm".
func keysLimitsText(k *pb.ConsumerKey) string {
	parts := []string{}
	if s := keysLimitText(k.GetLimits()); s != "" {
		parts = append(parts, s)
	}
	models := make([]string, 0, len(k.GetModelLimits()))
	for m := range k.GetModelLimits() {
		models = append(models, m)
	}
	sort.Strings(models)
	for _, m := range models {
		if s := keysLimitText(k.GetModelLimits()[m]); s != "" {
			parts = append(parts, m+": "+s)
		}
	}
	if len(parts) == 0 {
		return "unlimited"
	}
	return strings.Join(parts, ", ")
}

func keysLimitText(l *pb.Limits) string {
	var out []string
	if l.GetRpm() > 0 {
		out = append(out, fmt.Sprintf("%d rpm", l.GetRpm()))
	}
	if l.GetTpm() > 0 {
		out = append(out, fmt.Sprintf("%d tpm", l.GetTpm()))
	}
	return strings.Join(out, " ")
}

func keysJoin(v []string) string { return strings.Join(v, ",") }

func keysOrAny(v []string) string {
	if len(v) == 0 {
		return "any"
	}
	return keysJoin(v)
}

func keysOrNever(s string) string {
	if s == "" {
		return "never"
	}
	return s
}
