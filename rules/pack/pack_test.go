package pack_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/egovsoc/egovsoc/rules/pack"
)

// These tests check the pack's structure without the Sigma engine: that every
// file parses, carries the metadata the SOC relies on, uses only the log
// sources and modifiers the engine supports, that correlations reference
// rules of their own file, and that every rule has its test data. Whether the
// test data actually matches is for `socctl rules test rules/pack`.

var update = flag.Bool("update", false, "rewrite the rule table of README.md")

var folders = []string{"auth", "dns", "network", "tls", "web"}

// allowedLogsources are the log sources the engine routes (see README.md).
var allowedLogsources = []map[string]string{
	{"category": "webserver"},
	{"category": "proxy"},
	{"product": "linux", "service": "auth"},
	{"product": "linux", "service": "sshd"},
	{"category": "authentication"},
	{"category": "firewall"},
	{"category": "flow"},
	{"category": "dns"},
	{"category": "tls"},
	{"product": "windows", "service": "security"},
}

var (
	knownModifiers = map[string]bool{
		"contains": true, "startswith": true, "endswith": true, "all": true, "exists": true, "cased": true, "neq": true,
		"re": true, "i": true, "m": true, "s": true, "base64": true, "base64offset": true, "windash": true,
		"utf16le": true, "utf16be": true, "utf16": true, "wide": true,
		"lt": true, "lte": true, "gt": true, "gte": true,
		"minute": true, "hour": true, "day": true, "week": true, "month": true, "year": true,
		"cidr": true, "expand": true, "fieldref": true,
	}
	tactics = map[string]bool{
		"reconnaissance": true, "resource-development": true, "initial-access": true, "execution": true,
		"persistence": true, "privilege-escalation": true, "defense-evasion": true, "credential-access": true,
		"discovery": true, "lateral-movement": true, "collection": true, "command-and-control": true,
		"exfiltration": true, "impact": true,
	}
	correlationTypes = map[string]bool{
		"event_count": true, "value_count": true, "temporal": true, "temporal_ordered": true,
		"value_sum": true, "value_avg": true, "value_percentile": true,
	}
	levels   = map[string]bool{"informational": true, "low": true, "medium": true, "high": true, "critical": true}
	statuses = map[string]bool{"stable": true, "test": true, "experimental": true}

	uuidRE      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	fileRE      = regexp.MustCompile(`^[a-z0-9_]+\.yml$`)
	nameRE      = regexp.MustCompile(`^[a-z0-9_]+$`)
	tagRE       = regexp.MustCompile(`^[a-z0-9_.-]+$`)
	techniqueRE = regexp.MustCompile(`^attack\.t[0-9]{4}(\.[0-9]{3})?$`)
	timespanRE  = regexp.MustCompile(`^[1-9][0-9]*[smhd]$`)
	condTokenRE = regexp.MustCompile(`\(|\)|[A-Za-z0-9_*]+`)
	// The regular expression flavour of the Sigma modifiers appendix: no
	// shorthand classes, no lookaround or inline flags, no lazy quantifiers.
	unsupportedRE = regexp.MustCompile(`\\[dDwWsSbBpPQEzAZ]|\(\?|[*+?}]\?`)
)

type doc struct {
	file string
	m    map[string]any
}

func (d doc) str(key string) string {
	s, _ := d.m[key].(string)
	return s
}

func (d doc) isCorrelation() bool { _, ok := d.m["correlation"]; return ok }

// ruleFile is one .yml of the pack with its documents.
type ruleFile struct {
	path string
	docs []doc
	// alerting are the documents that raise alerts: those no correlation of
	// the file references.
	alerting []doc
}

func loadPack(t *testing.T) []*ruleFile {
	t.Helper()
	fsys := pack.FS()
	paths, err := fs.Glob(fsys, "*/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no rule files embedded")
	}
	var out []*ruleFile
	for _, p := range paths {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			t.Fatal(err)
		}
		rf := &ruleFile{path: p}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var m map[string]any
			err := dec.Decode(&m)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if m == nil {
				t.Errorf("%s: empty YAML document", p)
				continue
			}
			rf.docs = append(rf.docs, doc{file: p, m: m})
		}
		referenced := map[string]bool{}
		for _, d := range rf.docs {
			if c, ok := d.m["correlation"].(map[string]any); ok {
				for _, r := range strList(c["rules"]) {
					referenced[r] = true
				}
			}
		}
		for _, d := range rf.docs {
			if !referenced[d.str("name")] && !referenced[d.str("id")] {
				rf.alerting = append(rf.alerting, d)
			}
		}
		out = append(out, rf)
	}
	return out
}

