package edge

import (
	"net/http"

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

func (s *Server) chat(w http.ResponseWriter, r *http.Request, sc scope) {
	body, scan, ok := s.readJSON(w, r)
	if !ok {
		return
	}
	if scan.Messages == 0 {
		writeErr(w, &edgejson.Error{Code: edgejson.CodeInvalidValue, Param: "messages",
			Message: "'messages' must contain at least one message."})
		return
	}
	s.forward(w, r, sc, scan.Model, func(rt *routes.Route) (*exchange, error) {
		return chatExchange(rt, body, &scan)
	})
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

func (s *Server) completions(w http.ResponseWriter, r *http.Request, sc scope) {
	body, scan, ok := s.readJSON(w, r)
	if !ok {
		return
	}
	s.forward(w, r, sc, scan.Model, func(rt *routes.Route) (*exchange, error) {
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
	})
}

func (s *Server) embeddings(w http.ResponseWriter, r *http.Request, sc scope) {
	body, _, ok := s.readJSON(w, r)
	if !ok {
		return
	}
	req, err := translate.DecodeEmbeddingRequest(body)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.forward(w, r, sc, req.Model, func(rt *routes.Route) (*exchange, error) {
		tr, err := translate.EmbeddingsForProtocol(rt.Service.GetProtocol())
		if err != nil {
			return nil, err
		}
		return &exchange{
			request:  func(t translate.Target) (translate.UpstreamRequest, error) { return tr.Request(req, t) },
			response: func(st int, b []byte) ([]byte, translate.Usage, error) { return tr.Response(req, st, b) },
		}, nil
	})
}

func unsupportedProtocol(rt *routes.Route) *apiError {
	return &apiError{Status: http.StatusInternalServerError, Type: typeAPI, Code: "unsupported_protocol",
		Message: "Service `" + rt.Name() + "` has protocol " + rt.Service.GetProtocol() + ", which this gateway version cannot serve."}
}
