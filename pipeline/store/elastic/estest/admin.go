package estest

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// The deletions and the listing a test needs to clean a real cluster up,
// with the refusals Elasticsearch makes: no wildcard deletes of indices
// (action.destructive_requires_name is true by default in 8), no deleting a
// template or a policy that is still in use.

func notFound(typ, format string, args ...any) *esError {
	return &esError{Status: http.StatusNotFound, Type: typ, Reason: fmt.Sprintf(format, args...)}
}

func (s *Server) deleteDataStreams(names string) (int, any, *esError) {
	list := strings.Split(names, ",")
	for _, n := range list {
		if strings.Contains(n, "*") {
			return 0, nil, notImplemented("wildcards in a data stream delete")
		}
		if ix, ok := s.indices[n]; !ok || !ix.dataStream {
			return 0, nil, notFound("index_not_found_exception", "no such index [%s]", n)
		}
	}
	for _, n := range list {
		delete(s.indices, n)
	}
	return 200, map[string]any{"acknowledged": true}, nil
}

func (s *Server) deleteIndices(names string) (int, any, *esError) {
	list := strings.Split(names, ",")
	for _, n := range list {
		if n == "_all" || strings.Contains(n, "*") {
			return 0, nil, badRequest("illegal_argument_exception", "Wildcard expressions or all indices are not allowed")
		}
		ix, ok := s.indices[n]
		if !ok {
			return 0, nil, notFound("index_not_found_exception", "no such index [%s]", n)
		}
		if ix.dataStream {
			return 0, nil, badRequest("illegal_argument_exception", "index [%s] is a data stream; delete it with the data stream API", n)
		}
	}
	for _, n := range list {
		delete(s.indices, n)
	}
	return 200, map[string]any{"acknowledged": true}, nil
}

// catIndices lists the concrete indices matching a pattern, as
// GET _cat/indices/PATTERN?format=json&h=index does.
func (s *Server) catIndices(r *http.Request, pattern string) (int, any, *esError) {
	q := r.URL.Query()
	if q.Get("format") != "json" || q.Get("h") != "index" {
		return 0, nil, notImplemented("_cat/indices other than format=json&h=index")
	}
	var names []string
	for n, ix := range s.indices {
		if glob(pattern, ix.backing) {
			names = append(names, ix.backing)
		} else if !ix.dataStream && glob(pattern, n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := []any{}
	for _, n := range names {
		out = append(out, map[string]any{"index": n})
	}
	return 200, out, nil
}

func (s *Server) deleteIndexTemplate(name string) (int, any, *esError) {
	if _, ok := s.templates[name]; !ok {
		return 0, nil, notFound("resource_not_found_exception", "index_template matching [%s] not found", name)
	}
	for n, ix := range s.indices {
		if tn, _ := s.matchTemplate(n); ix.dataStream && tn == name {
			return 0, nil, badRequest("illegal_argument_exception", "unable to remove composable templates [%s] as they are in use by a data streams [%s]", name, n)
		}
	}
	delete(s.templates, name)
	return 200, map[string]any{"acknowledged": true}, nil
}

func (s *Server) deleteComponent(name string) (int, any, *esError) {
	if _, ok := s.components[name]; !ok {
		return 0, nil, notFound("resource_not_found_exception", "%s", name)
	}
	var users []string
	for tn, t := range s.templates {
		for _, c := range t.composedOf {
			if c == name {
				users = append(users, tn)
			}
		}
	}
	if len(users) > 0 {
		sort.Strings(users)
		return 0, nil, badRequest("illegal_argument_exception", "component templates [%s] cannot be removed as they are still in use by index templates %v", name, users)
	}
	delete(s.components, name)
	return 200, map[string]any{"acknowledged": true}, nil
}

func (s *Server) deletePolicy(name string) (int, any, *esError) {
	if _, ok := s.policies[name]; !ok {
		return 0, nil, notFound("resource_not_found_exception", "Lifecycle policy not found: %s", name)
	}
	var users []string
	for _, ix := range s.indices {
		if ix.settings["index.lifecycle.name"] == name {
			users = append(users, ix.backing)
		}
	}
	if len(users) > 0 {
		sort.Strings(users)
		return 0, nil, badRequest("illegal_argument_exception", "Cannot delete policy [%s]. It is in use by one or more indices: %v", name, users)
	}
	delete(s.policies, name)
	return 200, map[string]any{"acknowledged": true}, nil
}
