package edge

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// listModels answers GET /v1/models with every routable model id.
func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	t := s.routes.Load()
	fn := r.URL.Query().Get("function")
	data := make([]modelObject, 0, len(t.Models()))
	for _, m := range t.Models() {
		if obj, ok := s.model(m, fn); ok {
			data = append(data, obj)
		}
	}
	writeJSON(w, map[string]any{"object": "list", "data": data})
}

// getModel answers GET /v1/models/{id...}; ids may contain '/'.
func (s *Server) getModel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	obj, ok := s.model(id, "")
	if !ok {
		writeErr(w, modelNotFound(id))
		return
	}
	writeJSON(w, obj)
}

// model describes an edge model id, optionally only if a service serving
// it has the capability tag fn.
func (s *Server) model(id, fn string) (modelObject, bool) {
	for _, rt := range s.routes.Load().ForModel(id) {
		if fn != "" && !slices.Contains(rt.Service.GetFunctions(), fn) {
			continue
		}
		created := time.Now().Unix()
		if ts := rt.Service.GetCreatedAt(); ts != nil {
			created = ts.GetSeconds()
		}
		return modelObject{ID: id, Object: "model", Created: created, OwnedBy: rt.Name()}, true
	}
	return modelObject{}, false
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
