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

// listModels answers GET /v1/models with every routable model id (only
// the pinned service's under a pinned path); ?function= keeps the models a
// service with that capability tag serves.
func (s *Server) listModels(w http.ResponseWriter, r *http.Request, sc scope) {
	fn := r.URL.Query().Get("function")
	ids := s.routes.Load().Models()
	if sc.pinned() {
		rt, err := s.pickService(sc)
		if err != nil {
			writeErr(w, err)
			return
		}
		ids = []string{rt.Service.GetModel()}
	}
	data := make([]modelObject, 0, len(ids))
	for _, m := range ids {
		if obj, ok := s.model(m, fn); ok {
			data = append(data, obj)
		}
	}
	writeJSON(w, map[string]any{"object": "list", "data": data})
}

// getModel answers GET /v1/models/{id...}; ids may contain '/', so the
// rest of the path is the id.
func (s *Server) getModel(w http.ResponseWriter, sc scope, id string) {
	obj, ok := s.model(id, "")
	if ok && sc.pinned() {
		rt, err := s.pickService(sc)
		ok = err == nil && rt.Service.GetModel() == id
	}
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
