// Package bus carries ECS records over Kafka: a producer that returns only
// when the brokers acknowledged (acks=all), consumer-group readers that
// commit an offset only after the caller has handled the record, the topic
// names of egovsoc, and the embedded Kafka-protocol broker used by
// `socd demo` and the tests.
//
// All Kafka traffic goes through github.com/segmentio/kafka-go; the embedded
// broker is github.com/twmb/franz-go/pkg/kfake, spoken to over real TCP by
// the same kafka-go code that talks to a production cluster.
//
// Only cmd/ and the ingest wiring use this package; sensors, rules and the
// UI never import it.
package bus

import (
	"fmt"
	"regexp"
	"strings"
)

// Topics shared by the whole deployment.
const (
	TopicHeartbeats = "soc.heartbeats"
	TopicAlerts     = "soc.alerts"
	TopicDeadLetter = "soc.deadletter"

	eventsPrefix = "soc.events."
	checksPrefix = "soc.checks."
)

// Stream is what a topic carries.
type Stream uint8

// The streams.
const (
	StreamUnknown Stream = iota
	StreamEvents
	StreamChecks
	StreamHeartbeats
	StreamAlerts
	StreamDeadLetter
)

func (s Stream) String() string {
	return [...]string{"unknown", "events", "checks", "heartbeats", "alerts", "deadletter"}[s]
}

var orgCode = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,47}$`)

// ValidOrg reports whether code can name an organisation's topics.
func ValidOrg(code string) bool { return orgCode.MatchString(code) }

// EventsTopic is the topic of one organisation's telemetry.
func EventsTopic(org string) string { return eventsPrefix + org }

// ChecksTopic is the topic of one organisation's probe results.
func ChecksTopic(org string) string { return checksPrefix + org }

// ParseTopic tells what a topic carries and, for per-organisation topics,
// whose it is. The organisation of a record is taken from here and never from
// its payload: the credential that may write soc.events.hanoi speaks for
// Hà Nội and no one else.
func ParseTopic(topic string) (Stream, string) {
	switch topic {
	case TopicHeartbeats:
		return StreamHeartbeats, ""
	case TopicAlerts:
		return StreamAlerts, ""
	case TopicDeadLetter:
		return StreamDeadLetter, ""
	}
	if org, ok := strings.CutPrefix(topic, eventsPrefix); ok && ValidOrg(org) {
		return StreamEvents, org
	}
	if org, ok := strings.CutPrefix(topic, checksPrefix); ok && ValidOrg(org) {
		return StreamChecks, org
	}
	return StreamUnknown, ""
}

// OrgTopics lists the per-organisation topics of the given organisations.
func OrgTopics(orgs []string, streams ...Stream) ([]string, error) {
	var out []string
	for _, o := range orgs {
		if !ValidOrg(o) {
			return nil, fmt.Errorf("organisation code %q cannot name a topic", o)
		}
		for _, s := range streams {
			switch s {
			case StreamEvents:
				out = append(out, EventsTopic(o))
			case StreamChecks:
				out = append(out, ChecksTopic(o))
			default:
				return nil, fmt.Errorf("stream %s is not per organisation", s)
			}
		}
	}
	return out, nil
}
