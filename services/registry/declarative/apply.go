package declarative

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Result is what Apply did: the actions that succeeded and the errors of
// those that did not (each names its action).
type Result struct {
	Applied []Action
	Errors  []error
}

// Err joins every failure, or nil.
func (r *Result) Err() error { return errors.Join(r.Errors...) }

// Apply runs the plan's actions in order through the API. A failed action
// (a refused probe, a validation message) does not stop the others, except
// that a removal is skipped once anything before it failed, so a service
// is never deregistered while the alias meant to replace it is missing.
func (p *Planner) Apply(ctx context.Context, plan *Plan) *Result {
	res := &Result{}
	for _, r := range plan.Refused {
		res.Errors = append(res.Errors, errors.New(r))
	}
	for _, a := range plan.Actions {
		if a.Verb == VerbDeregister && len(res.Errors) > 0 {
			res.Errors = append(res.Errors, fmt.Errorf("deregister %s: skipped because an earlier change failed", a.Name))
			continue
		}
		if err := p.run(ctx, a); err != nil {
			res.Errors = append(res.Errors, fmt.Errorf("%s %s: %w", a.Verb, a.Name, err))
			continue
		}
		res.Applied = append(res.Applied, a)
	}
	return res
}

func (p *Planner) run(ctx context.Context, a Action) error {
	switch a.Verb {
	case VerbRegister:
		err := p.API.Register(ctx, a.register)
		p.rememberInline(a.Name, a.register.GetCredential().GetValue(), err)
		return err
	case VerbUpdate:
		err := p.API.Update(ctx, a.update)
		p.rememberInline(a.Name, a.update.GetCredential().GetValue(), err)
		return err
	case VerbPutAlias:
		return p.API.PutAlias(ctx, a.alias)
	case VerbDeleteAlias:
		return p.API.DeleteAlias(ctx, a.Name)
	case VerbDeregister:
		return p.API.Deregister(ctx, a.Name)
	}
	return fmt.Errorf("unknown action %q", a.Verb)
}

func (p *Planner) rememberInline(service, value string, err error) {
	if err == nil && value != "" {
		p.remember(service, sha256.Sum256([]byte(value)))
	}
}
