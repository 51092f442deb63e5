package catalog

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDefault(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}

	kinds := map[string]int{}
	cities := 0
	for _, o := range c.Orgs() {
		kinds[o.Kind]++
		if o.City {
			cities++
		}
	}
	if kinds[KindNation] != 1 || c.Root().Code != "vn" || c.Root().NameVI != "Quốc gia" || c.Root().NameEN != "National" {
		t.Errorf("nation: %d orgs of kind nation, root %+v; want exactly one, vn", kinds[KindNation], c.Root())
	}
	if kinds[KindMinistry] != 17 {
		t.Errorf("%d ministries and ministerial-level agencies, want 17", kinds[KindMinistry])
	}
	if kinds[KindProvince] != 34 || cities != 6 {
		t.Errorf("%d provinces of which %d cities, want 34 of which 6", kinds[KindProvince], cities)
	}
	if kinds[KindAgency] == 0 {
		t.Error("no agencies: the tree has no depth")
	}
	if got, want := len(c.Sites()), len(c.Orgs())-1; got != want {
		t.Errorf("Sites: %d, want %d (every org but the nation)", got, want)
	}

	for _, code := range []string{"hanoi", "hue", "haiphong", "danang", "hcm", "cantho"} {
		if o, ok := c.Org(code); !ok || !o.City || o.Kind != KindProvince {
			t.Errorf("centrally-run city %q: %+v, %v", code, o, ok)
		}
	}
	for _, code := range []string{"mod", "mps", "mofa", "moha", "moj", "mof", "moit", "mae", "moc",
		"mocst", "mst", "moet", "moh", "mera", "sbv", "thanhtra", "vpcp"} {
		if o, ok := c.Org(code); !ok || o.Kind != KindMinistry || o.Parent != "vn" {
			t.Errorf("ministry %q: %+v, %v", code, o, ok)
		}
	}
	if o, _ := c.Org("hcm"); o.NameVI != "Thành phố Hồ Chí Minh" || o.NameEN != "Ho Chi Minh City" {
		t.Errorf("hcm names: %q / %q", o.NameVI, o.NameEN)
	}

	// National services.
	national := map[string]*Service{}
	for _, s := range c.Root().Services {
		national[s.Kind] = s
	}
	if s := national[ServicePublicServicePortal]; s == nil || s.URL != "https://dichvucong.gov.vn" {
		t.Errorf("national public-service portal: %+v", s)
	}
	if s := national[ServicePortal]; s == nil || s.URL != "https://chinhphu.vn" || s.Host != "chinhphu.vn" {
		t.Errorf("government portal: %+v", s)
	}
	if s := national[ServiceDocumentExchange]; s == nil || s.Operator != "vpcp" {
		t.Errorf("national document exchange: %+v", s)
	}
	if s := national[ServiceDNS]; s == nil || s.Zone != "gov.vn" {
		t.Errorf("national DNS: %+v", s)
	}

	// Every province runs the five services, every ministry portal, mail, DNS.
	for _, o := range c.Orgs() {
		var want []string
		switch o.Kind {
		case KindProvince:
			want = []string{ServicePortal, ServicePublicServicePortal, ServiceDocumentExchange, ServiceMail, ServiceDNS}
		case KindMinistry:
			want = []string{ServicePortal, ServiceMail, ServiceDNS}
		}
		for _, k := range want {
			if !slices.ContainsFunc(o.Services, func(s *Service) bool { return s.Kind == k }) {
				t.Errorf("%s %q has no %s service", o.Kind, o.Code, k)
			}
		}
		if o.Kind == KindProvince {
			for _, s := range o.Services {
				if s.Kind == ServicePortal && s.URL != "https://"+o.Domain {
					t.Errorf("province %q portal %q, want https://%s", o.Code, s.URL, o.Domain)
				}
				if s.Kind == ServicePublicServicePortal && s.URL != "https://dichvucong."+o.Domain {
					t.Errorf("province %q public-service portal %q, want https://dichvucong.%s", o.Code, s.URL, o.Domain)
				}
			}
		}
	}
}

