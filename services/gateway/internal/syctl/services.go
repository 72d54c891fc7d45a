package syctl

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

func servicesCommand() *command {
	return &command{name: "services", summary: "register, inspect, edit and deregister external inference services", subs: []*command{
		{name: "register", summary: "register an external inference service (probes it first)", usage: "NAME --model M --base-url URL --protocol P [--api-key - | --api-key-env VAR | --api-key-file PATH] [flags]", help: registerHelp, run: runRegister},
		{name: "list", summary: "list services with their status", usage: "[--function F] [--tag T] [--status S]", run: runList},
		{name: "get", summary: "show one service and its status", usage: "NAME", run: runGet},
		{name: "update", summary: "change a service's functions, tags or API key", usage: "NAME [--function F ...] [--tag T ...] [--api-key - | --api-key-env VAR | --api-key-file PATH]", help: updateHelp, run: runUpdate},
		{name: "deregister", summary: "remove a service, its key and its tags", usage: "NAME", run: runDeregister},
	}}
}

const registerHelp = `
The registry probes the upstream with the key before it stores anything; a
failed probe refuses the registration with the reason and leaves nothing behind.

Prefer --api-key - and pipe or paste the key on stdin, so it stays out of your
shell history and the process list:

  syctl services register gpt4o --model gpt-4o --base-url https://api.openai.com \
      --protocol OPENAI_V1 --function chat --api-key - < openai.key

Protocols: OPENAI_V1 (OpenAI, NIM, vLLM, OpenRouter, any OpenAI-compatible),
ANTHROPIC_V1, GEMINI_V1_BETA, AZURE_OPENAI (with --azure-deployment and
--azure-api-version). The base URL is scheme, host and optional path prefix,
without /v1.`

const updateHelp = `
Only functions, tags and the API key can change. A flag replaces the whole list:
--tag a --tag b sets the tags to [a b]; --tag "" clears them. A new key is
probed before it replaces the old one.

--model, --base-url, --protocol and --allow-insecure-tls are create-only; they
are accepted only so the registry can refuse them by name. To change one,
deregister the service and register it again.`

// registerFlags are the fields of a registration.
type registerFlags struct {
	model, baseURL, protocol, namespace string
	azureDeployment, azureAPIVersion    string
	allowInsecureTLS                    bool
	functions, tags                     listFlag
	allowGroups, allowDomains           listFlag
	rpm, tpm                            int64
	key                                 keyFlags
}

func (f *registerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.model, "model", "", "the provider's exact model id, case-sensitive (required)")
	fs.StringVar(&f.baseURL, "base-url", "", "upstream base URL without /v1, e.g. https://api.openai.com (required)")
	fs.StringVar(&f.protocol, "protocol", "", "OPENAI_V1, ANTHROPIC_V1, GEMINI_V1_BETA or AZURE_OPENAI (required)")
	fs.StringVar(&f.namespace, "namespace", "", "optional namespace for the /{namespace}/{service}/v1 path form")
	fs.StringVar(&f.azureDeployment, "azure-deployment", "", "Azure OpenAI deployment name (AZURE_OPENAI only)")
	fs.StringVar(&f.azureAPIVersion, "azure-api-version", "", "Azure OpenAI api-version (AZURE_OPENAI only)")
	fs.BoolVar(&f.allowInsecureTLS, "allow-insecure-tls", false, "skip TLS verification for this service only; cannot be changed later")
	fs.Var(&f.functions, "function", "capability tag (`FUNCTION`) such as chat or embeddings; repeat for more")
	fs.Var(&f.tags, "tag", "free-form `TAG`; repeat for more")
	fs.Var(&f.allowGroups, "allow-group", "only consumer keys in `GROUP` may use the service; repeat for more (default: any)")
	fs.Var(&f.allowDomains, "allow-domain", "only consumer keys whose owner's email is at `DOMAIN` may use the service; repeat for more (default: any)")
	fs.Int64Var(&f.rpm, "rpm", 0, "requests per minute to this service across all consumers (0: unlimited)")
	fs.Int64Var(&f.tpm, "tpm", 0, "tokens per minute to this service across all consumers (0: unlimited)")
	f.key.register(fs)
}