func strList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func TestLayout(t *testing.T) {
	fsys := pack.FS()
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, folders) {
		t.Errorf("folders = %v, want %v", got, folders)
	}
	for _, f := range folders {
		es, _ := fs.ReadDir(fsys, f)
		for _, e := range es {
			n := e.Name()
			switch {
			case strings.HasSuffix(n, ".test.yaml"):
				if _, err := fs.Stat(fsys, path.Join(f, strings.TrimSuffix(n, ".test.yaml")+".yml")); err != nil {
					t.Errorf("%s/%s: test file without a rule file", f, n)
				}
			case strings.HasSuffix(n, ".yml"):
				if !fileRE.MatchString(n) || len(n) < 10 || len(n) > 70 {
					t.Errorf("%s/%s: rule file names are 10 to 70 characters of [a-z0-9_] and .yml", f, n)
				}
			}
		}
	}
}

func TestRules(t *testing.T) {
	files := loadPack(t)
	ids := map[string]string{}
	titles := map[string]string{}
	names := map[string]string{}
	alerting := 0
	for _, rf := range files {
		for _, d := range rf.docs {
			where := rf.path + ": " + d.str("title")
			checkCommon(t, where, d, ids, titles, names)
			if d.isCorrelation() {
				checkCorrelation(t, where, d, rf)
			} else {
				checkDetection(t, where, d)
			}
		}
		if len(rf.alerting) != 1 {
			t.Errorf("%s: %d alerting rules; a file holds one detection rule, or one correlation and the rules it references", rf.path, len(rf.alerting))
		}
		for _, d := range rf.alerting {
			alerting++
			checkAlerting(t, rf.path+": "+d.str("title"), d)
		}
		for _, d := range rf.docs {
			if isAlerting(rf, d) {
				continue
			}
			if d.str("name") == "" {
				t.Errorf("%s: %s: a referenced rule needs a name", rf.path, d.str("title"))
			}
			for _, k := range []string{"level", "status", "tags", "falsepositives"} {
				if _, ok := d.m[k]; ok {
					t.Errorf("%s: %s: a rule referenced by a correlation does not alert; drop %q (only the outermost correlation carries it)", rf.path, d.str("title"), k)
				}
			}
		}
	}
	if alerting < 60 {
		t.Errorf("the pack has %d alerting rules, want at least 60", alerting)
	}
}

func isAlerting(rf *ruleFile, d doc) bool {
	for _, a := range rf.alerting {
		if a.str("id") == d.str("id") {
			return true
		}
	}
	return false
}

func checkCommon(t *testing.T, where string, d doc, ids, titles, names map[string]string) {
	t.Helper()
	id := d.str("id")
	if !uuidRE.MatchString(id) {
		t.Errorf("%s: id %q is not a lowercase UUID v4", where, id)
	} else if prev, dup := ids[id]; dup {
		t.Errorf("%s: id %s already used by %s", where, id, prev)
	}
	ids[id] = where
	title := d.str("title")
	if title == "" || len(title) > 256 {
		t.Errorf("%s: title must be 1 to 256 characters", where)
	} else if prev, dup := titles[title]; dup {
		t.Errorf("%s: title already used by %s", where, prev)
	}
	titles[title] = where
	if n := d.str("name"); n != "" {
		if !nameRE.MatchString(n) {
			t.Errorf("%s: name %q must be [a-z0-9_]", where, n)
		}
		if prev, dup := names[n]; dup {
			t.Errorf("%s: name %q already used by %s", where, n, prev)
		}
		names[n] = where
	}
	if d.str("author") != "egovsoc" {
		t.Errorf("%s: author must be egovsoc", where)
	}
	switch v := d.m["date"].(type) {
	case time.Time:
	case string:
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			t.Errorf("%s: date %q is not YYYY-MM-DD", where, v)
		}
	default:
		t.Errorf("%s: date missing", where)
	}
	if d.str("description") == "" {
		t.Errorf("%s: description missing", where)
	}
	if _, ok := d.m["generate"]; ok {
		t.Errorf("%s: generate is not used in the pack (referenced rules never alert on their own)", where)
	}
}

