package keys

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/pkg/apierr"
	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
)

// Bounds on what a key record may hold. They keep a record, and the
// snapshot built from it, small.
const (
	maxOwnerLen   = 254 // an email address's limit
	maxGroupLen   = 64
	maxGroups     = 64
	maxModelLen   = 256
	maxAllowances = 256
)

// Fields of CreateKeyRequest and UpdateKeyRequest, as error fields and
// update mask paths.
const (
	fieldOwner           = "owner"
	fieldGroups          = "groups"
	fieldAllowedModels   = "allowed_models"
	fieldAllowedServices = "allowed_services"
	fieldExpiresAt       = "expires_at"
	fieldLimits          = "limits"
	fieldModelLimits     = "model_limits"
)

var updatableFields = []string{fieldGroups, fieldAllowedModels, fieldAllowedServices, fieldExpiresAt, fieldLimits, fieldModelLimits}

// allowances are the editable parts of a key, validated together.
type allowances struct {
	groups, models, services []string
	expiresAt                *timestamppb.Timestamp
	limits                   *pb.Limits
	modelLimits              map[string]*pb.Limits
}

func validOwner(owner string) error {
	switch {
	case owner == "":
		return apierr.Field(fieldOwner, "owner is required: the person or team responsible for the key, "+
			"as an email address (services may restrict access by the owner's email domain)")
	case len(owner) > maxOwnerLen:
		return apierr.Field(fieldOwner, fmt.Sprintf("owner is longer than %d characters", maxOwnerLen))
	case strings.IndexFunc(owner, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return apierr.Field(fieldOwner, "owner must not contain spaces or control characters")
	case strings.Contains(owner, "@") && ownerDomain(owner) == "":
		return apierr.Field(fieldOwner, "owner looks like an email address without a domain after '@'")
	}
	return nil
}

// check validates the allowances; services must be registered.
func (a *allowances) check(ctx context.Context, now time.Time, exists func(context.Context, string) (bool, error)) error {
	if err := checkNames(fieldGroups, a.groups, maxGroups, maxGroupLen, groupChar); err != nil {
		return err
	}
	if err := checkNames(fieldAllowedModels, a.models, maxAllowances, maxModelLen, printable); err != nil {
		return err
	}
	if err := checkNames(fieldAllowedServices, a.services, maxAllowances, maxModelLen, printable); err != nil {
		return err
	}
	if a.expiresAt != nil && !a.expiresAt.AsTime().After(now) {
		return apierr.Field(fieldExpiresAt, "expiry must be in the future (RFC 3339, e.g. 2030-01-31T00:00:00Z)")
	}
	if err := checkLimits(fieldLimits, a.limits); err != nil {
		return err
	}
	for m, l := range a.modelLimits {
		if m == "" {
			return apierr.Field(fieldModelLimits, "a per-model limit needs a model name")
		}
		if err := checkLimits(fieldModelLimits, l); err != nil {
			return err
		}
	}
	return a.servicesExist(ctx, exists)
}

func (a *allowances) servicesExist(ctx context.Context, exists func(context.Context, string) (bool, error)) error {
	var missing []string
	for _, s := range a.services {
		ok, err := exists(ctx, s)
		if err != nil {
			return apierr.Newf(apierr.Unavailable, "cannot read the service registry: %v", err)
		}
		if !ok {
			missing = append(missing, fmt.Sprintf("%q", s))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return apierr.Field(fieldAllowedServices, "no registered service is named "+strings.Join(missing, ", ")+
		": see `syctl services list`")
}

func checkNames(field string, names []string, maxCount, maxLen int, ok func(rune) bool) error {
	if len(names) > maxCount {
		return apierr.Field(field, fmt.Sprintf("at most %d entries", maxCount))
	}
	for _, n := range names {
		switch {
		case n == "" || len(n) > maxLen:
			return apierr.Field(field, fmt.Sprintf("entries must be 1 to %d characters", maxLen))
		case strings.IndexFunc(n, func(r rune) bool { return !ok(r) }) >= 0:
			return apierr.Field(field, fmt.Sprintf("%q contains a character that is not allowed", n))
		}
	}
	if slices.Contains(names, "*") {
		return apierr.Field(field, `"*" is not a wildcard here: leave the list empty to allow everything`)
	}
	return nil
}

func groupChar(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_.:@/", r))
}

func printable(r rune) bool { return unicode.IsPrint(r) && !unicode.IsSpace(r) }

func checkLimits(field string, l *pb.Limits) error {
	if l.GetRpm() < 0 || l.GetTpm() < 0 {
		return apierr.Field(field, "limits are per minute and must not be negative (0 means unlimited)")
	}
	return nil
}

// updateMask returns the fields an update changes: its mask, or, when the
// mask is empty, the fields it sets (so `nats req` users need no mask to
// set a field, but do need one to clear it).
func updateMask(req *pb.UpdateKeyRequest) ([]string, error) {
	mask := req.GetUpdateMask()
	for _, f := range mask {
		if !slices.Contains(updatableFields, f) {
			return nil, apierr.Field("update_mask", fmt.Sprintf("%q cannot be updated; updatable fields are %s "+
				"(the owner is fixed: create a new key for another owner)", f, strings.Join(updatableFields, ", ")))
		}
	}
	if len(mask) > 0 {
		return mask, nil
	}
	set := map[string]bool{
		fieldGroups: len(req.GetGroups()) > 0, fieldAllowedModels: len(req.GetAllowedModels()) > 0,
		fieldAllowedServices: len(req.GetAllowedServices()) > 0, fieldExpiresAt: req.GetExpiresAt() != nil,
		fieldLimits: req.GetLimits() != nil, fieldModelLimits: len(req.GetModelLimits()) > 0,
	}
	for _, f := range updatableFields {
		if set[f] {
			mask = append(mask, f)
		}
	}
	if len(mask) == 0 {
		return nil, apierr.Field("update_mask", "nothing to update: set a field, or name the fields to clear in update_mask")
	}
	return mask, nil
}
