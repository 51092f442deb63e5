// Package mapping says which ECS events a Sigma rule looks at and what its
// field names are called in them: log-source routing and field mapping, kept
// as versioned data (ecs.yaml, embedded) in the spirit of pySigma's processing
// pipelines (the ecs_windows, ecs_zeek and ecs_linux pipelines of the
// Elasticsearch backend) and of the event shapes Winlogbeat, Filebeat,
// Auditbeat and Elastic Agent write.
//
// It imports only pipeline/event, gopkg.in/yaml.v3 and the standard library,
// and does no I/O. It must never import the Sigma compiler (rules/sigma) or
// anything that runs: the compiler calls it, not the other way round.
//
// # Data model
//
// The file is a version and a list of entries. An entry names a Sigma log
// source (product, category, service: at least one) and gives
//
//   - route: the condition an event must satisfy to be examined by rules of
//     that log source, a disjunction of conjunctions of terms (Route). A term
//     asks that an ECS field have one of some values (compared
//     case-insensitively; on an array field such as event.category, any
//     element will do) or that it be present;
//   - fields: Sigma field name → ECS targets, in order. A rule's value
//     matches the Sigma field when it matches any target. A target may
//     translate values (Target.Values: Sysmon's Initiated 'true' is
//     network.direction egress once Winlogbeat has processed it) or hold one
//     part of a composite value (Target.Prefix: Sysmon's Hashes
//     'SHA256=…' is process.hash.sha256);
//   - unmapped: the prefix under which the shipper keeps fields nobody maps
//     (winlog.event_data. for Windows).
//
// ecs.yaml's header comment describes the syntax.
//
// # Precedence
//
// An entry matches a rule's log source when every key the entry names equals
// the rule's, ignoring case; keys the entry leaves out are free. Entries are
// ranked by how many keys they name, then by which: category before service
// before product. Two matching entries never tie, since they would name the
// same keys with the same values, and Load rejects such duplicates.
//
// Route uses the best-ranked matching entry, with one exception: an entry
// naming only a product ({product: windows}) routes only rules that name no
// category and no service. A rule with a category or service nothing maps
// (a typo, or a source egovsoc does not collect) is therefore rejected with
// ErrUnknownLogSource instead of being routed to every event of its product.
// Because category outranks product, {product: anything, category:
// authentication} routes as {category: authentication}.
//
// Fields and Targets search the matching entries from the best-ranked down;
// the first that maps the field wins. A field is looked for by its exact
// name in every matching entry first, then ignoring case. Product entries
// hold what is common to all of a product's sources (Windows: EventID,
// Channel, Provider_Name, Image, User…); a product+category entry that also
// has a generic category entry must map again any field both of them map,
// or the generic mapping would win (TestNoShadowing checks it).
//
// # Fallback
//
// A field that no matching entry maps passes through unchanged, so a rule
// may use ECS names directly (url.original, source.ip). When a matching entry
// sets unmapped, the field maps to the prefixed name and then to itself:
// for any Windows log source an unmapped Image would be
// [winlog.event_data.Image, Image]. A field whose name has a dot is taken for
// an ECS path and passes through unchanged even then.
//
// # Event shapes
//
// Windows events are expected as Winlogbeat or Elastic Agent write them: the
// sysmon and security modules move some event data to ECS (process.*,
// file.*, registry.*, dns.*, user.*) and keep the rest in
// winlog.event_data. Where a Sigma field has an ECS home the ECS path comes
// first and winlog.event_data.<Field> second, so an event of either shape
// matches. What cannot be mapped by name alone:
//
//   - Sysmon's User is DOMAIN\name; Winlogbeat splits it into user.domain and
//     user.name. User maps to both and to the raw field: a value naming one
//     part ('AUTHORI', 'SYSTEM') matches either shape, one naming both
//     ('NT AUTHORITY\SYSTEM', endswith '\SYSTEM') only the raw one.
//   - Sigma's process_creation needs event.category process and event.type
//     start: Sysmon events shipped without ECS categorisation are routed
//     only by their channel ({product: windows, service: sysmon}).
//   - Auditd's a0…a7 are positions of EXECVE arguments; Filebeat and
//     Auditbeat keep the arguments as the array process.args, so aN also
//     matches any argument.
//
// # Adding a mapping
//
//  1. Find the entry of the log source in ecs.yaml, or add one (keep the
//     sections: generic categories, Windows, Linux, macOS, Zeek, network
//     devices, cloud, applications). Give it a route whose every conjunction
//     is specific to those events: an empty conjunction is an error.
//  2. Map the fields its rules use, ECS first and raw names after.
//  3. Add a case: an event under testdata/route (must route, must not), a
//     line in testdata/fields.yaml.
//  4. Bump version and record it (see Versioning); run go test.
//
// # Versioning
//
// version is YYYY.MM.N: the year and month of the change and a counter. Every
// change of ecs.yaml bumps it, since a different mapping is a different rule
// set: the compiled rule set hashes it and every alert carries it.
// testdata/ecs.sum records the version and digest of the file, and
// TestVersionBumped fails when the file changes under an old version. After
// bumping, record the new one with
//
//	go test ./rules/sigma/mapping -run TestVersionBumped -update
package mapping
