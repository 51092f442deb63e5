package match

import (
	"testing"
)

// benchEvent is a Sysmon-like process creation event in ECS.
var benchEvent = []byte(`{
  "@timestamp": "2024-05-06T03:15:00.123Z",
  "event": {"code": 1, "category": ["process"], "action": "Process Create"},
  "winlog": {"event_id": 4688, "channel": "Microsoft-Windows-Sysmon/Operational"},
  "host": {"name": "WS-0142.corp.example.gov.vn", "ip": ["10.20.30.40", "fe80::1"]},
  "user": {"name": "nguyen.van.a", "domain": "CORP"},
  "process": {
    "pid": 4242,
    "executable": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    "name": "powershell.exe",
    "command_line": "powershell.exe -NoProfile -ExecutionPolicy Bypass -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA",
    "parent": {"executable": "C:\\Windows\\explorer.exe", "name": "explorer.exe", "user": {"name": "nguyen.van.a"}},
    "start": "2024-05-06T03:15:00Z"
  },
  "destination": {"ip": "192.168.10.5", "port": 3389},
  "message": "Đăng nhập thành công vào hệ thống"
}`)

// allocCases are the common items: each must match benchEvent without
// allocating.
var allocCases = []struct {
	name string
	spec Spec
}{
	{"equal", Spec{Fields: []string{"process.name"}, Values: []Value{{Raw: "POWERSHELL.EXE"}}}},
	{"equal-map", Spec{Fields: []string{"process.name"}, Values: strs("cmd.exe", "pwsh.exe", "wscript.exe", "cscript.exe", "powershell.exe")}},
	{"equal-unicode", Spec{Fields: []string{"message"}, Values: strs("ĐĂNG NHẬP THÀNH CÔNG VÀO HỆ THỐNG")}},
	{"contains", Spec{Fields: []string{"process.command_line"}, Modifiers: []string{"contains"}, Values: strs("-encodedcommand")}},
	{"contains-letters", Spec{Fields: []string{"process.command_line"}, Modifiers: []string{"contains"}, Values: strs("bypass")}},
	{"contains-list", Spec{Fields: []string{"process.command_line"}, Modifiers: []string{"contains"}, Values: strs("mimikatz", "-w hidden", "downloadstring", "iex(", "-encodedcommand")}},
	{"contains-automaton", Spec{Fields: []string{"process.command_line"}, Modifiers: []string{"contains"}, Values: strs("mimikatz", "-w hidden", "downloadstring", "iex(", "sekurlsa", "lsadump", "invoke-", "frombase64string", "net.webclient", "bitstransfer", "-nop ", "hidden", "reflection.assembly", "vaultcmd", "procdump", "comsvcs", "-encodedcommand")}},
	{"contains-all", Spec{Fields: []string{"process.command_line"}, Modifiers: []string{"contains", "all"}, Values: strs("-noprofile", "bypass")}},
	{"contains-unicode", Spec{Fields: []string{"message"}, Modifiers: []string{"contains"}, Values: strs("THÀNH CÔNG")}},
	{"startswith", Spec{Fields: []string{"process.executable"}, Modifiers: []string{"startswith"}, Values: strs("c:\\windows\\")}},
	{"endswith", Spec{Fields: []string{"process.executable"}, Modifiers: []string{"endswith"}, Values: strs("\\cmd.exe", "\\powershell.exe")}},
	{"glob", Spec{Fields: []string{"process.executable"}, Values: strs("c:\\windows\\\\*\\powershell.exe")}},
	{"windash", Spec{Fields: []string{"process.command_line"}, Modifiers: []string{"contains", "windash"}, Values: strs(" -ep ", " -executionpolicy ")}},
	{"base64offset", Spec{Fields: []string{"process.command_line"}, Modifiers: []string{"wide", "base64offset", "contains"}, Values: strs("IEX (New-Object")}},
	{"re", Spec{Fields: []string{"process.command_line"}, Modifiers: []string{"re", "i"}, Values: strs(`-enc(odedcommand)?\s+[a-z0-9+/=]{20,}`)}},
	{"number", Spec{Fields: []string{"winlog.event_id"}, Values: []Value{{Kind: Number, Raw: "4624"}, {Kind: Number, Raw: "4688"}}}},
	{"bool-null", Spec{Fields: []string{"process.missing"}, Values: []Value{{Kind: Null}}}},
	{"cidr", Spec{Fields: []string{"destination.ip"}, Modifiers: []string{"cidr"}, Values: strs("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")}},
	{"cidr-v6", Spec{Fields: []string{"host.ip"}, Modifiers: []string{"cidr"}, Values: strs("fe80::/10")}},
	{"gte", Spec{Fields: []string{"destination.port"}, Modifiers: []string{"gte"}, Values: []Value{{Kind: Number, Raw: "1024"}}}},
	{"hour", Spec{Fields: []string{"@timestamp"}, Modifiers: []string{"hour"}, Values: []Value{{Kind: Number, Raw: "3"}}}},
	{"exists", Spec{Fields: []string{"process.parent.name"}, Modifiers: []string{"exists"}, Values: []Value{{Kind: Bool, Raw: "true"}}}},
	{"neq", Spec{Fields: []string{"user.name"}, Modifiers: []string{"neq"}, Values: strs("SYSTEM")}},
	{"fieldref", Spec{Fields: []string{"user.name"}, Modifiers: []string{"fieldref"}, Values: strs("process.parent.user.name")}},
	{"fieldref-lt", Spec{Fields: []string{"process.parent.user.name"}, Modifiers: []string{"fieldref", "endswith"}, Values: strs("user.name")}},
}

func strs(ss ...string) []Value {
	out := make([]Value, len(ss))
	for i, s := range ss {
		out[i] = Value{Raw: s}
	}
	return out
}

func TestMatchDoesNotAllocate(t *testing.T) {
	e := mustEvent(t, benchEvent)
	for _, c := range allocCases {
		m, err := Compile(c.spec)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !m.Match(e) {
			t.Errorf("%s: does not match the event", c.name)
		}
		if n := testing.AllocsPerRun(100, func() { m.Match(e) }); n != 0 {
			t.Errorf("%s: %v allocations per Match", c.name, n)
		}
	}
}

// TestConcurrentMatch: matchers are shared by the engine's workers.
func TestConcurrentMatch(t *testing.T) {
	e := mustEvent(t, benchEvent)
	var ms []Matcher
	for _, c := range allocCases {
		m, err := Compile(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			ok := true
			for i := 0; i < 50; i++ {
				for _, m := range ms {
					ok = m.Match(e) && ok
				}
			}
			done <- ok
		}()
	}
	for g := 0; g < 4; g++ {
		if !<-done {
			t.Error("a matcher failed under concurrency")
		}
	}
}
