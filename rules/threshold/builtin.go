package threshold

import (
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// Builtin is egovsoc's baseline pack of threshold rules: the behaviours every
// agency's traffic is checked for from the first day, before any Sigma rule
// is loaded.
func Builtin() []Rule {
	return []Rule{
		{
			ID: "egovsoc-ssh-bruteforce", Name: "SSH brute force",
			Description: "Many failed SSH logins from one source within two minutes.",
			Author:      "egovsoc", Severity: event.SeverityHigh,
			Tags: []string{"attack.credential_access", "attack.t1110"},
			Where: []Cond{
				{Field: "event.category", Equals: []string{"authentication"}},
				{Field: "event.outcome", Equals: []string{"failure"}},
				{Field: "process.name", Equals: []string{"sshd"}},
			},
			GroupBy: []string{"source.ip"}, Threshold: 10, Window: 2 * time.Minute,
		},
		{
			ID: "egovsoc-password-spray", Name: "Password spraying",
			Description: "Failed logins for many different accounts from one source within ten minutes.",
			Author:      "egovsoc", Severity: event.SeverityHigh,
			Tags: []string{"attack.credential_access", "attack.t1110.003"},
			Where: []Cond{
				{Field: "event.category", Equals: []string{"authentication"}},
				{Field: "event.outcome", Equals: []string{"failure"}},
			},
			GroupBy: []string{"source.ip"}, Distinct: "user.name", Threshold: 8, Window: 10 * time.Minute,
		},
		{
			ID: "egovsoc-web-scan", Name: "Web content scanning",
			Description: "Many requests answered 404 to one client within a minute: a scanner walking a wordlist.",
			Author:      "egovsoc", Severity: event.SeverityMedium,
			Tags: []string{"attack.reconnaissance", "attack.t1595.003"},
			Where: []Cond{
				{Field: "event.category", Equals: []string{"web"}},
				{Field: "http.response.status_code", Equals: []string{"404"}},
			},
			GroupBy: []string{"source.ip", "url.domain"}, Threshold: 30, Window: time.Minute,
		},
		{
			ID: "egovsoc-web-injection", Name: "Web injection attempt",
			Description: "A request carrying SQL injection, path traversal, command injection or script injection patterns.",
			Author:      "egovsoc", Severity: event.SeverityHigh,
			Tags: []string{"attack.initial_access", "attack.t1190"},
			Where: []Cond{
				{Field: "url.original", Contains: []string{
					"union select", "union%20select", "' or '1'='1", "%27%20or%20", "or 1=1", "sleep(", "benchmark(",
					"../", "..%2f", "%2e%2e", "/etc/passwd", "win.ini",
					"<script", "%3cscript", "javascript:", "onerror=",
					";wget ", ";curl ", "|nc ", "$(", "${jndi:",
				}},
			},
			GroupBy: []string{"source.ip", "url.domain"}, Threshold: 1, Window: 10 * time.Minute,
		},
		{
			ID: "egovsoc-port-scan", Name: "Port scan",
			Description: "One source reaching many distinct destination ports within a minute.",
			Author:      "egovsoc", Severity: event.SeverityMedium,
			Tags: []string{"attack.discovery", "attack.t1046"},
			Where: []Cond{
				{Field: "event.category", Equals: []string{"network"}},
				{Field: "network.transport", Equals: []string{"tcp", "udp"}},
			},
			GroupBy: []string{"source.ip", "destination.ip"}, Distinct: "destination.port", Threshold: 50, Window: time.Minute,
		},
		{
			ID: "egovsoc-dns-tunnel", Name: "DNS tunnelling",
			Description: "Many distinct long query names under one registered domain from one client within five minutes.",
			Author:      "egovsoc", Severity: event.SeverityHigh,
			Tags: []string{"attack.command_and_control", "attack.t1071.004", "attack.exfiltration", "attack.t1048"},
			Where: []Cond{
				{Field: "event.dataset", Equals: []string{"dns", "zeek.dns", "suricata.dns", "egovsoc.dns"}},
				{Field: "dns.question.name", MinLen: 45},
			},
			GroupBy: []string{"source.ip", "dns.question.registered_domain"}, Distinct: "dns.question.name", Threshold: 20, Window: 5 * time.Minute,
		},
	}
}