func checkAlerting(t *testing.T, where string, d doc) {
	t.Helper()
	if !statuses[d.str("status")] {
		t.Errorf("%s: status %q not stable, test or experimental", where, d.str("status"))
	}
	if !levels[d.str("level")] {
		t.Errorf("%s: level %q unknown", where, d.str("level"))
	}
	if fp := strList(d.m["falsepositives"]); len(fp) == 0 {
		t.Errorf("%s: falsepositives missing", where)
	}
	if refs, ok := d.m["references"]; ok && len(strList(refs)) == 0 {
		t.Errorf("%s: references must be a list of URLs", where)
	}
	var tactic, technique bool
	for _, tag := range strList(d.m["tags"]) {
		if !tagRE.MatchString(tag) {
			t.Errorf("%s: tag %q not [a-z0-9_.-]", where, tag)
		}
		if rest, ok := strings.CutPrefix(tag, "attack."); ok && tactics[rest] {
			tactic = true
		}
		if techniqueRE.MatchString(tag) {
			technique = true
		}
	}
	if !tactic || !technique {
		t.Errorf("%s: tags need an ATT&CK tactic (attack.<tactic>) and technique (attack.tNNNN)", where)
	}
}

func checkDetection(t *testing.T, where string, d doc) {
	t.Helper()
	ls, ok := d.m["logsource"].(map[string]any)
	if !ok {
		t.Errorf("%s: logsource missing", where)
	} else {
		got := map[string]string{}
		for k, v := range ls {
			if k == "definition" {
				continue
			}
			got[k], _ = v.(string)
		}
		if !slices.ContainsFunc(allowedLogsources, func(a map[string]string) bool { return mapsEqual(a, got) }) {
			t.Errorf("%s: logsource %v is not one the engine routes", where, got)
		}
	}
	det, ok := d.m["detection"].(map[string]any)
	if !ok {
		t.Errorf("%s: detection missing", where)
		return
	}
	cond, ok := det["condition"].(string)
	if !ok || cond == "" {
		t.Errorf("%s: condition missing (the pack uses one condition string)", where)
		return
	}
	var sels []string
	for name, body := range det {
		if name == "condition" {
			continue
		}
		sels = append(sels, name)
		switch body := body.(type) {
		case map[string]any:
			checkItems(t, where+": "+name, body)
		case []any:
			for _, alt := range body {
				m, ok := alt.(map[string]any)
				if !ok {
					t.Errorf("%s: %s: the pack uses field selections, not keyword lists", where, name)
					continue
				}
				checkItems(t, where+": "+name, m)
			}
		default:
			t.Errorf("%s: %s: selection must be a map or a list of maps", where, name)
		}
	}
	checkCondition(t, where, cond, sels)
}

func checkItems(t *testing.T, where string, items map[string]any) {
	t.Helper()
	for key, val := range items {
		field, mods, _ := strings.Cut(key, "|")
		if field == "" {
			t.Errorf("%s: %q: keyword searches are not used in the pack", where, key)
		}
		var ms []string
		if mods != "" {
			ms = strings.Split(mods, "|")
		}
		for _, m := range ms {
			if !knownModifiers[m] {
				t.Errorf("%s: %q: unknown modifier %q", where, key, m)
			}
		}
		values := []any{val}
		if l, ok := val.([]any); ok {
			values = l
		}
		has := func(m string) bool { return slices.Contains(ms, m) }
		for _, v := range values {
			switch {
			case has("re"):
				s, ok := v.(string)
				if !ok {
					t.Errorf("%s: %q: regex must be a string", where, key)
					continue
				}
				if unsupportedRE.MatchString(s) {
					t.Errorf("%s: %q: %q uses regex syntax outside the Sigma flavour", where, key, s)
				}
				prefix := ""
				if has("i") {
					prefix = "(?i)"
				}
				if _, err := regexp.Compile(prefix + s); err != nil {
					t.Errorf("%s: %q: %v", where, key, err)
				}
			case has("cidr"):
				s, _ := v.(string)
				if _, err := netip.ParsePrefix(s); err != nil {
					t.Errorf("%s: %q: %v", where, key, err)
				}
			case has("fieldref"):
				if s, ok := v.(string); !ok || s == "" {
					t.Errorf("%s: %q: fieldref needs a field name", where, key)
				}
			case has("lt") || has("lte") || has("gt") || has("gte"):
				switch v.(type) {
				case int, float64:
				default:
					t.Errorf("%s: %q: comparison needs a number, got %v", where, key, v)
				}
			case has("exists"):
				if _, ok := v.(bool); !ok {
					t.Errorf("%s: %q: exists needs true or false", where, key)
				}
			case has("base64offset") && !has("contains"):
				t.Errorf("%s: %q: base64offset is only meaningful with contains", where, key)
			}
		}
		if has("all") && len(values) < 2 {
			t.Errorf("%s: %q: all needs two or more values", where, key)
		}
	}
}

