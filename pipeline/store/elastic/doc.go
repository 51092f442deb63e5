// Package elastic is the production store: the store.Store contract on an
// Elasticsearch 8 cluster (8.7 or later), through
// github.com/elastic/go-elasticsearch/v8.
//
// Open installs, idempotently, what the store needs in the cluster: ILM
// lifecycle policies (rollover by age and primary shard size, deletion after
// a retention of 180 days for events and 400 for alerts and checks by
// default), component templates with the ECS mappings the pipeline relies
// on (event.Schema: keyword, date, ip, long; message as match_only_text;
// every other string a keyword), and index templates. Events and checks go
// to one data stream each (PREFIX-events, PREFIX-checks); alerts, which
// triage and re-emissions update later, go to regular monthly indices by
// the month they were first seen (PREFIX-alerts-YYYY.MM.01). layout.go
// explains the choices.
//
// Write sends bulk requests of "create" actions (create-if-absent) and
// reports a result per document: stored, store.ErrUnavailable (retry) or
// store.ErrRejected (dead-letter). An alert whose create finds it stored is
// merged into the stored alert with optimistic concurrency control: read
// with its _seq_no and _primary_term, merged in Go (store.MergeAlertDoc),
// and indexed back with if_seq_no and if_primary_term, or read again if
// another writer came in between (merge.go). Reads are query DSL searches that always
// carry the caller's scope as a filter, page with search_after, and count
// exactly (track_total_hits).
//
// Tests run the store conformance suite against the HTTP double in
// package estest, and against a real cluster when
// EGOVSOC_TEST_ELASTICSEARCH_URL is set.
//
// Only cmd/ imports this package. It must never import the other store
// implementations, the bus, or anything above pipeline/event and
// pipeline/store.
package elastic
