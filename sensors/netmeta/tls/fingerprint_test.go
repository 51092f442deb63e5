package tls

import "testing"

// The worked example of the JA4 specification (FoxIO, technical_details/JA4.md):
// a Chrome ClientHello whose JA4_ro is
// t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_
// 0000,0033,000d,0023,000b,ff01,000a,001b,4469,0012,002d,0010,0005,002b,0017,0015_
// 0403,0804,0401,0503,0805,0501,0806,0601.
func workedHello() ClientHello {
	return ClientHello{
		Version:           0x0303,
		SupportedVersions: []uint16{0x2a2a, 0x0304, 0x0303},
		Ciphers: []uint16{0x1a1a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
			0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		Extensions: []uint16{0x3a3a, 0x0000, 0x0033, 0x000d, 0x0023, 0x000b, 0xff01, 0x000a, 0x001b, 0x4469,
			0x0012, 0x002d, 0x0010, 0x0005, 0x002b, 0x0017, 0x0015, 0x4a4a},
		HasServerName: true,
		ServerName:    "example.com",
		ALPN:          []string{"h2", "http/1.1"},
		SignatureAlgs: []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601},
	}
}

func TestJA4(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*ClientHello)
		want string
	}{
		{"worked example", func(*ClientHello) {}, "t13d1516h2_8daaf6152771_e5627efa2ab1"},
		{"no signature algorithms", func(ch *ClientHello) { ch.SignatureAlgs = nil }, "t13d1516h2_8daaf6152771_6d807ffa2a79"},
		{"no SNI, no ALPN, TLS 1.2", func(ch *ClientHello) {
			ch.HasServerName, ch.ALPN, ch.SupportedVersions = false, nil, nil
		}, "t12i151600_8daaf6152771_e5627efa2ab1"},
		{"DTLS", func(ch *ClientHello) { ch.DTLS, ch.SupportedVersions = true, []uint16{0xfefd} }, "dd2d1516h2_8daaf6152771_e5627efa2ab1"},
		{"no ciphers, no extensions", func(ch *ClientHello) {
			ch.Ciphers, ch.Extensions, ch.SignatureAlgs, ch.ALPN = nil, nil, nil, nil
		}, "t13d000000_000000000000_000000000000"},
		{"ALPN not alphanumeric", func(ch *ClientHello) { ch.ALPN = []string{"\xab\x01\xcd"} }, "t13d1516ad_8daaf6152771_e5627efa2ab1"},
	} {
		ch := workedHello()
		c.edit(&ch)
		if got := JA4(&ch); got != c.want {
			t.Errorf("%s: JA4 = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestGREASE(t *testing.T) {
	for _, v := range []uint16{0x0a0a, 0x1a1a, 0xfafa} {
		if !IsGREASE(v) {
			t.Errorf("%#04x is GREASE", v)
		}
	}
	for _, v := range []uint16{0x0a1a, 0x1301, 0x0000} {
		if IsGREASE(v) {
			t.Errorf("%#04x is not GREASE", v)
		}
	}
}

func TestVersion(t *testing.T) {
	for v, want := range map[uint16][2]string{
		0x0300: {"ssl", "3.0"}, 0x0303: {"tls", "1.2"}, 0x0304: {"tls", "1.3"}, 0x7f12: {"tls", "1.3"},
		0xfefd: {"dtls", "1.2"}, 0x1234: {"", ""},
	} {
		if p, ver := Version(v); p != want[0] || ver != want[1] {
			t.Errorf("Version(%#04x) = %s %s, want %s %s", v, p, ver, want[0], want[1])
		}
	}
	if CipherName(0x1301) != "TLS_AES_128_GCM_SHA256" || CipherName(0xc02f) != "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" {
		t.Error("IANA cipher names")
	}
}
