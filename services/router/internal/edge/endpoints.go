package edge

import (
	"net/http"

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

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	scan, err := s.cfg.Scan.Scan(body)
	if err != nil {
		writeErr(w, err)
		return
	}
	req, err := translate.DecodeChatRequest(body)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.forward(w, r, scan.Model, func(rt *routes.Route) (*exchange, error) {
		tr, ok := translate.ForProtocol(rt.Service.GetProtocol(), meteredStreams)
		if !ok {
			return nil, unsupportedProtocol(rt)
		}
		return &exchange{
			stream:    req.Stream,
			request:   func(t translate.Target) (translate.UpstreamRequest, error) { return tr.Request(req, t) },
			response:  func(st int, b []byte) ([]byte, translate.Usage, error) { return tr.Response(req, st, b) },
			newStream: func() translate.Stream { return tr.NewStream(req) },
		}, nil
	})
}

func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	scan, err := s.cfg.Scan.Scan(body)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.forward(w, r, scan.Model, func(rt *routes.Route) (*exchange, error) {
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

func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	req, err := translate.DecodeEmbeddingRequest(body)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.forward(w, r, req.Model, func(rt *routes.Route) (*exchange, error) {
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
