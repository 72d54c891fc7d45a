package edge

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/switchyard/switchyard/services/router/internal/metrics"
	"github.com/switchyard/switchyard/services/router/internal/routes"
)

// The path forms the edge accepts (docs/edge.md):
//
//	/v1/{endpoint}                               route by the body's model
//	/{service}/v1/{endpoint}                     pin one registered service
//	/{namespace}/{service}/v1/{endpoint}         pin it within its namespace
//	/{service}/passthrough/{path...}             forward unaltered
//	/{namespace}/{service}/passthrough/{path...}
//
// A service name is told from the API version by position: the first
// segment "v1" always means the plain form, and the segment after a service
// name must be "v1" or "passthrough". So a service (or namespace) named
// "v1" or "passthrough" cannot be reached by a pinned path; the registry
// should refuse those two names.
const (
	segmentAPI         = "v1"
	segmentPassthrough = "passthrough"
)

// scope is what a request's path pins it to; zero for the plain form.
type scope struct {
	namespace string // "" unless the namespaced form was used
	service   string
}

func (sc scope) pinned() bool { return sc.service != "" }

func (sc scope) String() string {
	if sc.namespace == "" {
		return sc.service
	}
	return sc.namespace + "/" + sc.service
}

// edgePath is a parsed request path.
type edgePath struct {
	scope
	passthrough bool
	// rest is, for the API forms, the decoded endpoint after "v1/"
	// ("chat/completions", "models/meta/llama"); for passthrough, the
	// still-escaped upstream path, starting with "/".
	rest string
}

// parsePath splits an escaped request path into its form; ok is false for
// a path that matches none.
func parsePath(escaped string) (p edgePath, ok bool) {
	rest, ok := strings.CutPrefix(escaped, "/")
	if !ok {
		return edgePath{}, false
	}
	var segs [3]string
	for i := range segs {
		segs[i], rest, _ = strings.Cut(rest, "/")
		if segs[i] == "" {
			return edgePath{}, false
		}
		switch {
		case segs[i] == segmentAPI:
			p.scope = scopeOf(segs[:i])
			p.rest, ok = decode(rest)
			return p, ok
		case segs[i] == segmentPassthrough && i == 0:
			return edgePath{}, false
		case segs[i] == segmentPassthrough:
			p.scope, p.passthrough, p.rest = scopeOf(segs[:i]), true, "/"+rest
			return p, true
		case i == 2:
			return edgePath{}, false
		}
	}
	return edgePath{}, false
}

func scopeOf(names []string) scope {
	switch len(names) {
	case 1:
		return scope{service: names[0]}
	case 2:
		return scope{namespace: names[0], service: names[1]}
	}
	return scope{}
}

func decode(escaped string) (string, bool) {
	s, err := url.PathUnescape(escaped)
	return s, err == nil
}

// serve checks the headers, the path and readiness, authenticates, then
// dispatches by path form and endpoint.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	defer metrics.RequestStarted()()
	if err := s.checkHeaders(r); err != nil {
		s.refuse(w, err)
		return
	}
	p, ok := parsePath(r.URL.EscapedPath())
	if !ok {
		unknownURL(w, r)
		return
	}
	if !s.routes.Ready() {
		notReady(w)
		return
	}
	who, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	in := &inbound{r: r, scope: p.scope, who: who}
	switch {
	case p.passthrough:
		in.operation = operationPassthrough
		s.passthrough(w, in, p)
	case p.rest == "chat/completions":
		in.operation = operationChat
		if allow(w, r, http.MethodPost) {
			s.chat(w, in)
		}
	case p.rest == "completions":
		in.operation = operationCompletions
		if allow(w, r, http.MethodPost) {
			s.completions(w, in)
		}
	case p.rest == "embeddings":
		in.operation = operationEmbeddings
		if allow(w, r, http.MethodPost) {
			s.embeddings(w, in)
		}
	default:
		s.serveModels(w, in, p.rest)
	}
}

// Operations, as in usage events and the GenAI gen_ai.operation.name.
const (
	operationChat        = "chat"
	operationCompletions = "completions"
	operationEmbeddings  = "embeddings"
	operationPassthrough = "passthrough"
)

func (s *Server) serveModels(w http.ResponseWriter, in *inbound, rest string) {
	switch {
	case rest == "models":
		if allow(w, in.r, http.MethodGet) {
			s.listModels(w, in)
		}
	case strings.HasPrefix(rest, "models/") && len(rest) > len("models/"):
		if allow(w, in.r, http.MethodGet) {
			s.getModel(w, in, strings.TrimPrefix(rest, "models/"))
		}
	default:
		unknownURL(w, in.r)
	}
}

// notReady answers while the route table is still loading (just after a
// start): every model would look unknown, so say "retry" instead of 404.
func notReady(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "1")
	metrics.Refused("not_ready", http.StatusServiceUnavailable)
	(&apiError{Status: http.StatusServiceUnavailable, Type: typeAPI, Code: "not_ready",
		Message: "The gateway is starting and has not loaded its routes yet; retry in a second."}).write(w)
}

// allow answers 405 unless r uses method (HEAD is not served: every
// endpoint is an API call, not a document).
func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	(&apiError{Status: http.StatusMethodNotAllowed, Type: typeInvalidRequest, Code: "method_not_allowed",
		Message: "This endpoint accepts " + method + " only, not " + r.Method + "."}).write(w)
	return false
}

func unknownURL(w http.ResponseWriter, r *http.Request) {
	(&apiError{Status: http.StatusNotFound, Type: typeInvalidRequest, Code: "unknown_url",
		Message: "Unknown request URL: " + r.Method + " " + r.URL.Path +
			". The edge serves /v1/..., /{service}/v1/..., /{namespace}/{service}/v1/... and /{service}/passthrough/...; see docs/edge.md."}).write(w)
}

// pickService resolves a pinned service; a namespace in the path must be
// the service's own.
func (s *Server) pickService(sc scope) (*routes.Route, error) {
	rt, ok := s.routes.Load().ByName(sc.service)
	if !ok || (sc.namespace != "" && rt.Service.GetNamespace() != sc.namespace) {
		return nil, serviceNotFound(sc)
	}
	if !rt.Usable() {
		why := rt.KeyErr
		if why == "" {
			why = "it is Failed; see `syctl services get " + rt.Name() + "`"
		}
		return nil, noUsableRoute(rt.Service.GetModel(), why)
	}
	return rt, nil
}

func serviceNotFound(sc scope) *apiError {
	return &apiError{Status: http.StatusNotFound, Type: typeInvalidRequest, Code: "service_not_found",
		Message: "No service `" + sc.String() + "` is registered. List the services with `syctl services list`."}
}
