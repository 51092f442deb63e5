package event

import (
	"encoding/json"
	"fmt"
	"time"
)

// Severity of an alert, following Sigma's levels.
type Severity string

// The severities, lowest first.
const (
	SeverityInformational Severity = "informational"
	SeverityLow           Severity = "low"
	SeverityMedium        Severity = "medium"
	SeverityHigh          Severity = "high"
	SeverityCritical      Severity = "critical"
)

// Rank orders severities: 1 for informational up to 5 for critical, 0 if
// unknown. It is what ECS event.severity carries.
func (s Severity) Rank() int {
	switch s {
	case SeverityInformational:
		return 1
	case SeverityLow:
		return 2
	case SeverityMedium:
		return 3
	case SeverityHigh:
		return 4
	case SeverityCritical:
		return 5
	}
	return 0
}

// ParseSeverity accepts a severity name.
func ParseSeverity(s string) (Severity, error) {
	if sev := Severity(s); sev.Rank() > 0 {
		return sev, nil
	}
	return "", fmt.Errorf("unknown severity %q", s)
}

// Alert status in the analyst's workflow.
const (
	StatusOpen         = "open"
	StatusAcknowledged = "acknowledged"
	StatusClosed       = "closed"
)

// Rule identifies what raised an alert (ECS rule.*). Author must be shown
// with every alert raised by a Sigma rule (Detection Rule License).
type Rule struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Version     string   `json:"version,omitempty"`
	Author      string   `json:"author,omitempty"`
	Description string   `json:"description,omitempty"`
	Category    string   `json:"category,omitempty"`
	Ruleset     string   `json:"ruleset,omitempty"`
	Reference   string   `json:"reference,omitempty"`
	License     string   `json:"license,omitempty"`
	Tags        []string `json:"-"` // ATT&CK and other tags travel as the alert's tags
}

// Threat is what an alert says about the adversary, in MITRE ATT&CK terms
// (ECS threat.*): the tactics and techniques its rule is tagged with.
type Threat struct {
	Tactics       []Tactic // TA0001 "initial-access", …
	Techniques    []string // T1190
	Subtechniques []string // T1059.001
}

// Tactic is an ATT&CK tactic: its id (TA0006) and name (credential-access).
type Tactic struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Empty reports whether no tactic or technique is known.
func (t Threat) Empty() bool {
	return len(t.Tactics) == 0 && len(t.Techniques) == 0 && len(t.Subtechniques) == 0
}

// Alert is what a detector raises. Its ID is deterministic (see ID): the same
// detection over the same events gives the same id, so a replay overwrites.
type Alert struct {
	ID        string
	Time      time.Time // time of the activity: the last event that raised it
	Org       string    // organisation of the events behind it
	Detector  string    // the detector that raised it
	Rule      Rule
	Severity  Severity
	Title     string
	Status    string            // StatusOpen when raised
	Group     map[string]string // the values it is about, by ECS field (source.ip, user.name, …)
	Count     int               // events that matched
	EventIDs  []string          // document ids of the events behind it, at most MaxAlertEvents
	FirstSeen time.Time
	LastSeen  time.Time
	Created   time.Time // when the detector raised it

	Threat         Threat
	References     []string          // where to read about what the rule detects
	FalsePositives []string          // what else the rule is known to match
	Matched        map[string]string // the fields and values that made it match, by ECS field
}

// MaxAlertEvents bounds Alert.EventIDs.
const MaxAlertEvents = 100

// alertWire is the ECS shape of an alert on the wire and in the store.
type alertWire struct {
	Timestamp time.Time `json:"@timestamp"`
	Message   string    `json:"message"`
	Event     struct {
		Kind     string    `json:"kind"`
		ID       string    `json:"id"`
		Severity int       `json:"severity"`
		Dataset  string    `json:"dataset"`
		Provider string    `json:"provider"`
		Created  time.Time `json:"created"`
		Start    time.Time `json:"start"`
		End      time.Time `json:"end"`
	} `json:"event"`
	Organization struct {
		ID string `json:"id"`
	} `json:"organization"`
	Rule    Rule        `json:"rule"`
	Tags    []string    `json:"tags,omitempty"`
	Threat  *threatWire `json:"threat,omitempty"`
	Related struct {
		IP    []string `json:"ip,omitempty"`
		User  []string `json:"user,omitempty"`
		Hosts []string `json:"hosts,omitempty"`
	} `json:"related"`
	Egovsoc struct {
		Alert struct {
			Status   string            `json:"status"`
			Severity Severity          `json:"severity"`
			Count    int               `json:"count"`
			Group    map[string]string `json:"group,omitempty"`
			EventIDs []string          `json:"event_ids,omitempty"`
			Matched  map[string]string `json:"matched,omitempty"`
			// References and FalsePositives: ECS rule.reference holds one
			// URL, so the whole list travels here.
			References     []string `json:"references,omitempty"`
			FalsePositives []string `json:"false_positives,omitempty"`
		} `json:"alert"`
	} `json:"egovsoc"`
}