// missing names the required flags that were not given.
func (f *registerFlags) missing() []string {
	var out []string
	for _, r := range []struct{ flag, value string }{
		{"--model", f.model}, {"--base-url", f.baseURL}, {"--protocol", f.protocol},
	} {
		if r.value == "" {
			out = append(out, r.flag)
		}
	}
	return out
}

func runRegister(ctx context.Context, c *cli, args []string) error {
	req, err := c.parseRegister(args)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "probing upstream %s for model %s… (up to 10 s)\n",
		redactURL(req.GetService().GetBaseUrl()), req.GetService().GetModel())
	var rep pb.RegisterServiceResponse
	if err := c.call(ctx, contract.SubjServicesRegister, req, &rep); err != nil {
		return err
	}
	return c.printView(&rep, rep.GetService(), "registered")
}

// parseRegister turns the command line into a registration; the registry
// validates the values, syctl only checks that the required ones are there.
func (c *cli) parseRegister(args []string) (*pb.RegisterServiceRequest, error) {
	var f registerFlags
	fs := c.newFlagSet()
	f.register(fs)
	pos, err := c.parseExact(fs, args, 1, "one NAME")
	if err != nil {
		return nil, err
	}
	if m := f.missing(); len(m) > 0 {
		return nil, usageErrorf("services register needs %s", strings.Join(m, ", "))
	}
	cred, err := f.key.source(c.stdin, c.stderr)
	if err != nil {
		return nil, err
	}
	return &pb.RegisterServiceRequest{Credential: cred, Service: &pb.Service{
		Name: pos[0], Model: f.model, BaseUrl: f.baseURL, Protocol: f.protocol, Namespace: f.namespace,
		Functions: f.functions.values, Tags: f.tags.values, AllowInsecureTls: f.allowInsecureTLS,
		AzureDeployment: f.azureDeployment, AzureApiVersion: f.azureAPIVersion,
		AllowedGroups: f.allowGroups.values, AllowedDomains: f.allowDomains.values, Limits: serviceLimits(f.rpm, f.tpm),
	}}, nil
}

func serviceLimits(rpm, tpm int64) *pb.Limits {
	if rpm == 0 && tpm == 0 {
		return nil
	}
	return &pb.Limits{Rpm: rpm, Tpm: tpm}
}

// updateFlags are the editable fields plus the create-only ones, which are
// sent on so the registry refuses them by name rather than syctl guessing
// its rules.
type updateFlags struct {
	functions, tags           listFlag
	allowGroups, allowDomains listFlag
	rpm, tpm                  optString
	key                       keyFlags
	model, baseURL, protocol  optString
	allowInsecureTLS          optBool
}

func (f *updateFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.functions, "function", "set the function tags to `FUNCTION` (repeat for more; \"\" clears them)")
	fs.Var(&f.tags, "tag", "set the tags to `TAG` (repeat for more; \"\" clears them)")
	fs.Var(&f.allowGroups, "allow-group", "set the groups allowed to use the service to `GROUP` (repeat; \"\" allows any)")
	fs.Var(&f.allowDomains, "allow-domain", "set the owner email domains allowed to `DOMAIN` (repeat; \"\" allows any)")
	fs.Var(&f.rpm, "rpm", "requests per minute to this service across all consumers (`N`, 0: unlimited); with --tpm replaces the limits")
	fs.Var(&f.tpm, "tpm", "tokens per minute to this service across all consumers (`N`, 0: unlimited)")
	f.key.register(fs)
	fs.Var(&f.model, "model", "create-only (`M`): sent so the registry refuses it by name")
	fs.Var(&f.baseURL, "base-url", "create-only (`URL`): sent so the registry refuses it by name")
	fs.Var(&f.protocol, "protocol", "create-only (`P`): sent so the registry refuses it by name")
	fs.Var(&f.allowInsecureTLS, "allow-insecure-tls", "create-only: sent so the registry refuses it by name")
}

