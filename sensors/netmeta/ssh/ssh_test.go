package ssh

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// kexinit builds an SSH binary packet holding a KEXINIT with the lists.
func kexinit(lists ...string) []byte {
	p := []byte{20}
	p = append(p, make([]byte, 16)...) // cookie
	for _, l := range lists {
		p = binary.BigEndian.AppendUint32(p, uint32(len(l)))
		p = append(p, l...)
	}
	p = append(p, 0, 0, 0, 0, 0)
	pad := 8 - (len(p)+5)%8
	if pad < 4 {
		pad += 8
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(p)+pad))
	b = append(b, byte(pad))
	b = append(b, p...)
	return append(b, make([]byte, pad)...)
}

func TestHASSH(t *testing.T) {
	lists := []string{"curve25519-sha256", "ssh-ed25519", "aes128-ctr", "aes256-ctr", "hmac-sha2-256", "hmac-sha2-512", "none", "zlib", "", ""}
	for _, client := range []bool{true, false} {
		s := Stream{Client: client}
		data := []byte("pre-banner line\r\nSSH-2.0-OpenSSH_9.6 Ubuntu\r\n")
		data = append(data, kexinit(lists...)...)
		for i := range data { // one byte at a time
			s.Feed(data[i : i+1])
		}
		if s.Banner != "SSH-2.0-OpenSSH_9.6 Ubuntu" || !s.HasKex() || !s.Done() {
			t.Fatalf("client=%v: banner %q kex %v", client, s.Banner, s.HasKex())
		}
		want := "curve25519-sha256;aes128-ctr;hmac-sha2-256;none"
		if !client {
			want = "curve25519-sha256;aes256-ctr;hmac-sha2-512;zlib"
		}
		sum := md5.Sum([]byte(want))
		if s.Kex.HASSHAlgorithms != want || s.Kex.HASSH != hex.EncodeToString(sum[:]) {
			t.Errorf("client=%v: %q %s", client, s.Kex.HASSHAlgorithms, s.Kex.HASSH)
		}
	}
}

func TestNotSSH(t *testing.T) {
	var s Stream
	for range maxPreLines + 1 {
		s.Feed([]byte("220 smtp.example ESMTP\r\n"))
	}
	if !s.Failed() || s.Banner != "" {
		t.Fatal("lines without a banner must fail")
	}
	var l Stream
	l.Feed(make([]byte, 2*maxLine))
	if !l.Failed() || l.Buffered() > 4*maxLine {
		t.Fatal("a line without an end must fail, bounded")
	}
}
