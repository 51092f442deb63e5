package tls

import "testing"

// FuzzStream reads arbitrary bytes as one direction of a TLS connection,
// parsing every handshake message it delivers as the sensor does; it also
// reads them as DTLS datagrams. Nothing may panic, and fingerprints of what
// parsed must be computable. Seeds are real handshakes (client and server
// sides) from the captures.
func FuzzStream(f *testing.F) {
	f.Add([]byte("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		var (
			ch ClientHello
			sh ServerHello
		)
		msg := func(typ uint8, body []byte) {
			switch typ {
			case TypeClientHello:
				if ParseClientHello(body, false, &ch) == nil {
					JA3(&ch, nil)
					JA4(&ch)
				}
				if ParseClientHello(body, true, &ch) == nil {
					JA4(&ch)
				}
			case TypeServerHello:
				if ParseServerHello(body, false, &sh) == nil {
					JA3S(&sh, nil)
				}
			case TypeCertificate:
				certs, _ := Certificates(body, 4)
				for _, c := range certs {
					ParseCertificate(c)
				}
			}
		}
		var s Stream
		step := int(cut%128) + 1
		for i := 0; i < len(data); i += step {
			s.Feed(data[i:min(i+step, len(data))], msg)
			if s.Buffered() > MaxHandshake+maxRecord+1<<16 {
				t.Fatalf("holds %d bytes", s.Buffered())
			}
		}
		var d DTLSStream
		d.Feed(data, msg)
		if d.Buffered() > MaxHandshake+1<<16 {
			t.Fatalf("DTLS holds %d bytes", d.Buffered())
		}
	})
}