// threatWire is ECS threat.*: parallel arrays of ids and names.
type threatWire struct {
	Framework string `json:"framework"`
	Tactic    struct {
		ID   []string `json:"id,omitempty"`
		Name []string `json:"name,omitempty"`
	} `json:"tactic"`
	Technique struct {
		ID           []string `json:"id,omitempty"`
		Subtechnique struct {
			ID []string `json:"id,omitempty"`
		} `json:"subtechnique"`
	} `json:"technique"`
}

// MarshalJSON writes the alert as an ECS document (event.kind "alert").
func (a *Alert) MarshalJSON() ([]byte, error) {
	var w alertWire
	w.Timestamp = a.Time.UTC()
	w.Message = a.Title
	w.Event.Kind = "alert"
	w.Event.ID = a.ID
	w.Event.Severity = a.Severity.Rank()
	w.Event.Dataset = "egovsoc.alert"
	w.Event.Provider = a.Detector
	w.Event.Created = a.Created.UTC()
	w.Event.Start = a.FirstSeen.UTC()
	w.Event.End = a.LastSeen.UTC()
	w.Organization.ID = a.Org
	w.Rule = a.Rule
	w.Tags = a.Rule.Tags
	for k, v := range a.Group {
		switch k {
		case "source.ip", "destination.ip", "client.ip", "server.ip", "host.ip":
			w.Related.IP = append(w.Related.IP, v)
		case "user.name", "user.target.name":
			w.Related.User = append(w.Related.User, v)
		case "host.name", "url.domain", "dns.question.registered_domain":
			w.Related.Hosts = append(w.Related.Hosts, v)
		}
	}
	w.Egovsoc.Alert.Status = a.Status
	w.Egovsoc.Alert.Severity = a.Severity
	w.Egovsoc.Alert.Count = a.Count
	w.Egovsoc.Alert.Group = a.Group
	w.Egovsoc.Alert.EventIDs = a.EventIDs
	w.Egovsoc.Alert.Matched = a.Matched
	w.Egovsoc.Alert.References = a.References
	w.Egovsoc.Alert.FalsePositives = a.FalsePositives
	if !a.Threat.Empty() {
		t := &threatWire{Framework: "MITRE ATT&CK"}
		for _, ta := range a.Threat.Tactics {
			t.Tactic.ID = append(t.Tactic.ID, ta.ID)
			t.Tactic.Name = append(t.Tactic.Name, ta.Name)
		}
		t.Technique.ID = a.Threat.Techniques
		t.Technique.Subtechnique.ID = a.Threat.Subtechniques
		w.Threat = t
	}
	return json.Marshal(&w)
}

// UnmarshalJSON reads an alert written by MarshalJSON.
func (a *Alert) UnmarshalJSON(b []byte) error {
	var w alertWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = Alert{
		ID:        w.Event.ID,
		Time:      w.Timestamp,
		Org:       w.Organization.ID,
		Detector:  w.Event.Provider,
		Rule:      w.Rule,
		Severity:  w.Egovsoc.Alert.Severity,
		Title:     w.Message,
		Status:    w.Egovsoc.Alert.Status,
		Group:     w.Egovsoc.Alert.Group,
		Count:     w.Egovsoc.Alert.Count,
		EventIDs:  w.Egovsoc.Alert.EventIDs,
		FirstSeen: w.Event.Start,
		LastSeen:  w.Event.End,
		Created:   w.Event.Created,
	}
	a.Rule.Tags = w.Tags
	a.Matched = w.Egovsoc.Alert.Matched
	a.References = w.Egovsoc.Alert.References
	a.FalsePositives = w.Egovsoc.Alert.FalsePositives
	if t := w.Threat; t != nil {
		for i, id := range t.Tactic.ID {
			ta := Tactic{ID: id}
			if i < len(t.Tactic.Name) {
				ta.Name = t.Tactic.Name[i]
			}
			a.Threat.Tactics = append(a.Threat.Tactics, ta)
		}
		a.Threat.Techniques = t.Technique.ID
		a.Threat.Subtechniques = t.Technique.Subtechnique.ID
	}
	return a.Validate()
}

// Validate checks what every consumer of an alert relies on.
func (a *Alert) Validate() error {
	switch {
	case a.ID == "":
		return fmt.Errorf("alert: event.id is missing")
	case a.Org == "":
		return fmt.Errorf("alert %s: organization.id is missing", a.ID)
	case a.Rule.ID == "" || a.Rule.Name == "":
		return fmt.Errorf("alert %s: rule.id and rule.name are required", a.ID)
	case a.Severity.Rank() == 0:
		return fmt.Errorf("alert %s: unknown severity %q", a.ID, a.Severity)
	case a.Time.IsZero():
		return fmt.Errorf("alert %s: @timestamp is missing", a.ID)
	}
	switch a.Status {
	case StatusOpen, StatusAcknowledged, StatusClosed:
	default:
		return fmt.Errorf("alert %s: unknown status %q", a.ID, a.Status)
	}
	return nil
}
