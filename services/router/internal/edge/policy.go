package edge

import (
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/switchyard/switchyard/services/router/internal/routes"
)

// plan is where one client request may go: the services to try, best
// first, and the model id each is asked for.
type plan struct {
	model string // the edge model name the request is metered under
	alias string // the alias routed through, if any
	// upstreamModel replaces each service's own model id (templated
	// aliases); "" keeps the service's.
	upstreamModel string
	candidates    []*routes.Route
}

// minScore keeps a failing service in the balance with a small share, so
// it is retried now and then and its score can recover.
const minScore = 0.02

// plan resolves a request to its candidate services: the pinned service,
// a path-templated alias (/{alias}/{model}/v1/...), an alias named by the
// body's model, or the services serving that model id. Services the key
// may not use, Failed ones and ones without a usable key are left out;
// circuits are checked when an attempt is made, so a half-open probe is
// only taken by a request that uses it.
func (s *Server) plan(in *inbound, model string) (*plan, error) {
	t := s.routes.Load()
	if a, ok := t.Alias(in.scope.namespace); ok && a.ModelFrom == modelFromPath {
		up, _ := decode(in.scope.service)
		return s.aliasPlan(in, a, in.scope.namespace, up)
	}
	if in.scope.pinned() {
		return s.pinnedPlan(in)
	}
	if err := in.who.AllowsModel(model); err != nil {
		return nil, err
	}
	if a, ok := t.Alias(model); ok {
		up, err := templatedModel(in.r, a)
		if err != nil {
			return nil, err
		}
		return s.aliasPlan(in, a, model, up)
	}
	all := t.ForModel(model)
	if len(all) == 0 {
		return nil, modelNotFound(model)
	}
	weights := make([]float64, len(all))
	for i := range weights {
		weights[i] = 1
	}
	return s.filter(in, &plan{model: model}, all, weights)
}

func (s *Server) pinnedPlan(in *inbound) (*plan, error) {
	rt, err := s.pickService(in.scope)
	if err != nil {
		return nil, err
	}
	if err := in.who.AllowsModel(rt.Service.GetModel()); err != nil {
		return nil, err
	}
	if err := in.who.AllowsService(rt.Name(), policyOf(rt)); err != nil {
		return nil, err
	}
	return &plan{model: rt.Service.GetModel(), candidates: []*routes.Route{rt}}, nil
}

func (s *Server) aliasPlan(in *inbound, a *routes.Alias, model, upstream string) (*plan, error) {
	if err := in.who.AllowsModel(a.Name); err != nil {
		return nil, err
	}
	all := make([]*routes.Route, 0, len(a.Targets))
	weights := make([]float64, 0, len(a.Targets))
	for _, tg := range a.Targets {
		if tg.Route != nil {
			all = append(all, tg.Route)
			weights = append(weights, float64(tg.Weight))
		}
	}
	if len(all) == 0 {
		return nil, noUsableRoute(model, "none of the alias's services is registered; see `syctl aliases get "+a.Name+"`")
	}
	return s.filter(in, &plan{model: model, alias: a.Name, upstreamModel: upstream}, all, weights)
}

// filter keeps the routes the key may use and that can take traffic, in
// a weighted random order: each pick is proportional to the configured
// weight times the service's recent success score, so a service failing
// half its calls gets fewer of them even before its circuit opens.
func (s *Server) filter(in *inbound, p *plan, all []*routes.Route, weights []float64) (*plan, error) {
	var denied, unusable error
	keep, w := all[:0:0], weights[:0:0]
	for i, rt := range all {
		if err := in.who.AllowsService(rt.Name(), policyOf(rt)); err != nil {
			denied = cmpErr(denied, err)
			continue
		}
		if !rt.Usable() {
			unusable = cmpErr(unusable, noUsableRoute(p.model, unusableWhy(rt)))
			continue
		}
		keep = append(keep, rt)
		w = append(w, weights[i]*max(s.cfg.Circuits.Score(rt.Name()), minScore))
	}
	switch {
	case len(keep) == 0 && unusable != nil:
		return nil, unusable
	case len(keep) == 0:
		return nil, denied
	}
	p.candidates = weightedOrder(keep, w)
	return p, nil
}

func cmpErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

func unusableWhy(rt *routes.Route) string {
	if rt.KeyErr != "" {
		return rt.KeyErr
	}
	return "every service for it is Failed; see `syctl services list`"
}

// weightedOrder orders routes by weighted sampling without replacement.
// It reorders routes and weights in place.
func weightedOrder(routes []*routes.Route, weights []float64) []*routes.Route {
	for i := 0; i < len(routes)-1; i++ {
		total := 0.0
		for _, w := range weights[i:] {
			total += w
		}
		r := rand.Float64() * total
		j := i
		for ; j < len(routes)-1 && r >= weights[j]; j++ {
			r -= weights[j]
		}
		routes[i], routes[j] = routes[j], routes[i]
		weights[i], weights[j] = weights[j], weights[i]
	}
	return routes
}

// Templated routing (seed 004): where an alias takes the upstream model.
const (
	modelFromPath   = "path"
	modelFromHeader = "header:"
	modelFromQuery  = "query:"
)

// templatedModel reads the upstream model of a header- or query-templated
// alias ("" for a plain alias). A path-templated alias reached by the
// plain form has no path to read and is refused with the form to use.
func templatedModel(r *http.Request, a *routes.Alias) (string, error) {
	var v, where string
	switch {
	case a.ModelFrom == "":
		return "", nil
	case a.ModelFrom == modelFromPath:
		return "", &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: "model_required", Param: "model",
			Message: "The model `" + a.Name + "` takes the upstream model from the path: call /" + a.Name + "/{model}/v1/... " +
				"(set the SDK's base URL to http://<gateway>/" + a.Name + "/<model>/v1)."}
	case strings.HasPrefix(a.ModelFrom, modelFromHeader):
		where = "header " + strings.TrimPrefix(a.ModelFrom, modelFromHeader)
		v = r.Header.Get(strings.TrimPrefix(a.ModelFrom, modelFromHeader))
	case strings.HasPrefix(a.ModelFrom, modelFromQuery):
		where = "query parameter " + strings.TrimPrefix(a.ModelFrom, modelFromQuery)
		v = r.URL.Query().Get(strings.TrimPrefix(a.ModelFrom, modelFromQuery))
	}
	if v == "" || len(v) > 256 {
		return "", &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: "model_required", Param: "model",
			Message: "The model `" + a.Name + "` takes the upstream model id from the " + where + ", which is missing or longer than 256 bytes."}
	}
	return v, nil
}
