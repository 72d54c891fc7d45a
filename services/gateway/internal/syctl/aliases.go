package syctl

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/pkg/contract"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

func aliasesCommand() *command {
	return &command{name: "aliases", summary: "map edge model names to one or more services", subs: []*command{
		{name: "put", summary: "create or replace an alias (repoints a model with no failed request)", usage: "NAME --target SERVICE[=WEIGHT] ... [--model-from SOURCE]", help: aliasPutHelp, run: runAliasPut},
		{name: "get", summary: "show one alias", usage: "NAME", run: runAliasGet},
		{name: "list", summary: "list every alias", run: runAliasList},
		{name: "delete", summary: "remove an alias", usage: "NAME", run: runAliasDelete},
	}}
}

const aliasPutHelp = `
Applications call the alias NAME as their model; the router sends each request
to one of the targets, in proportion to the weights (default 1). Every target
must be a registered service. Replacing an alias is one atomic write, so
repointing a model to another service fails no request:

  syctl aliases put gpt-4o --target openai-gpt-4o=3 --target azure-gpt-4o=1

--model-from makes the alias a template: the upstream model id is taken from
"path", "header:<Header-Name>" or "query:<param>" instead of the target's model.`

func runAliasPut(ctx context.Context, c *cli, args []string) error {
	var targets listFlag
	var modelFrom string
	fs := c.newFlagSet()
	fs.Var(&targets, "target", "target `SERVICE[=WEIGHT]`; repeat for more")
	fs.StringVar(&modelFrom, "model-from", "", "templated routing: path, header:<name> or query:<name>")
	pos, err := c.parseExact(fs, args, 1, "one NAME")
	if err != nil {
		return err
	}
	alias := &pb.ModelAlias{Name: pos[0], ModelFrom: modelFrom}
	for _, t := range targets.values {
		target, err := parseTarget(t)
		if err != nil {
			return err
		}
		alias.Targets = append(alias.Targets, target)
	}
	var rep pb.PutAliasResponse
	if err := c.call(ctx, contract.SubjAliasesPut, &pb.PutAliasRequest{Alias: alias}, &rep); err != nil {
		return err
	}
	if c.global.output == outputJSON {
		return printJSON(c.stdout, &rep)
	}
	fmt.Fprintf(c.stdout, "Alias %q now routes to %s.\n", rep.GetAlias().GetName(), targetsText(rep.GetAlias()))
	return nil
}

// parseTarget reads SERVICE or SERVICE=WEIGHT.
func parseTarget(s string) (*pb.AliasTarget, error) {
	name, weight, found := strings.Cut(s, "=")
	t := &pb.AliasTarget{Service: name}
	if !found {
		return t, nil
	}
	w, err := strconv.ParseUint(weight, 10, 32)
	if err != nil {
		return nil, usageErrorf("--target %q: the weight after = must be a whole number ≥ 0", s)
	}
	t.Weight = uint32(w)
	return t, nil
}

func targetsText(a *pb.ModelAlias) string {
	parts := make([]string, len(a.GetTargets()))
	for i, t := range a.GetTargets() {
		parts[i] = fmt.Sprintf("%s (weight %d)", t.GetService(), max(t.GetWeight(), 1))
	}
	return strings.Join(parts, ", ")
}

func runAliasGet(ctx context.Context, c *cli, args []string) error {
	pos, err := c.parseExact(c.newFlagSet(), args, 1, "one NAME")
	if err != nil {
		return err
	}
	var rep pb.GetAliasResponse
	if err := c.call(ctx, contract.SubjAliasesGet, &pb.GetAliasRequest{Name: pos[0]}, &rep); err != nil {
		return err
	}
	if c.global.output == outputJSON {
		return printJSON(c.stdout, &rep)
	}
	a := rep.GetAlias()
	return printFields(c.stdout, [][2]string{
		{"Name", a.GetName()}, {"Targets", targetsText(a)}, {"Model from", a.GetModelFrom()},
		{"Updated", formatTime(a.GetUpdatedAt())},
	})
}

func runAliasList(ctx context.Context, c *cli, args []string) error {
	if _, err := c.parseExact(c.newFlagSet(), args, 0, "no arguments"); err != nil {
		return err
	}
	var rep pb.ListAliasesResponse
	if err := c.call(ctx, contract.SubjAliasesList, &pb.ListAliasesRequest{}, &rep); err != nil {
		return err
	}
	if c.global.output == outputJSON {
		return printJSON(c.stdout, &rep)
	}
	return printAliasTable(c.stdout, rep.GetAliases())
}

func printAliasTable(w io.Writer, aliases []*pb.ModelAlias) error {
	if len(aliases) == 0 {
		_, err := fmt.Fprintln(w, "No model aliases yet. Add one with `syctl aliases put -h`.")
		return err
	}
	t := newTable(w, "NAME", "TARGETS", "MODEL FROM", "UPDATED")
	for _, a := range aliases {
		t.row(a.GetName(), targetsText(a), a.GetModelFrom(), formatTime(a.GetUpdatedAt()))
	}
	return t.flush()
}

func runAliasDelete(ctx context.Context, c *cli, args []string) error {
	pos, err := c.parseExact(c.newFlagSet(), args, 1, "one NAME")
	if err != nil {
		return err
	}
	var rep pb.DeleteAliasResponse
	if err := c.call(ctx, contract.SubjAliasesDelete, &pb.DeleteAliasRequest{Name: pos[0]}, &rep); err != nil {
		return err
	}
	if c.global.output == outputJSON {
		return printJSON(c.stdout, &rep)
	}
	_, err = fmt.Fprintf(c.stdout, "Deleted alias %q.\n", pos[0])
	return err
}
