package edge

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/switchyard/switchyard/services/router/internal/edgejson"
	"github.com/switchyard/switchyard/services/router/internal/routes"
	"github.com/switchyard/switchyard/services/router/internal/translate"
)

// exchange is one edge request bound to one upstream protocol: how to
// build the upstream call and how to read its answer back.
type exchange struct {
	stream    bool
	request   func(translate.Target) (translate.UpstreamRequest, error)
	response  func(status int, body []byte) ([]byte, translate.Usage, error)
	newStream func() translate.Stream
}

// meteredStreams asks OpenAI-family upstreams for stream usage even when
// the client did not, so every stream is metered; the extra usage chunk is
// hidden from such clients.
var meteredStreams = translate.OpenAIConfig{ForceStreamUsage: true}

// binder builds the exchange for a route's protocol.
type binder func(r *routes.Route) (*exchange, error)

// readJSON reads and scans an OpenAI-style body. The scan checks grammar,
// UTF-8 and nesting depth in one pass before anything decodes the body,
// and the model is required as OpenAI requires it (a pinned path then
// replaces its value).
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request) ([]byte, edgejson.Request, bool) {
	body, ok := s.readBody(w, r)
	if !ok {
		return nil, edgejson.Request{}, false
	}
	scan, err := s.cfg.Scan.Scan(body)
	if err == nil && !scan.HasModel {
		err = &edgejson.Error{Code: edgejson.CodeNoModel, Param: "model", Message: "You must provide a model parameter."}
	}
	if err != nil {
		writeErr(w, err)
		return nil, edgejson.Request{}, false
	}
	return body, scan, true
}

func (s *Server) chat(w http.ResponseWriter, in *inbound) {
	body, scan, ok := s.readJSON(w, in.r)
	if !ok {
		return
	}
	if scan.Messages == 0 {
		writeErr(w, &edgejson.Error{Code: edgejson.CodeInvalidValue, Param: "messages",
			Message: "'messages' must contain at least one message."})
		return
	}
	s.forward(w, in, forwarded{model: scan.Model, tokens: scan.ReserveTokens(s.cfg.DefaultOutputTokens),
		bind: func(rt *routes.Route) (*exchange, error) { return chatExchange(rt, body, &scan) }})
}

// chatExchange binds a chat body to rt's protocol. Only translated
// protocols pay for the full decode; OpenAI-family upstreams get the raw
// bytes, described by the scan.
func chatExchange(rt *routes.Route, body []byte, scan *edgejson.Request) (*exchange, error) {
	protocol := rt.Service.GetProtocol()
	tr, ok := translate.ForProtocol(protocol, meteredStreams)
	if !ok {
		return nil, unsupportedProtocol(rt)
	}
	var req *translate.ChatRequest
	if translate.ForwardsRaw(protocol) {
		req = translate.RawChatRequest(body, scan.Model, scan.Stream, scan.IncludeUsage)
	} else {
		var err error
		if req, err = translate.DecodeChatRequest(body); err != nil {
			return nil, err
		}
	}
	return &exchange{
		stream:    req.Stream,
		request:   func(t translate.Target) (translate.UpstreamRequest, error) { return tr.Request(req, t) },
		response:  func(st int, b []byte) ([]byte, translate.Usage, error) { return tr.Response(req, st, b) },
		newStream: func() translate.Stream { return tr.NewStream(req) },
	}, nil
}

func (s *Server) completions(w http.ResponseWriter, in *inbound) {
	body, scan, ok := s.readJSON(w, in.r)
	if !ok {
		return
	}
	tokens := scan.ReserveTokens(s.cfg.DefaultOutputTokens)
	s.forward(w, in, forwarded{model: scan.Model, tokens: tokens, bind: func(rt *routes.Route) (*exchange, error) {
		tr, err := translate.CompletionsForProtocol(rt.Service.GetProtocol(), meteredStreams)
		if err != nil {
			return nil, err
		}
		return &exchange{
			stream:    scan.Stream,
			request:   func(t translate.Target) (translate.UpstreamRequest, error) { return tr.Request(body, t) },
			response:  tr.Response,
			newStream: func() translate.Stream { return tr.NewStream(body) },
		}, nil
	}})
}

func (s *Server) embeddings(w http.ResponseWriter, in *inbound) {
	body, scan, ok := s.readJSON(w, in.r)
	if !ok {
		return
	}
	req, err := translate.DecodeEmbeddingRequest(body)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.forward(w, in, forwarded{model: req.Model, tokens: scan.PromptTokens(), bind: func(rt *routes.Route) (*exchange, error) {
		tr, err := translate.EmbeddingsForProtocol(rt.Service.GetProtocol())
		if err != nil {
			return nil, err
		}
		return &exchange{
			request:  func(t translate.Target) (translate.UpstreamRequest, error) { return tr.Request(req, t) },
			response: func(st int, b []byte) ([]byte, translate.Usage, error) { return tr.Response(req, st, b) },
		}, nil
	}})
}

func unsupportedProtocol(rt *routes.Route) *apiError {
	return &apiError{Status: http.StatusInternalServerError, Type: typeAPI, Code: "unsupported_protocol",
		Message: "Service `" + rt.Name() + "` has protocol " + rt.Service.GetProtocol() + ", which this gateway version cannot serve."}
}

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// listModels answers GET /v1/models with every edge model name (model
// ids and aliases) the caller's key may use (only the pinned service's
// under a pinned path); ?function= keeps the models a service with that
// capability tag serves.
func (s *Server) listModels(w http.ResponseWriter, in *inbound) {
	fn := in.r.URL.Query().Get("function")
	ids := s.routes.Load().Models()
	if in.scope.pinned() {
		rt, err := s.pickService(in.scope)
		if err != nil {
			s.refuse(w, err)
			return
		}
		ids = []string{rt.Service.GetModel()}
	}
	data := make([]modelObject, 0, len(ids))
	for _, m := range ids {
		if !in.who.ModelAllowed(m) {
			continue
		}
		if obj, ok := s.model(m, fn); ok {
			data = append(data, obj)
		}
	}
	writeJSON(w, map[string]any{"object": "list", "data": data})
}

// getModel answers GET /v1/models/{id...}; ids may contain '/', so the
// rest of the path is the id. A model the key may not use is not found,
// as OpenAI answers.
func (s *Server) getModel(w http.ResponseWriter, in *inbound, id string) {
	obj, ok := s.model(id, "")
	if ok && in.scope.pinned() {
		rt, err := s.pickService(in.scope)
		ok = err == nil && rt.Service.GetModel() == id
	}
	if !ok || !in.who.ModelAllowed(id) {
		s.refuse(w, modelNotFound(id))
		return
	}
	writeJSON(w, obj)
}

// model describes an edge model name, optionally only if a service
// serving it has the capability tag fn.
func (s *Server) model(id, fn string) (modelObject, bool) {
	for _, rt := range s.routes.Load().Serving(id) {
		if fn != "" && !slices.Contains(rt.Service.GetFunctions(), fn) {
			continue
		}
		created := time.Now().Unix()
		if ts := rt.Service.GetCreatedAt(); ts != nil {
			created = ts.GetSeconds()
		}
		owner := rt.Name()
		if _, alias := s.routes.Load().Alias(id); alias {
			owner = "switchyard"
		}
		return modelObject{ID: id, Object: "model", Created: created, OwnedBy: owner}, true
	}
	return modelObject{}, false
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
