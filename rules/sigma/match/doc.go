// Package match compiles and evaluates the value part of Sigma detection
// items (specification v2.1, sigma-appendix-modifiers): one field, its
// modifier chain and its values become a Matcher that tests decoded ECS
// events. It also gives the rule index what it needs: Needles (literals one
// of which a match must contain), a multi-pattern substring Automaton
// (Aho–Corasick) and a PrefixSet of IP networks.
//
// The package imports only the standard library and pipeline/event. It must
// never import the Sigma parser, the compiler or the engine: they import it.
//
// # Values
//
// A string value matches a string value of the event, and the text of a
// number (as the event wrote it) or a bool ("true", "false"), ignoring case:
//
//   - * matches any run of characters (none included), ? exactly one
//     character (a Unicode code point). \* and \? are the characters
//     themselves, \\ is one backslash, and a backslash before anything else
//     is a plain backslash: C:\Windows\\* is everything under C:\Windows\,
//     while C:\Windows\* is the text C:\Windows* (the specification's
//     escaping, which SigmaHQ rules follow).
//   - Case is ignored as strings.EqualFold ignores it (Unicode simple case
//     folding): "ĐĂNG NHẬP" equals "đăng nhập", and the Kelvin sign equals
//     k. There is no Unicode normalisation: a precomposed ậ and a followed
//     by combining marks differ.
//   - The empty value (an empty quoted YAML string) matches an empty
//     string only, not a missing field.
//
// A number value (YAML 3389, -1, 2.5) matches a JSON number that is equal
// as a decimal (3389, 3389.0 and 3.389e3 alike, compared exactly, never
// through float64), or a string holding such a number ("3389", "03389").
// A string value '3389' compares as text: it matches the number 3389 as
// written, not 3389.0. A bool value matches a JSON bool, or the strings
// "true" and "false" ignoring case. A null value matches when the field is
// absent, null, or an array of nulls or an empty array, in every field it
// maps to. null may not take modifiers (except all).
//
// A field holding an array matches when one of its elements does; with the
// all modifier, each value must match some element (not necessarily the
// same). A Sigma field mapped to several ECS fields (Spec.Fields) matches
// when any of them does, and with all each value may be found in any of
// them.
//
// A keyword search (Spec.Fields empty) looks for each value in every string
// value of every field, as a substring unless startswith or endswith say
// otherwise; with all, every keyword must be found, in any fields.
//
// # Modifiers
//
// Every modifier of the v2.1 appendix, with pySigma's aliases:
//
//	contains startswith endswith  the value is anywhere / at the start / at the end
//	all                           every value must match (default: any)
//	cased                         case-sensitive
//	exists                        true: one of the fields is present (even null or
//	                              empty, as the specification says); false: none is
//	neq                           see below
//	windash                       every -, /, – (en dash), — (em dash) and ―
//	                              (horizontal bar) in the value may be any of them
//	re                            a regular expression (RE2, see below); sub-modifiers
//	                              i (ignorecase), m (multiline), s (dotall)
//	base64                        the value Base64-encoded
//	base64offset                  the three encodings of the value at byte offsets 0,
//	                              1 and 2 of a Base64 text; needs contains
//	utf16le (wide), utf16be, utf16
//	                              the value encoded as UTF-16 (utf16: little endian
//	                              after a byte order mark, as the appendix shows),
//	                              before base64 or base64offset
//	lt lte gt gte                 the field is a number (or a string holding one)
//	                              less / greater than the value, compared exactly
//	minute hour day week month year
//	                              the component of a timestamp field (RFC 3339 text
//	                              or epoch milliseconds) equals the value; calendar
//	                              fields as written, without time zone conversion;
//	                              week is the ISO 8601 week
//	cidr                          the field is an IP address in the network (IPv4 or
//	                              IPv6); a value that is not an address never matches
//	expand                        %name% placeholders are replaced by the values of
//	                              Spec.Placeholders (\% is a plain percent sign)
//	fieldref                      the field equals the value of the field the value
//	                              names; with contains, startswith or endswith, the
//	                              field contains / starts / ends with it
//
// Transformations apply in rule order, as the specification says, and the
// chain must make sense in that order: placeholders and dashes are
// expanded before a value is encoded, UTF-16 comes before Base64, and
// wildcards cannot be encoded (base64|contains is the encoded value
// anywhere; contains|base64 is refused). Base64 text is matched
// case-sensitively: its case carries the data. Unknown modifiers, a
// modifier given twice, and contradictory chains (contains with endswith,
// lt with gt, cidr with contains, re with base64, exists with anything…)
// are refused with an *Error whose Feature is "modifier".
//
// # Choices where the specification is silent
//
//   - neq: the field must hold a value (not null) and none of its values may
//     equal the value; an absent field does not match (use not with a
//     selection to match absence). Values are OR-ed as always, so
//     neq: [a, b] matches unless the field holds both a and b; neq|all:
//     [a, b] matches when it holds neither. neq takes the value's own modifiers:
//     neq|contains is "does not contain", neq|cidr "not in the network",
//     fieldref|neq "the fields differ" (both must hold values).
//   - re searches: the expression may match anywhere in the value unless it
//     anchors itself. Go's RE2 runs in linear time, so a rule cannot make
//     matching backtrack; PCRE constructs RE2 lacks (backreferences,
//     lookahead and lookbehind, atomic groups, possessive quantifiers,
//     recursion, conditionals, \Z…) are refused with an *Error of Feature
//     "re" naming the construct. Expressions are limited to 32 KiB.
//     re|startswith and re|endswith anchor the expression; re|contains
//     changes nothing.
//   - windash makes every dash character of the value interchangeable (the
//     appendix's wording), not only a leading one as pySigma does; a value
//     may hold at most 5 of them (5^5 variants).
//   - A placeholder absent from Spec.Placeholders is an error (Feature
//     "expand"); one present with no values makes its value match nothing.
//   - A number or bool value given with a string modifier (contains, re,
//     windash…) is used as its text.
//   - all with a single value is accepted and means the value.
//   - utf16le, utf16be and utf16 without base64 or base64offset match the
//     UTF-16 bytes themselves in the event's text (wildcards kept).
//   - Placeholders are expanded before dashes, whatever the order of expand
//     and windash.
//   - An item may compile into at most 1 MiB of patterns and 4,096 variants
//     of one value; a value may be 64 KiB long.
//
// # egovsoc extensions
//
//   - fieldref combined with lt, lte, gt or gte compares the field with the
//     referenced field as numbers when both are numbers (or strings holding
//     them), else as instants when both are timestamps (RFC 3339 or epoch
//     milliseconds). process.start|fieldref|lt: process.parent.start finds
//     a process that started before its parent (a spoofed parent).
//   - A time modifier combined with lt, lte, gt or gte compares the
//     component: @timestamp|hour|gte: 22 (after hours, as written).
//   - fieldref|cased compares case-sensitively.
//
// fieldref equality compares two JSON numbers as decimals and anything else
// as text ignoring case; with startswith, endswith or contains it compares
// text. Every pair of values of the two fields is tried.
//
// # Speed
//
// Matching does not allocate, keyword searches included (they walk
// Event.Scalars). Case-insensitive comparison has an ASCII
// fast path and decodes runes only where the text is not ASCII; substring
// search starts from the rarest byte of the literal with strings.IndexByte;
// lists of equality values become a map of folded strings, lists of
// prefixes and suffixes a trie walked from the start or end of the text,
// long lists of substrings an Automaton; regular expressions are skipped
// when the text is too short or lacks a literal they need. Needles tell the
// compiler's index which events can match at all.
package match
