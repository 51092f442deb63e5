package capture

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader reads arbitrary bytes as a capture file: no panic, no record
// larger than MaxRecord, and an end (io.EOF or an error) in bounded steps.
// Seeds are the starts of the real captures, pcap and pcapng.
func FuzzReader(f *testing.F) {
	f.Add([]byte("\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := NewReader(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error does not wrap ErrFormat: %v", err)
			}
			return
		}
		for i := 0; ; i++ {
			p, err := s.ReadPacket()
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrFormat) {
					t.Fatalf("error does not wrap ErrFormat: %v", err)
				}
				return
			}
			if len(p.Data) > MaxRecord || p.Info.CaptureLength != len(p.Data) || p.Info.Length < len(p.Data) {
				t.Fatalf("record of %d bytes, info %+v", len(p.Data), p.Info)
			}
			if i > len(data) {
				t.Fatal("more records than bytes")
			}
		}
	})
}