// mask lists the fields the command line touched, in update_mask form.
func (f *updateFlags) mask() []string {
	var m []string
	for _, field := range []struct {
		name string
		set  bool
	}{
		{"functions", f.functions.set}, {"tags", f.tags.set}, {"credential", f.key.given()},
		{"allowed_groups", f.allowGroups.set}, {"allowed_domains", f.allowDomains.set}, {"limits", f.rpm.set || f.tpm.set},
		{"model", f.model.set}, {"base_url", f.baseURL.set}, {"protocol", f.protocol.set},
		{"allow_insecure_tls", f.allowInsecureTLS.set},
	} {
		if field.set {
			m = append(m, field.name)
		}
	}
	return m
}

func runUpdate(ctx context.Context, c *cli, args []string) error {
	req, err := c.parseUpdate(args)
	if err != nil {
		return err
	}
	if req.GetCredential() != nil {
		fmt.Fprintln(c.stderr, "probing upstream with the new key… (up to 10 s)")
	}
	var rep pb.UpdateServiceResponse
	if err := c.call(ctx, contract.SubjServicesUpdate, req, &rep); err != nil {
		return err
	}
	return c.printView(&rep, rep.GetService(), "updated")
}

// parseUpdate turns the command line into an update whose mask names
// exactly the fields given.
func (c *cli) parseUpdate(args []string) (*pb.UpdateServiceRequest, error) {
	var f updateFlags
	fs := c.newFlagSet()
	f.register(fs)
	pos, err := c.parseExact(fs, args, 1, "one NAME")
	if err != nil {
		return nil, err
	}
	mask := f.mask()
	if len(mask) == 0 {
		return nil, usageErrorf("nothing to update: pass --function, --tag, --allow-group, --allow-domain, --rpm/--tpm or one of --api-key, --api-key-env, --api-key-file")
	}
	cred, err := f.key.source(c.stdin, c.stderr)
	if err != nil {
		return nil, err
	}
	var limits *pb.Limits
	if f.rpm.set || f.tpm.set {
		rpm, err := keysParseCount("--rpm", f.rpm)
		if err != nil {
			return nil, err
		}
		tpm, err := keysParseCount("--tpm", f.tpm)
		if err != nil {
			return nil, err
		}
		limits = &pb.Limits{Rpm: rpm, Tpm: tpm}
	}
	return &pb.UpdateServiceRequest{
		Name: pos[0], Functions: f.functions.values, Tags: f.tags.values, Credential: cred, UpdateMask: mask,
		AllowedGroups: f.allowGroups.values, AllowedDomains: f.allowDomains.values, Limits: limits,
		Model: f.model.value, BaseUrl: f.baseURL.value, Protocol: f.protocol.value, AllowInsecureTls: f.allowInsecureTLS.value,
	}, nil
}

// listStates are the status filters `services list --status` accepts.
var listStates = []string{"Ready", "Failed", "Pending", "Unknown"}

func runList(ctx context.Context, c *cli, args []string) error {
	var function, tag, status string
	fs := c.newFlagSet()
	fs.StringVar(&function, "function", "", "only services with this function tag")
	fs.StringVar(&tag, "tag", "", "only services with this tag")
	fs.StringVar(&status, "status", "", "only services in this state: Ready, Failed, Pending or Unknown")
	if _, err := c.parseExact(fs, args, 0, "no arguments"); err != nil {
		return err
	}
	state, err := canonicalState(status)
	if err != nil {
		return err
	}
	var rep pb.ListServicesResponse
	if err := c.call(ctx, contract.SubjServicesList, &pb.ListServicesRequest{Function: function, Tag: tag, State: state}, &rep); err != nil {
		return err
	}
	if c.global.output == outputJSON {
		return printJSON(c.stdout, &rep)
	}
	if len(rep.GetServices()) == 0 {
		return noServices(c.stdout, function != "" || tag != "" || state != "")
	}
	return printServiceTable(c.stdout, rep.GetServices())
}

func canonicalState(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	for _, st := range listStates {
		if strings.EqualFold(s, st) {
			return st, nil
		}
	}
	return "", usageErrorf("unknown --status %q: use one of %s", s, strings.Join(listStates, ", "))
}

func noServices(w io.Writer, filtered bool) error {
	msg := "No services registered yet. Add one with `syctl services register -h`."
	if filtered {
		msg = "No services match these filters."
	}
	_, err := fmt.Fprintln(w, msg)
	return err
}

// messageWidth keeps the list one line per service on a wide terminal; the
// full message is in `services get`.
const messageWidth = 60

