package http

import "testing"

// FuzzConn feeds arbitrary client and server bytes to a Conn, in pieces
// and with a gap: it must never panic, keep more than its bounds or emit
// a transaction with neither side.
func FuzzConn(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), uint8(7))
	f.Fuzz(func(t *testing.T, client, server []byte, cut uint8) {
		var cnt Counters
		n := 0
		c := NewConn(func(tx *Transaction) {
			n++
			if tx.Request == nil && tx.Response == nil {
				t.Fatal("empty transaction")
			}
			if tx.Request != nil && len(tx.Request.URI) > maxURI {
				t.Fatalf("URI of %d bytes", len(tx.Request.URI))
			}
		}, &cnt)
		step := int(cut%64) + 1
		for i, j := 0, 0; i < len(client) || j < len(server); i, j = i+step, j+step {
			if i < len(client) {
				c.Feed(true, client[i:min(i+step, len(client))], int64(i))
			}
			if j < len(server) {
				c.Feed(false, server[j:min(j+step, len(server))], int64(j))
			}
			if c.Buffered() > 2*MaxHeader+2*maxLine+1<<16 {
				t.Fatalf("holds %d bytes", c.Buffered())
			}
			if len(c.pending) > MaxPending {
				t.Fatalf("%d pending requests", len(c.pending))
			}
		}
		c.Gap(cut&1 == 0, int(cut))
		c.Feed(true, client[:min(len(client), 16)], 0)
		c.Close()
	})
}
