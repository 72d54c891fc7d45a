package keys

import (
	"slices"
	"strings"
	"time"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/router/internal/ratelimit"
)

// Principal is an authenticated consumer key as the edge uses it. It is
// built once per key version by the snapshot and shared by every request:
// never modify one.
type Principal struct {
	// ID is the key's stable id ("key_…"): the consumer in usage events and
	// the identity of its rate-limit scopes. It is not a secret.
	ID string
	// Prefix is the key's display prefix, for logs.
	Prefix string
	Owner  string
	// Limits are the key's own per-minute limits (zero: unlimited).
	Limits ratelimit.Limits
	// ModelLimits are per edge model name.
	ModelLimits map[string]ratelimit.Limits

	domain    string // the owner's email domain, lower case; "" if the owner is not an email
	groups    []string
	models    stringSet // empty: any model
	services  stringSet // empty: any service
	expiresAt int64     // Unix ns; 0: never
	revoked   bool
}

// Anonymous is the principal of every request while authentication is off
// (-router.auth=off): it may use every model and service and has no limits
// of its own. Service access policies still apply to it, and it belongs to
// no group and no domain, so a service that restricts access refuses it.
var Anonymous = &Principal{ID: "anonymous", Prefix: "anonymous", Owner: "anonymous"}

// newPrincipal builds the principal of a stored record.
func newPrincipal(rec *pb.ConsumerKey) *Principal {
	p := &Principal{
		ID: rec.GetId(), Prefix: rec.GetPrefix(), Owner: rec.GetOwner(),
		Limits:   limitsOf(rec.GetLimits()),
		domain:   ownerDomain(rec.GetOwner()),
		groups:   slices.Clone(rec.GetGroups()),
		models:   newStringSet(rec.GetAllowedModels()),
		services: newStringSet(rec.GetAllowedServices()),
		revoked:  rec.GetRevoked(),
	}
	if ts := rec.GetExpiresAt(); ts != nil {
		p.expiresAt = ts.AsTime().UnixNano()
	}
	if len(rec.GetModelLimits()) > 0 {
		p.ModelLimits = make(map[string]ratelimit.Limits, len(rec.GetModelLimits()))
		for m, l := range rec.GetModelLimits() {
			p.ModelLimits[m] = limitsOf(l)
		}
	}
	return p
}

func limitsOf(l *pb.Limits) ratelimit.Limits {
	return ratelimit.Limits{RPM: l.GetRpm(), TPM: l.GetTpm()}
}

// ownerDomain is the part of an email owner after the last '@'.
func ownerDomain(owner string) string {
	at := strings.LastIndexByte(owner, '@')
	if at < 0 || at == len(owner)-1 {
		return ""
	}
	return strings.ToLower(owner[at+1:])
}

// Groups returns the key's groups; do not modify the slice.
func (p *Principal) Groups() []string { return p.groups }

// OwnerDomain is the owner's email domain in lower case, or "".
func (p *Principal) OwnerDomain() string { return p.domain }

// expired reports whether the key has expired at now (Unix ns).
func (p *Principal) expired(now int64) bool { return p.expiresAt != 0 && now >= p.expiresAt }

// ServicePolicy is a service's access policy (seed 001): which groups and
// which owner email domains may call it. An empty list does not restrict;
// when both lists are set, a key must pass both.
type ServicePolicy struct {
	AllowedGroups  []string
	AllowedDomains []string // compared case-insensitively, exact match (no subdomains)
}

// ModelAllowed reports whether the key may use an edge model name (a
// model id or an alias), for filtering GET /v1/models.
func (p *Principal) ModelAllowed(model string) bool { return p.models.allows(model) }

// AllowsModel refuses, with a 403, a model the key may not use. The edge
// calls it once per request with the model name the client sent, before
// choosing a route.
func (p *Principal) AllowsModel(model string) error {
	if p.models.allows(model) {
		return nil
	}
	return forbidden("model_not_allowed", "This API key may not use the model `"+model+
		"`. Ask your Switchyard operator to add it to the key (`syctl keys update --model`).")
}

// AllowsService refuses, with a 403, a service the key may not reach:
// one outside the key's allowed services, or one whose access policy
// excludes the key's groups or its owner's domain. The edge calls it for
// each candidate route and skips the refused ones.
func (p *Principal) AllowsService(service string, policy ServicePolicy) error {
	if !p.services.allows(service) {
		return forbidden("service_not_allowed", "This API key may not use the service `"+service+
			"`. Ask your Switchyard operator to add it to the key (`syctl keys update --service`).")
	}
	if len(policy.AllowedGroups) > 0 && !p.inAnyGroup(policy.AllowedGroups) {
		return forbidden("group_not_allowed", "The service `"+service+
			"` accepts only members of the groups "+strings.Join(policy.AllowedGroups, ", ")+
			", and this API key is in none of them.")
	}
	if len(policy.AllowedDomains) > 0 && !p.inAnyDomain(policy.AllowedDomains) {
		return forbidden("domain_not_allowed", "The service `"+service+
			"` accepts only keys owned by addresses at "+strings.Join(policy.AllowedDomains, ", ")+
			", and this API key's owner is not.")
	}
	return nil
}

// Allows is AllowsModel and AllowsService together.
func (p *Principal) Allows(model, service string, policy ServicePolicy) error {
	if err := p.AllowsModel(model); err != nil {
		return err
	}
	return p.AllowsService(service, policy)
}

// inAnyGroup compares without regard to case: the registry stores a
// service's groups lower-cased, keys keep theirs as given.
func (p *Principal) inAnyGroup(allowed []string) bool {
	for _, g := range p.groups {
		for _, a := range allowed {
			if strings.EqualFold(a, g) {
				return true
			}
		}
	}
	return false
}

func (p *Principal) inAnyDomain(allowed []string) bool {
	if p.domain == "" {
		return false
	}
	for _, d := range allowed {
		if strings.EqualFold(d, p.domain) {
			return true
		}
	}
	return false
}

// Scopes appends the key's own rate-limit scopes for model to dst: the
// per-key scope when the key has limits, and the per-key+model scope when
// it has limits for model. The edge adds the service scope and passes the
// lot to ratelimit.Limiter.Admit. With dst backed by a [ratelimit.MaxScopes]
// array it does not allocate.
func (p *Principal) Scopes(model string, dst []ratelimit.Scope) []ratelimit.Scope {
	if p.Limits != (ratelimit.Limits{}) {
		dst = append(dst, ratelimit.KeyScope(p.ID, p.Limits))
	}
	if l, ok := p.ModelLimits[model]; ok && l != (ratelimit.Limits{}) {
		dst = append(dst, ratelimit.KeyModelScope(p.ID, model, l))
	}
	return dst
}

// stringSet is an allow-list; empty allows everything. Short lists (the
// usual case) are scanned, long ones hashed.
type stringSet struct {
	list []string
	set  map[string]struct{}
}

const stringSetScanMax = 8

func newStringSet(values []string) stringSet {
	s := stringSet{list: slices.Clone(values)}
	if len(values) > stringSetScanMax {
		s.set = make(map[string]struct{}, len(values))
		for _, v := range values {
			s.set[v] = struct{}{}
		}
	}
	return s
}

func (s stringSet) allows(v string) bool {
	switch {
	case len(s.list) == 0:
		return true
	case s.set != nil:
		_, ok := s.set[v]
		return ok
	}
	return slices.Contains(s.list, v)
}

// nowNano is the clock expiry is checked against.
type nowNano func() int64

func wallClock() int64 { return time.Now().UnixNano() }