func printServiceTable(w io.Writer, views []*pb.ServiceView) error {
	t := newTable(w, "NAME", "MODEL", "PROTOCOL", "STATUS", "MESSAGE", "BASE URL")
	for _, v := range views {
		s, st := v.GetService(), v.GetStatus()
		t.row(s.GetName(), s.GetModel(), s.GetProtocol(), st.GetState(), truncate(st.GetMessage(), messageWidth), s.GetBaseUrl())
	}
	return t.flush()
}

func runGet(ctx context.Context, c *cli, args []string) error {
	pos, err := c.parseExact(c.newFlagSet(), args, 1, "one NAME")
	if err != nil {
		return err
	}
	var rep pb.GetServiceResponse
	if err := c.call(ctx, contract.SubjServicesGet, &pb.GetServiceRequest{Name: pos[0]}, &rep); err != nil {
		return err
	}
	return c.printView(&rep, rep.GetService(), "")
}

func runDeregister(ctx context.Context, c *cli, args []string) error {
	pos, err := c.parseExact(c.newFlagSet(), args, 1, "one NAME")
	if err != nil {
		return err
	}
	var rep pb.DeregisterServiceResponse
	if err := c.call(ctx, contract.SubjServicesDeregister, &pb.DeregisterServiceRequest{Name: pos[0]}, &rep); err != nil {
		return err
	}
	if c.global.output == outputJSON {
		return printJSON(c.stdout, &rep)
	}
	name := rep.GetName()
	if name == "" {
		name = pos[0]
	}
	_, err = fmt.Fprintf(c.stdout, "Deregistered service %q; its key and tags are gone.\n", name)
	return err
}

// printView prints a service reply: the reply as JSON, or a headline (when
// verb is set) and the service's fields.
func (c *cli) printView(reply proto.Message, v *pb.ServiceView, verb string) error {
	if c.global.output == outputJSON {
		return printJSON(c.stdout, reply)
	}
	if verb != "" {
		fmt.Fprintf(c.stdout, "Service %q %s; status %s.\n\n", v.GetService().GetName(), verb, v.GetStatus().GetState())
	}
	return printFields(c.stdout, viewFields(v))
}

func limitsText(l *pb.Limits) string {
	if l.GetRpm() == 0 && l.GetTpm() == 0 {
		return ""
	}
	return strconv.FormatInt(l.GetRpm(), 10) + " rpm, " + strconv.FormatInt(l.GetTpm(), 10) + " tpm (0: unlimited)"
}

// viewFields are the lines `services get` shows. There is no key among
// them: the registry never returns one.
func viewFields(v *pb.ServiceView) [][2]string {
	s, st := v.GetService(), v.GetStatus()
	fields := [][2]string{
		{"Name", s.GetName()}, {"Namespace", s.GetNamespace()}, {"Model", s.GetModel()},
		{"Base URL", s.GetBaseUrl()}, {"Protocol", s.GetProtocol()},
		{"Azure deployment", s.GetAzureDeployment()}, {"Azure API version", s.GetAzureApiVersion()},
		{"Functions", strings.Join(s.GetFunctions(), ", ")}, {"Tags", strings.Join(s.GetTags(), ", ")},
		{"Insecure TLS", yesNo(s.GetAllowInsecureTls())},
		{"Allowed groups", strings.Join(s.GetAllowedGroups(), ", ")},
		{"Allowed domains", strings.Join(s.GetAllowedDomains(), ", ")},
		{"Limits", limitsText(s.GetLimits())},
		{"Created", formatTime(s.GetCreatedAt())}, {"Updated", formatTime(s.GetUpdatedAt())},
	}
	if st == nil {
		return fields
	}
	httpStatus := ""
	if st.GetHttpStatus() != 0 {
		httpStatus = strconv.Itoa(int(st.GetHttpStatus()))
	}
	return append(fields, [][2]string{
		{"Status", st.GetState()}, {"Message", st.GetMessage()}, {"HTTP status", httpStatus},
		{"Key verified", yesNo(st.GetKeyVerified())}, {"Note", st.GetNote()},
		{"Checked", formatTime(st.GetCheckedAt())}, {"Since", formatTime(st.GetTransitionedAt())},
	}...)
}
