// Package syntax reads Sigma files (specification v2.1) into a syntax tree
// with a file position on every part that can be wrong: detection rules,
// correlation rules and filters, each a YAML document of a file.
//
// It checks what the specification fixes on its own: required keys, the type
// of every known key, the values of enumerations (level, status, correlation
// type), the shape of selections, the grammar of conditions, that every
// search identifier a condition names exists, and timespans. It does not
// interpret values: wildcards, escapes and modifiers are kept as written for
// the match package, and references between documents (a correlation naming a
// rule, a filter naming rules) are left to the compiler, which sees every
// file.
//
// Errors are *Error values naming the file position and the Sigma feature
// involved. Feature names are short and stable, for callers that count or
// filter errors:
//
//	yaml                  YAML syntax, aliases, tags, duplicate keys
//	limit                 file size, documents per file, YAML nesting,
//	                      condition length and nesting, errors per
//	                      document, work matching x-of patterns
//	document              what kind of document this is
//	collection            Sigma v1 rule collections (action: global ...)
//	title id name related taxonomy status description license author
//	date modified references tags falsepositives level fields scope
//	                      the metadata key of that name
//	logsource             the logsource section
//	detection             the detection section and its selections
//	modifier              the |modifier part of a field key
//	condition             a detection or filter condition
//	aggregation           Sigma v1 aggregations in a condition (| count() ...)
//	timeframe             the deprecated detection timeframe
//	correlation           the correlation section as a whole
//	correlation.type, correlation.rules, correlation.aliases,
//	correlation.group-by, correlation.timespan, correlation.condition,
//	correlation.generate  a key of the correlation section
//	filter, filter.rules  the filter section and its rules
//
// The package imports only the standard library and gopkg.in/yaml.v3. It
// must never import the match, compiler or engine packages: they import it.
package syntax
