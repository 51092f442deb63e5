package dns

import (
	"encoding/binary"
	"errors"
	"testing"
)

// msg builds a message from parts: the header fields and raw sections.
func msg(id, flags uint16, qd, an int, body ...[]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(qd))
	b = binary.BigEndian.AppendUint16(b, uint16(an))
	b = append(b, 0, 0, 0, 0)
	for _, p := range body {
		b = append(b, p...)
	}
	return b
}

func rr(name []byte, typ uint16, ttl uint32, rdata []byte) []byte {
	b := append([]byte(nil), name...)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}

func TestParseAnswer(t *testing.T) {
	qname := []byte("\x03www\x0adichvucong\x03gov\x02vn\x00")
	ptr := []byte{0xc0, 12} // to the question name
	m := msg(0xbeef, 0x8180, 1, 6,
		qname, []byte{0, 1, 0, 1},
		rr(ptr, TypeCNAME, 300, []byte("\x03web\xc0\x10")), // web.dichvucong.gov.vn
		rr(ptr, TypeA, 60, []byte{203, 0, 113, 7}),
		rr(ptr, TypeAAAA, 60, []byte{0x20, 0x01, 0xd, 0xb8, 15: 1}),
		rr(ptr, TypeMX, 60, append([]byte{0, 10}, ptr...)),
		rr(ptr, TypeTXT, 60, []byte("\x05v=spf\x03a\"b")),
		rr(ptr, 65280, 60, []byte{1, 2}),
	)
	var out Message
	if err := Parse(m, &out, false); err != nil {
		t.Fatal(err)
	}
	if out.ID != 0xbeef || !out.Response || RcodeName(out.Rcode) != "NOERROR" || len(out.Questions) != 1 {
		t.Fatalf("header: %+v", out)
	}
	if q := out.Questions[0]; q.Name != "www.dichvucong.gov.vn" || TypeName(q.Type) != "A" || ClassName(q.Class) != "IN" {
		t.Fatalf("question %+v", q)
	}
	want := []string{
		"web.dichvucong.gov.vn", "203.0.113.7", "2001:db8::1", "10 www.dichvucong.gov.vn",
		`"v=spf" "a\"b"`, `\# 2 0102`,
	}
	for i, w := range want {
		if got := out.Answers[i].Data; got != w {
			t.Errorf("answer %d (%s): %q, want %q", i, TypeName(out.Answers[i].Type), got, w)
		}
	}
	if TypeName(65280) != "TYPE65280" || out.Answers[1].TTL != 60 || !out.Answers[2].IP.Is6() {
		t.Error("type names, TTL or IP")
	}
}

func TestParseHostile(t *testing.T) {
	for name, m := range map[string][]byte{
		"short":           []byte{1, 2, 3},
		"pointer loop":    msg(1, 0, 1, 0, []byte{0xc0, 12}, []byte{0, 1, 0, 1}),
		"forward pointer": msg(1, 0, 1, 0, []byte{0xc0, 20, 0, 1, 0, 1, 0, 0}),
		"label past end":  msg(1, 0, 1, 0, []byte("\x3fabc")),
		"reserved label":  msg(1, 0, 1, 0, []byte{0x80, 1, 0, 0}),
		"rdata past end":  msg(1, 0x8000, 0, 1, rr([]byte{0}, TypeA, 1, []byte{1, 2, 3, 4})[:12]),
		"count lies":      msg(1, 0, 40000, 0, []byte("\x01a\x00\x00\x01\x00\x01")),
		"name too long": msg(1, 0, 1, 0, func() []byte {
			var b []byte
			for range 5 {
				b = append(b, 63)
				b = append(b, make([]byte, 63)...)
			}
			return append(b, 0, 0, 1, 0, 1)
		}()),
	} {
		var out Message
		if err := Parse(m, &out, false); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", name, err)
		}
	}
}

func TestNameEscaping(t *testing.T) {
	m := msg(1, 0, 1, 0, []byte("\x0etxtpadding_32\x00\x03a.b\x01\\\x00"), []byte{0, 16, 0x80, 1})
	var out Message
	if err := Parse(m, &out, true); err != nil {
		t.Fatal(err)
	}
	if q := out.Questions[0]; q.Name != `txtpadding_32\000.a\.b.\\` || q.Class != 1 {
		t.Fatalf("name %q class %d", q.Name, q.Class)
	}
	root := msg(1, 0, 1, 0, []byte{0, 0, 2, 0, 1})
	if err := Parse(root, &out, false); err != nil || out.Questions[0].Name != "." {
		t.Fatalf("root: %v %+v", err, out.Questions)
	}
}
