// Package correlate is the stateful half of Sigma correlation rules: given
// the matches of base rules ("observations": rule, event time, event id and
// the values of a few fields), it keeps per-group windows and reports when a
// correlation's condition holds. It knows no events and no YAML; the Sigma
// engine (package sigma) parses rules, extracts the fields Engine.Fields
// asks for and turns Results into alerts.
//
// It implements the Sigma correlation rules specification v2.1:
// event_count, value_count, temporal, temporal_ordered and the metric types
// value_sum, value_avg, value_min, value_max and value_percentile, plus
// value_median (pySigma's 50th percentile); group-by, aliases, timespan,
// conditions gt, gte, lt, lte, eq, neq and two-sided ranges, chaining
// (a correlation referring to correlations) and generate; and, ahead of
// v2.2, the boolean conditions of temporal correlations over their rules
// (Condition.Expr, "a and not b", as pySigma reads them).
//
// It imports only the standard library, and must never import the engine,
// the event model or anything that does I/O.
//
// # Time
//
// Time is event time. The watermark of an Engine is the newest event time
// it has seen minus Options.AllowedLateness. An observation older than the
// watermark is late: it is dropped and counted in Stats.Late. Observations
// at or after the watermark may arrive in any order. Event times are
// handled in nanoseconds and clamped to ±146 years around 1970.
//
// # Two ways to decide
//
// A condition that, once it holds for a window, cannot stop holding when
// more events join the window is decided eagerly, on sliding windows: the
// lower bounds gt and gte of event_count, value_count, temporal,
// temporal_ordered, value_sum (values are taken to be non-negative) and
// value_max, and the upper bounds lt and lte of value_min. The correlation
// matches as soon as some window of length Timespan holds it; the result
// comes from the Observe call whose observation completed it. A window is
// the closed interval [end−Timespan, end] that ends at an event, so two
// events exactly Timespan apart are within it. For observations in order
// that is the window ending at the observation; an observation that arrives
// out of order is checked in every window ending at a later event within
// Timespan of it.
//
// A temporal condition expression without "not" is eager too; with "not"
// it is decided at window close (b did not happen is only known then).
//
// Every other condition — lt, lte, eq, neq or a range on a count, any
// condition on value_avg, value_percentile or value_median, gt/gte on
// value_min, lt/lte on value_max and value_sum — can only be decided once a
// window is complete: fewer than 5 events in an hour is true after the first
// event and false after the fifth, until the hour is over. These are
// decided on tumbling windows [k·Timespan, (k+1)·Timespan) aligned to the
// Unix epoch (the buckets a SIEM backend's query uses), when the watermark
// reaches the window's end: by Observe, when an observation moves the
// watermark, or by Advance. A group exists only once an event arrives, so
// a window never matches with zero events: a correlation cannot report the
// absence of events for a group it has never seen.
//
// # Re-arming
//
// A tumbling window is decided once, so a group matches at most once per
// window. A sliding group that matches with a window ending at time T
// consumes its events up to T: later windows count only events after T,
// and it does not match again with a window that ends before T+Timespan
// (such a window is counted in Stats.Suppressed). Events during that hold
// still accumulate: a group whose events keep the condition true matches
// once per Timespan, like a backend's one alert per group per window. An
// observation at or before T of a group that matched at T is dropped
// (Stats.Consumed).
//
// # Types
//
// event_count counts events; value_count counts the distinct non-empty
// values of Condition.Field; temporal counts the distinct referenced rules
// that matched in the window (default condition: all of them); and
// temporal_ordered the length of the longest run of referenced rules that
// matched in the order of Spec.Rules at non-decreasing times (default: all
// of them, in order). The value_* metric types parse Condition.Field as a
// decimal number; an observation whose value is absent or not a number is
// ignored by that correlation (Stats.MissingValue), like an SQL aggregate
// ignores NULL. value_percentile interpolates linearly between the closest
// ranks (p=50 is the median).
//
// An observation missing any group-by value is ignored by that correlation
// (Stats.MissingGroup): a missing user is no user, and must not make one
// group of all the events that lack it.
//
// # Memory
//
// Every per-group structure is bounded. Sliding event_count, value_sum,
// value_min and value_max keep one cell per occupied slot of width
// Timespan/Options.Resolution (with the exact times of its first and last
// event), so a group holds at most about
// Resolution·(1+AllowedLateness/Timespan)+2 cells however many events it
// counts. A window is exact to a
// slot: a cell straddling the window's start counts as the one event known
// to be inside, so windows never claim events they cannot prove are within
// Timespan, and may miss events up to one slot older than Timespan.
// value_count keeps each distinct value with the time it was last seen, at
// most the number the condition needs (New checks that this fits
// Options.MaxValuesPerGroup); temporal types keep the Options.MaxOccurrences
// newest occurrence times per rule; tumbling windows keep aggregates, with
// up to Options.MaxValuesPerGroup samples for percentiles (a reservoir
// beyond). Groups are dropped when nothing they hold can matter any more,
// and Options.MaxGroups bounds them all: past it the group that would expire
// first is evicted (Stats.Evicted).
//
// # Chaining
//
// A correlation may refer to other correlations by ID or Name. Their
// results are events for it, at Result.At, with the group's values as
// fields: the referring correlation's group-by (and value) fields, resolved
// through its aliases for that rule, must be group-by fields of the
// correlation it refers to, as that one writes them. Chained results are
// never late. Results of a correlation other correlations refer to have
// Emit false unless one of them sets Generate; Engine.Standalone answers the
// same for base rules.
//
// # State
//
// An Engine holds the state of one stream and is not safe for concurrent
// use. Snapshot writes it (versioned, checksummed) and Restore reads it
// back after a restart, keeping the groups of correlations whose spec is
// unchanged. Taking a snapshot after every batch the stream has committed
// keeps windows in progress across restarts.
package correlate