func checkCondition(t *testing.T, where, cond string, sels []string) {
	t.Helper()
	toks := condTokenRE.FindAllString(cond, -1)
	if strings.Join(toks, "") != strings.Join(strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(cond)), "") {
		t.Errorf("%s: condition %q has characters outside identifiers and parentheses", where, cond)
	}
	used := map[string]bool{}
	for i, tok := range toks {
		switch strings.ToLower(tok) {
		case "and", "or", "not", "of", "1", "all", "them", "(", ")":
			continue
		}
		if i > 0 && strings.ToLower(toks[i-1]) == "of" {
			re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(tok), `\*`, ".*") + "$")
			n := 0
			for _, s := range sels {
				if re.MatchString(s) {
					used[s] = true
					n++
				}
			}
			if n == 0 {
				t.Errorf("%s: condition pattern %q matches no selection", where, tok)
			}
			continue
		}
		if !slices.Contains(sels, tok) {
			t.Errorf("%s: condition names unknown selection %q", where, tok)
		}
		used[tok] = true
	}
	for _, s := range sels {
		if !used[s] {
			t.Errorf("%s: selection %q is not used by the condition", where, s)
		}
	}
}

func checkCorrelation(t *testing.T, where string, d doc, rf *ruleFile) {
	t.Helper()
	c, ok := d.m["correlation"].(map[string]any)
	if !ok {
		t.Errorf("%s: correlation must be a map", where)
		return
	}
	typ, _ := c["type"].(string)
	if !correlationTypes[typ] {
		t.Errorf("%s: correlation type %q unknown", where, typ)
	}
	if _, ok := c["generate"]; ok {
		t.Errorf("%s: generate is not used in the pack", where)
	}
	refs := strList(c["rules"])
	if len(refs) == 0 {
		t.Errorf("%s: correlation references no rules", where)
	}
	for _, r := range refs {
		found := false
		for _, o := range rf.docs {
			if o.str("name") == r && o.str("id") != d.str("id") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: references %q, which no other document of the file names", where, r)
		}
	}
	if (typ == "temporal" || typ == "temporal_ordered") && len(refs) < 2 {
		t.Errorf("%s: a temporal correlation needs two or more rules", where)
	}
	groupBy := strList(c["group-by"])
	if len(groupBy) == 0 {
		t.Errorf("%s: group-by missing", where)
	}
	if ts, _ := c["timespan"].(string); !timespanRE.MatchString(ts) {
		t.Errorf("%s: timespan %q is not <n>s|m|h|d", where, c["timespan"])
	}
	if aliases, ok := c["aliases"].(map[string]any); ok {
		for alias, m := range aliases {
			if !slices.Contains(groupBy, alias) {
				t.Errorf("%s: alias %q is not used in group-by", where, alias)
			}
			mm, _ := m.(map[string]any)
			for r := range mm {
				if !slices.Contains(refs, r) {
					t.Errorf("%s: alias %q maps rule %q, which the correlation does not reference", where, alias, r)
				}
			}
		}
	}
	if typ == "temporal" || typ == "temporal_ordered" {
		return
	}
	cond, ok := c["condition"].(map[string]any)
	if !ok {
		t.Errorf("%s: condition missing", where)
		return
	}
	ops := 0
	for k, v := range cond {
		switch k {
		case "gt", "gte", "lt", "lte", "eq":
			if _, ok := v.(int); !ok {
				t.Errorf("%s: condition %s must be an integer", where, k)
			}
			ops++
		case "field":
		default:
			t.Errorf("%s: condition key %q unknown", where, k)
		}
	}
	if ops == 0 {
		t.Errorf("%s: condition needs gt, gte, lt, lte or eq", where)
	}
	if f, _ := cond["field"].(string); (f == "") != (typ == "event_count") {
		t.Errorf("%s: %s needs a field exactly when it is not event_count", where, typ)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// testFile is the format of <name>.test.yaml.
type testFile struct {
	Match   []map[string]any `yaml:"match"`
	NoMatch []map[string]any `yaml:"no_match"`
	Cases   []struct {
		Name   string           `yaml:"name"`
		Expect map[string]int   `yaml:"expect"`
		Events []map[string]any `yaml:"events"`
	} `yaml:"cases"`
}

func TestTestFiles(t *testing.T) {
	fsys := pack.FS()
	cases := 0
	for _, rf := range loadPack(t) {
		tp := strings.TrimSuffix(rf.path, ".yml") + ".test.yaml"
		b, err := fs.ReadFile(fsys, tp)
		if err != nil {
			t.Errorf("%s: no test file %s", rf.path, tp)
			continue
		}
		var tf testFile
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&tf); err != nil {
			t.Errorf("%s: %v", tp, err)
			continue
		}
		alert := rf.alerting[0]
		single := !alert.isCorrelation()
		positive := len(tf.Match)
		if len(tf.Match) > 0 && !single {
			t.Errorf("%s: match is for files whose alerting rule is a single detection; use cases", tp)
		}
		seen := map[string]bool{}
		for _, c := range tf.Cases {
			if c.Name == "" || seen[c.Name] {
				t.Errorf("%s: case names must be present and unique (%q)", tp, c.Name)
			}
			seen[c.Name] = true
			if len(c.Events) == 0 {
				t.Errorf("%s: case %q has no events", tp, c.Name)
			}
			for k, n := range c.Expect {
				if k != alert.str("id") && k != alert.str("title") {
					t.Errorf("%s: case %q expects %q, which is not the file's alerting rule", tp, c.Name, k)
				}
				if n < 0 {
					t.Errorf("%s: case %q expects a negative count", tp, c.Name)
				}
				if n > 0 {
					positive += len(c.Events)
				}
			}
			checkEvents(t, fmt.Sprintf("%s: case %q", tp, c.Name), c.Events)
		}
		checkEvents(t, tp+": match", tf.Match)
		checkEvents(t, tp+": no_match", tf.NoMatch)
		if positive < 2 {
			t.Errorf("%s: needs two or more events that raise the rule (match, or cases expecting it)", tp)
		}
		if !single && positive == 0 {
			t.Errorf("%s: no case expects the correlation to fire", tp)
		}
		if len(tf.NoMatch) < 2 {
			t.Errorf("%s: needs two or more benign look-alikes in no_match", tp)
		}
		cases += len(tf.Match) + len(tf.NoMatch) + len(tf.Cases)
	}
	t.Logf("%d test cases", cases)
}

func checkEvents(t *testing.T, where string, evs []map[string]any) {
	t.Helper()
	for i, ev := range evs {
		e, ok := ev["event"].(map[string]any)
		if !ok {
			t.Errorf("%s[%d]: event object missing", where, i)
			continue
		}
		if _, ok := e["category"].([]any); !ok {
			t.Errorf("%s[%d]: event.category must be an array", where, i)
		}
		if ts, ok := ev["@timestamp"]; ok {
			s, _ := ts.(string)
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				t.Errorf("%s[%d]: @timestamp %v is not RFC 3339", where, i, ts)
			}
		}
	}
}

