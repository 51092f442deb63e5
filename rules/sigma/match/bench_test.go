package match

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// otherEvent matches none of allocCases' string items: the common case for
// a rule the index let through.
var otherEvent = []byte(`{
  "@timestamp": "2024-05-06T14:01:02Z",
  "winlog": {"event_id": 5156},
  "process": {"executable": "D:\\Apps\\Vendor\\agent\\updater-service.exe", "name": "updater-service.exe",
    "command_line": "\"D:\\Apps\\Vendor\\agent\\updater-service.exe\" --check --channel=stable --log-level=info --proxy=http://proxy.corp.example:8080"},
  "destination": {"ip": "203.0.113.9", "port": 443},
  "user": {"name": "SYSTEM"},
  "message": "Kết nối mạng được cho phép bởi tường lửa"
}`)

// BenchmarkMatch is the cost of one item on one event, per kind of item,
// on an event it matches and on one it does not.
func BenchmarkMatch(b *testing.B) {
	hit := mustEvent(b, benchEvent)
	miss := mustEvent(b, otherEvent)
	for _, c := range allocCases {
		m, err := Compile(c.spec)
		if err != nil {
			b.Fatal(err)
		}
		for _, ev := range []struct {
			name string
			e    any
		}{{"hit", hit}, {"miss", miss}} {
			e := hit
			if ev.name == "miss" {
				e = miss
			}
			b.Run(c.name+"/"+ev.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					m.Match(e)
				}
			})
		}
	}
}

// BenchmarkMatchKeyword: a keyword search walks every field.
func BenchmarkMatchKeyword(b *testing.B) {
	e := mustEvent(b, benchEvent)
	m, err := Compile(Spec{Values: strs("event::clear", "event::drop")})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m.Match(e)
	}
}

// BenchmarkEndswithList: a long endswith list (SigmaHQ's suspicious image
// lists), the most common item of the corpus.
func BenchmarkEndswithList(b *testing.B) {
	var vals []Value
	for _, n := range strings.Fields("cmd powershell pwsh wscript cscript mshta rundll32 regsvr32 certutil bitsadmin " +
		"msbuild installutil regasm regsvcs cmstp wmic forfiles schtasks sc reg net net1 whoami nltest") {
		vals = append(vals, Value{Raw: `\` + n + ".exe"})
	}
	m, err := Compile(Spec{Fields: []string{"process.executable"}, Modifiers: []string{"endswith"}, Values: vals})
	if err != nil {
		b.Fatal(err)
	}
	e := mustEvent(b, otherEvent)
	b.ReportAllocs()
	for b.Loop() {
		m.Match(e)
	}
}

// automatonText is log-like text: paths, flags, words, numbers.
func automatonText(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields(`c:\windows\system32\ powershell.exe -noprofile -executionpolicy bypass cmd.exe /c
		whoami net user /add http://10.1.2.3/payload invoke-expression downloadstring svchost.exe -k netsvcs
		rundll32.exe shell32.dll,control_rundll %appdata% \appdata\local\temp\ certutil -urlcache -split -f
		đăng nhập thất bại người dùng hệ thống reg add hklm\software\microsoft\windows\currentversion\run`)
	var sb strings.Builder
	for sb.Len() < n {
		if r.IntN(8) == 0 {
			sb.WriteString(strconv.Itoa(r.IntN(100000)))
		} else {
			sb.WriteString(words[r.IntN(len(words))])
		}
		sb.WriteByte(' ')
	}
	return sb.String()[:n]
}

// automatonPatterns makes n patterns of 4 to 20 bytes, mostly absent from
// the text (as index needles are), a few taken from it.
func automatonPatterns(n int) []string {
	r := rand.New(rand.NewPCG(3, 4))
	const alpha = `abcdefghijklmnopqrstuvwxyz0123456789\.-_/: `
	out := make([]string, n)
	for i := range out {
		l := 4 + r.IntN(17)
		b := make([]byte, l)
		for j := range b {
			b[j] = alpha[r.IntN(len(alpha))]
		}
		out[i] = string(b)
	}
	for i, p := range []string{"bypass", "\\appdata\\local\\temp\\", "downloadstring", "whoami"} {
		if i < n {
			out[i] = p
		}
	}
	return out
}

// BenchmarkAutomaton reports throughput (MB/s) over 64 KiB of log text.
func BenchmarkAutomaton(b *testing.B) {
	text := automatonText(64 << 10)
	for _, n := range []int{10, 1000, 20000} {
		a := NewAutomaton(automatonPatterns(n))
		b.Run(strconv.Itoa(n)+"/Match", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			hits := 0
			for b.Loop() {
				a.Match(text, func(int) { hits++ })
			}
			_ = hits
		})
		b.Run(strconv.Itoa(n)+"/Contains-miss", func(b *testing.B) {
			// A text none of the patterns is in: the automaton reads it all.
			t := strings.Repeat("x", len(text))
			b.SetBytes(int64(len(t)))
			for b.Loop() {
				a.Contains(t)
			}
		})
	}
}

// BenchmarkNewAutomaton is the build cost the compiler pays per index.
func BenchmarkNewAutomaton(b *testing.B) {
	for _, n := range []int{1000, 20000} {
		pats := automatonPatterns(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				NewAutomaton(pats)
			}
		})
	}
}

// BenchmarkPrefixSet: SigmaHQ's private-range lists and a large list.
func BenchmarkPrefixSet(b *testing.B) {
	m, err := Compile(Spec{Fields: []string{"destination.ip"}, Modifiers: []string{"cidr"},
		Values: strs("127.0.0.0/8", "10.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fe80::/10", "fc00::/7")})
	if err != nil {
		b.Fatal(err)
	}
	e := mustEvent(b, otherEvent)
	b.Run("private", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Match(e)
		}
	})
}
