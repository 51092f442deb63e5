package ssh

import "testing"

// FuzzStream reads arbitrary bytes as one side of an SSH connection.
func FuzzStream(f *testing.F) {
	f.Add([]byte("SSH-2.0-OpenSSH_9.6\r\n"), true, uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, client bool, cut uint8) {
		s := Stream{Client: client}
		step := int(cut%64) + 1
		for i := 0; i < len(data); i += step {
			s.Feed(data[i:min(i+step, len(data))])
			if s.Buffered() > 2*MaxPacket+maxLine+256 {
				t.Fatalf("holds %d bytes", s.Buffered())
			}
		}
		if len(s.Banner) > maxBanner {
			t.Fatalf("banner of %d bytes", len(s.Banner))
		}
		if s.HasKex() && len(s.Kex.HASSH) != 32 {
			t.Fatalf("HASSH %q", s.Kex.HASSH)
		}
	})
}
