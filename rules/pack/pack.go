// Package pack is egovsoc's own Sigma rule pack: detections for what the
// e-government sites actually face - attacks on public-service portals,
// brute force and spraying against SSH, mail and single sign-on, scans and
// exposed services seen in flows, DNS tunnelling and generated domains, weak
// and abused TLS - where the SigmaHQ repository is thin.
//
// # Layout
//
// One folder per area: web, auth, network, dns, tls. Each rule file
// <folder>/<name>.yml is Sigma v2.1 YAML. A file holds either one detection
// rule, or a correlation with the rules it builds on as further YAML
// documents of the same file (multi-document, referenced by their name,
// which is unique across the pack). Rules referenced by a correlation do not
// alert on their own: no correlation sets generate, so the specification's
// default (false) applies. Field names are ECS field paths; log sources are
// the ones the engine routes (see README.md).
//
// # Tests
//
// Beside every rule file is <folder>/<name>.test.yaml, data that the
// engine-backed runner (socctl rules test) replays:
//
//	match:     # each event on its own must raise an alert of the file's single,
//	           # non-correlation rule
//	  - {"@timestamp": ..., event: {category: [web], ...}, url: {...}, ...}
//	no_match:  # each event on its own must raise no alert of the file's rules
//	  - {...}
//	cases:     # sequences, for correlations
//	  - name: ten failures in five seconds
//	    expect: {<rule id or title>: 1}  # alerts per rule over the whole case;
//	                                     # rules not listed must raise none
//	    events: [{...}, ...]             # in order; without @timestamp the runner
//	                                     # stamps 2026-11-22T08:00:00Z + i seconds
//
// Events are ECS documents written as YAML maps (nested objects,
// event.category an array). Every rule has at least two matching events
// (or case events) and two benign look-alikes.
//
// This package holds data only: it must never import the Sigma engine
// (rules/sigma) or anything that does I/O; the engine loads the pack through
// FS.
package pack

import (
	"embed"
	"io/fs"
)

//go:embed */*.yml */*.test.yaml
var files embed.FS

// FS returns the pack: the rule files (<folder>/<name>.yml) and their test
// files (<folder>/<name>.test.yaml). It is safe for concurrent use.
func FS() fs.FS { return files }