// TestDefaultUnique checks the default catalogue independently of the
// validation in Parse: codes and ids unique and well-formed, the tree
// consistent, every service endpoint set.
func TestDefaultUnique(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	codes := map[string]bool{}
	for _, o := range c.Orgs() {
		if codes[o.Code] {
			t.Errorf("org code %q twice", o.Code)
		}
		codes[o.Code] = true
		if !codeRE.MatchString(o.Code) {
			t.Errorf("org code %q is not usable in a topic name", o.Code)
		}
		if o.NameVI == "" || o.NameEN == "" {
			t.Errorf("org %q lacks a name", o.Code)
		}
	}
	ids := map[string]bool{}
	for _, s := range c.Services() {
		if ids[s.ID] {
			t.Errorf("service id %q twice", s.ID)
		}
		ids[s.ID] = true
		owner, ok := c.Org(s.Org)
		if !ok || !slices.Contains(owner.Services, s) {
			t.Errorf("service %q: owner %q does not list it", s.ID, s.Org)
		}
		if s.Level < 1 || s.Level > 5 || s.Target <= 0 || s.Target > 100 {
			t.Errorf("service %q: level %d, target %g", s.ID, s.Level, s.Target)
		}
		if s.Host == "" && s.Zone == "" && s.ID != "vn-vanban" {
			t.Errorf("service %q has no endpoint", s.ID)
		}
	}
	if n := len(c.Services()); n < 4+17*3+34*5 {
		t.Errorf("%d services, want at least %d", n, 4+17*3+34*5)
	}
}

// TestBad runs every file in testdata/bad. Each file says what it must fail
// with in comment lines "# want: <substring of the error>"; to add a case,
// add a file.
func TestBad(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad cases: %v", err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			wants := wantLines(data)
			if len(wants) == 0 {
				t.Fatalf("%s has no \"# want:\" line", path)
			}
			c, err := Load(path)
			if err == nil {
				t.Fatalf("Load(%s) = %d orgs, nil error; want errors %q", path, len(c.Orgs()), wants)
			}
			for _, w := range wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q; got:\n%v", w, err)
				}
			}
			for _, e := range flatten(err) {
				var ce *Error
				if !errors.As(e, &ce) || ce.File != path {
					t.Errorf("%v: want a *catalog.Error naming %s", e, path)
				}
			}
		})
	}
}

// wantLines returns the text after "# want: " on each line that has it.
func wantLines(data []byte) []string {
	var wants []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if w, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "# want: "); ok {
			wants = append(wants, w)
		}
	}
	return wants
}

// flatten returns the errors joined in err.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestTree(t *testing.T) {
	c, err := Load(filepath.Join("testdata", "tree.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, o := range c.Orgs() {
		order = append(order, o.Code)
	}
	if want := []string{"vn", "mof", "mof-thue", "hanoi", "hanoi-a", "hanoi-a-1", "hanoi-b"}; !slices.Equal(order, want) {
		t.Errorf("Orgs order %v, want %v", order, want)
	}
	var ids []string
	for _, s := range c.Services() {
		ids = append(ids, s.ID)
	}
	if want := []string{"vn-dns", "mof-portal", "hanoi-portal", "hanoi-dns", "hanoi-a-1-app"}; !slices.Equal(ids, want) {
		t.Errorf("Services order %v, want %v", ids, want)
	}

	tests := []struct {
		code      string
		subtree   []string
		ancestors []string
	}{
		{"vn", []string{"vn", "mof", "mof-thue", "hanoi", "hanoi-a", "hanoi-a-1", "hanoi-b"}, nil},
		{"hanoi", []string{"hanoi", "hanoi-a", "hanoi-a-1", "hanoi-b"}, []string{"vn"}},
		{"hanoi-a", []string{"hanoi-a", "hanoi-a-1"}, []string{"hanoi", "vn"}},
		{"hanoi-a-1", []string{"hanoi-a-1"}, []string{"hanoi-a", "hanoi", "vn"}},
		{"mof", []string{"mof", "mof-thue"}, []string{"vn"}},
		{"nowhere", nil, nil},
	}
	for _, tt := range tests {
		if got := c.Subtree(tt.code); !slices.Equal(got, tt.subtree) {
			t.Errorf("Subtree(%q) = %v, want %v", tt.code, got, tt.subtree)
		}
		if got := c.Ancestors(tt.code); !slices.Equal(got, tt.ancestors) {
			t.Errorf("Ancestors(%q) = %v, want %v", tt.code, got, tt.ancestors)
		}
	}

	within := []struct {
		code, scope string
		want        bool
	}{
		{"hanoi-a-1", "hanoi", true},
		{"hanoi-a-1", "hanoi-a-1", true},
		{"hanoi-a-1", "vn", true},
		{"hanoi-b", "hanoi-a", false},
		{"mof-thue", "hanoi", false},
		{"hanoi", "hanoi-a", false},
		{"nowhere", "vn", false},
		{"hanoi", "nowhere", false},
	}
	for _, tt := range within {
		if got := c.Within(tt.code, tt.scope); got != tt.want {
			t.Errorf("Within(%q, %q) = %v, want %v", tt.code, tt.scope, got, tt.want)
		}
	}

	// Defaults filled at load.
	if s, _ := c.Service("hanoi-dns"); s.Zone != "hanoi.gov.vn" || s.Host != "" {
		t.Errorf("hanoi-dns: zone %q host %q; want the org's domain and no host", s.Zone, s.Host)
	}
	if s, _ := c.Service("hanoi-portal"); s.Host != "hanoi.gov.vn" || s.Org != "hanoi" {
		t.Errorf("hanoi-portal: host %q org %q", s.Host, s.Org)
	}
	if o, _ := c.Org("hanoi"); o.Name("en") != "Hanoi" || o.Name("vi") != "Thành phố Hà Nội" {
		t.Errorf("hanoi names: %q, %q", o.Name("en"), o.Name("vi"))
	}
	if _, ok := c.Service("nowhere"); ok {
		t.Error("Service(nowhere) found")
	}

	// The slices returned are the caller's.
	c.Orgs()[0] = nil
	c.Services()[0] = nil
	if c.Orgs()[0] == nil || c.Services()[0] == nil {
		t.Error("Orgs or Services returned the catalogue's own slice")
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.yaml")
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Load(%s) = %v; want an error naming the path", path, err)
	}
}

func TestTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\norgs:\n")
	for range maxErrors + 50 {
		b.WriteString("  - code: BAD\n    kind: nation\n    name_vi: x\n    name_en: x\n")
	}
	_, err := Parse([]byte(b.String()), "many.yaml")
	errs := flatten(err)
	if len(errs) != maxErrors+1 || !strings.Contains(errs[maxErrors].Error(), "too many errors") {
		t.Errorf("%d errors, last %v; want %d and a note", len(errs), errs[len(errs)-1], maxErrors+1)
	}
}

// FuzzParse checks that Parse never panics, that every error it returns is a
// *Error naming the file, and that what it accepts is a consistent tree.
// Seeds: testdata/fuzz/FuzzParse, the default catalogue and every test file.
func FuzzParse(f *testing.F) {
	f.Add(DefaultYAML)
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	bad, _ := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	for _, path := range append(files, bad...) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if c != nil {
				t.Fatal("a catalogue and an error")
			}
			for _, e := range flatten(err) {
				var ce *Error
				if !errors.As(e, &ce) || ce.File != "fuzz.yaml" {
					t.Fatalf("%v: not a *catalog.Error naming fuzz.yaml", e)
				}
			}
			return
		}
		root := c.Root()
		if root == nil || root.Kind != KindNation {
			t.Fatalf("root %+v", root)
		}
		if got, want := len(c.Subtree(root.Code)), len(c.Orgs()); got != want {
			t.Fatalf("root subtree %d orgs, catalogue %d", got, want)
		}
		for _, o := range c.Orgs() {
			if !c.Within(o.Code, root.Code) || !codeRE.MatchString(o.Code) {
				t.Fatalf("org %q", o.Code)
			}
			if a := c.Ancestors(o.Code); o != root && a[len(a)-1] != root.Code {
				t.Fatalf("ancestors of %q: %v", o.Code, a)
			}
		}
		for _, s := range c.Services() {
			if got, ok := c.Service(s.ID); !ok || got != s || s.Level < 1 || s.Level > 5 || !(s.Target > 0 && s.Target <= 100) {
				t.Fatalf("service %+v", s)
			}
		}
	})
}

// BenchmarkDefault measures parsing and checking the default catalogue, the
// cost of each Default call.
func BenchmarkDefault(b *testing.B) {
	b.SetBytes(int64(len(DefaultYAML)))
	for b.Loop() {
		if _, err := Default(); err != nil {
			b.Fatal(err)
		}
	}
}
