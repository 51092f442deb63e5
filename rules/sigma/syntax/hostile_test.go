package syntax

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// hostileFiles are files of a quarter of MaxFileSize (enough for anything
// worse than linear to show) shaped to make a parser slow:
// many nodes, many search identifiers against many patterns, long lines,
// many documents. Each must parse, or fail, in about linear time; the test
// logs how long each took (go test -v) and relies on the test timeout for
// anything worse.
func hostileFiles() map[string]string {
	const size = MaxFileSize/4 - 64<<10
	head := "title: t\nlogsource: {product: p}\n"
	files := make(map[string]string)

	var b strings.Builder
	b.WriteString(head + "custom: [")
	for b.Len() < size {
		b.WriteString("a,")
	}
	b.WriteString("a]\n")
	files["many nodes"] = b.String()

	b.Reset()
	b.WriteString(head + "detection:\n")
	n := 0
	for b.Len() < size-MaxConditionLength*2 {
		fmt.Fprintf(&b, "    s%d: x\n", n)
		n++
	}
	b.WriteString("    condition:\n        - " + strings.Repeat("1 of *s*1*2*3*4 and ", MaxConditionLength/21) + "all of them\n")
	b.WriteString("        - " + strings.Repeat("S1 or ", MaxConditionLength/7) + "s1\n")
	files["patterns against many identifiers"] = b.String()

	b.Reset()
	b.WriteString(head + "detection:\n    sel: x\n    condition:\n")
	for b.Len() < size {
		b.WriteString("        - " + strings.Repeat("nope or ", 1000) + "sel\n")
	}
	files["many unknown references"] = b.String()

	files["long scalar"] = head + "description: '" + strings.Repeat("x", size) + "'\n"
	b.Reset()
	b.WriteString(head + "detection:\n")
	for i := 0; b.Len() < size-MaxConditionLength; i++ {
		fmt.Fprintf(&b, "    %s%d: x\n", strings.Repeat("k", 1000), i) // YAML's longest key
	}
	b.WriteString("    condition: 1 of " + strings.Repeat("*k", MaxConditionLength/4) + "x\n")
	files["long keys against a long pattern"] = b.String()

	b.Reset()
	b.WriteString(head + "big:\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "    k%d: v\n", i)
	}
	files["many keys"] = b.String()

	b.Reset()
	for b.Len() < size {
		b.WriteString("---\n")
	}
	files["many empty documents"] = b.String()

	b.Reset()
	for b.Len() < size {
		b.WriteString("---\n" + head + "detection: {sel: a, condition: sel}\n")
	}
	files["many documents"] = b.String()

	b.Reset()
	b.WriteString(head + "correlation:\n    type: temporal\n    group-by: [g]\n    timespan: 1m\n    rules:\n")
	for i := 0; b.Len() < size/2; i++ {
		fmt.Fprintf(&b, "        - r%d\n", i)
	}
	b.WriteString("    aliases:\n        g:\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "            r%d: f\n", i)
	}
	files["large correlation"] = strings.Replace(b.String(), "logsource: {product: p}\n", "", 1)
	return files
}

func TestHostileFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("large inputs")
	}
	files := hostileFiles()
	for _, name := range sortedKeys(files) {
		t.Run(name, func(t *testing.T) {
			data := []byte(files[name])
			start := time.Now()
			docs, errs := ParseFile("h.yml", data)
			first := ""
			if len(errs) > 0 {
				first = errs[0].Error()
			}
			t.Logf("%d bytes, %d documents, %d errors in %v %s", len(data), len(docs), len(errs), time.Since(start), first)
		})
	}
}
