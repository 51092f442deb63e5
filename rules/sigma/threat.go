package sigma

import (
	"slices"
	"strings"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// tactics are the ATT&CK Enterprise tactics by the name Sigma tags use
// (attack.credential-access; older rules write attack.credential_access).
var tactics = map[string]string{
	"reconnaissance":       "TA0043",
	"resource-development": "TA0042",
	"initial-access":       "TA0001",
	"execution":            "TA0002",
	"persistence":          "TA0003",
	"privilege-escalation": "TA0004",
	"defense-evasion":      "TA0005",
	"credential-access":    "TA0006",
	"discovery":            "TA0007",
	"lateral-movement":     "TA0008",
	"collection":           "TA0009",
	"command-and-control":  "TA0011",
	"exfiltration":         "TA0010",
	"impact":               "TA0040",
}

// threatOf reads the ATT&CK tactics and techniques from a rule's tags
// (Sigma tags appendix: attack.<tactic>, attack.tNNNN, attack.tNNNN.NNN).
// Groups (attack.gNNNN) and software (attack.sNNNN) stay tags only.
func threatOf(tags []string) event.Threat {
	var t event.Threat
	for _, tag := range tags {
		rest, ok := strings.CutPrefix(strings.ToLower(tag), "attack.")
		if !ok {
			continue
		}
		name := strings.ReplaceAll(rest, "_", "-")
		if id, ok := tactics[name]; ok {
			t.Tactics = append(t.Tactics, event.Tactic{ID: id, Name: name})
			continue
		}
		if !isTechnique(rest) {
			continue
		}
		id := strings.ToUpper(rest)
		if base, _, sub := strings.Cut(id, "."); sub {
			t.Subtechniques = append(t.Subtechniques, id)
			if !slices.Contains(t.Techniques, base) {
				t.Techniques = append(t.Techniques, base)
			}
			continue
		}
		if !slices.Contains(t.Techniques, id) {
			t.Techniques = append(t.Techniques, id)
		}
	}
	return t
}

// isTechnique reports whether s is tNNNN or tNNNN.NNN.
func isTechnique(s string) bool {
	if len(s) != 5 && len(s) != 9 || s[0] != 't' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if i == 5 {
			if c != '.' {
				return false
			}
			continue
		}
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