// TestReadme keeps the rule table of README.md in step with the rules;
// go test -run TestReadme -update rewrites it.
func TestReadme(t *testing.T) {
	const begin, end = "<!-- rules:begin -->\n", "<!-- rules:end -->\n"
	files := loadPack(t)
	var rows []string
	counts := map[string][2]int{}
	for _, rf := range files {
		d := rf.alerting[0]
		folder, file := path.Split(rf.path)
		folder = strings.TrimSuffix(folder, "/")
		kind := "single"
		n := counts[folder]
		if d.isCorrelation() {
			typ, _ := d.m["correlation"].(map[string]any)["type"].(string)
			kind = "correlation (" + typ + ")"
			n[1]++
		}
		n[0]++
		counts[folder] = n
		var attack []string
		for _, tag := range strList(d.m["tags"]) {
			if techniqueRE.MatchString(tag) {
				attack = append(attack, strings.ToUpper(strings.TrimPrefix(tag, "attack.")))
			}
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s | %s |", folder, strings.TrimSuffix(file, ".yml"),
			d.str("title"), d.str("level"), strings.Join(attack, ", "), kind))
	}
	sort.Strings(rows)
	var b strings.Builder
	b.WriteString(begin)
	total := [2]int{}
	var summary []string
	for _, f := range folders {
		c := counts[f]
		total[0] += c[0]
		total[1] += c[1]
		summary = append(summary, fmt.Sprintf("%s %d (%d correlations)", f, c[0], c[1]))
	}
	fmt.Fprintf(&b, "%d rules, %d of them correlations: %s.\n\n", total[0], total[1], strings.Join(summary, ", "))
	b.WriteString("| folder | file | title | level | ATT&CK | kind |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	b.WriteString(end)
	want := b.String()

	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(readme, []byte(begin))
	j := bytes.Index(readme, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("README.md: markers %q and %q not found", strings.TrimSpace(begin), strings.TrimSpace(end))
	}
	got := string(readme[i : j+len(end)])
	if got == want {
		return
	}
	if *update {
		out := append(append(append([]byte{}, readme[:i]...), want...), readme[j+len(end):]...)
		if err := os.WriteFile("README.md", out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md rule table is out of date; run go test ./rules/pack -run TestReadme -update")
}
