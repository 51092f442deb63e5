// Package http reads HTTP/1.x requests and responses from the two byte
// streams of a TCP connection, as a passive sensor sees them: in pieces of
// any size, with gaps, pipelined, and possibly hostile.
//
// A Conn pairs each response with the oldest request that has none, and hands
// complete transactions to a callback. Only header blocks are buffered (at
// most MaxHeader bytes each); bodies are counted, never kept. Chunked
// encoding, Content-Length, bodies until close, 1xx interim responses,
// HEAD/204/304, HTTP/0.9, CONNECT and protocol upgrades are followed. A
// direction that stops making sense as HTTP is abandoned, never guessed at.
//
// This package imports only the standard library.
package http

import (
	"bytes"
	"strconv"
)

// Bounds.
const (
	MaxHeader  = 16 << 10 // bytes of one header block (request or status line included)
	MaxPending = 32       // requests waiting for their responses
	maxURI     = 4096     // bytes of request target kept
	maxValue   = 1024     // bytes of a header value kept
	maxLine    = 1024     // bytes of a chunk-size or trailer line
)

// Request is a parsed request head and what followed it.
type Request struct {
	Time          int64 // when its first byte was seen (the caller's clock)
	Method        string
	URI           string // the request target, as sent
	Version       string // "1.1", "1.0", "0.9"
	Host          string
	UserAgent     string
	ContentType   string
	Referer       string
	ContentLength int64 // -1 when absent or invalid
	BodyBytes     int64 // body bytes seen (after de-chunking framing)
}

// Response is a parsed response head and what followed it.
type Response struct {
	Time          int64
	Version       string
	Status        int
	ContentType   string
	Location      string
	ContentLength int64
	BodyBytes     int64
}

// Transaction is a request and its response; either may be missing (a
// request the connection ended before answering, a response to a request
// that was not seen).
type Transaction struct {
	Request  *Request
	Response *Response
}

// Counters of what the parser could not follow.
type Counters struct {
	Requests, Responses uint64
	Abandoned           uint64 // directions given up as not HTTP or out of sync
	Oversized           uint64 // header blocks over MaxHeader
}

type state uint8

const (
	sHead state = iota
	sBody
	sChunkSize
	sChunkData
	sChunkCRLF
	sTrailer
	sUntilClose
	sDead
	sTunnel
)

type half struct {
	st     state
	buf    []byte
	remain int64
	scan   int // where the search for the end of the head resumes
	// lineSeen: the request line is complete and was checked for HTTP/0.9
	lineSeen bool
	start    int64
	// the message whose body is being read
	req  *Request
	resp *Response
}

// Conn follows one connection. Its zero value is not ready: use NewConn.
type Conn struct {
	c, s    half
	pending []*Request // FIFO of requests without a response
	emit    func(*Transaction)
	tunnel  bool
	cnt     *Counters
	tx      Transaction
}

// NewConn returns a Conn that calls emit for every finished transaction
// (the Transaction is valid only during the call) and counts into cnt
// (which may be shared by many Conns of one goroutine).
func NewConn(emit func(*Transaction), cnt *Counters) *Conn {
	if cnt == nil {
		cnt = new(Counters)
	}
	return &Conn{emit: emit, cnt: cnt}
}

// Tunnel reports whether the connection left HTTP: a CONNECT answered with
// 2xx or a 101 Switching Protocols. Bytes fed after that are ignored.
func (c *Conn) Tunnel() bool { return c.tunnel }

// Dead reports whether both directions were abandoned.
func (c *Conn) Dead() bool { return c.c.st == sDead && c.s.st == sDead }

// Feed reads bytes of one direction, in order.
func (c *Conn) Feed(fromClient bool, data []byte, now int64) {
	if fromClient {
		c.feedClient(data, now)
	} else {
		c.feedServer(data, now)
	}
}

// Gap tells the Conn that n bytes of one direction were never seen.
func (c *Conn) Gap(fromClient bool, n int) {
	h := &c.s
	if fromClient {
		h = &c.c
	}
	switch h.st {
	case sBody, sChunkData:
		if int64(n) <= h.remain {
			h.remain -= int64(n)
			h.count(int64(n))
			if h.remain == 0 {
				if h.st == sBody {
					c.endBody(h, fromClient)
				} else {
					h.st = sChunkCRLF
				}
			}
			return
		}
	case sUntilClose:
		h.count(int64(n))
		return
	case sDead, sTunnel:
		return
	}
	c.abandon(h)
}

func (h *half) count(n int64) {
	if h.req != nil {
		h.req.BodyBytes += n
	}
	if h.resp != nil {
		h.resp.BodyBytes += n
	}
}

func (c *Conn) abandon(h *half) {
	if h.st != sDead {
		c.cnt.Abandoned++
	}
	h.st = sDead
	h.buf = nil
}

func (c *Conn) feedClient(data []byte, now int64) {
	h := &c.c
	for len(data) > 0 {
		switch h.st {
		case sDead, sTunnel:
			return
		case sHead:
			if len(h.buf) == 0 {
				// Skip the empty lines allowed before a request line.
				for len(data) > 0 && (data[0] == '\r' || data[0] == '\n') {
					data = data[1:]
				}
				if len(data) == 0 {
					return
				}
				h.start = now
			}
			head, rest, ok := c.head(h, data, true)
			data = rest
			if !ok {
				return
			}
			c.request(h, head)
		default:
			data = c.body(h, data, true)
		}
	}
}

func (c *Conn) feedServer(data []byte, now int64) {
	h := &c.s
	for len(data) > 0 {
		switch h.st {
		case sDead, sTunnel:
			return
		case sHead:
			if len(h.buf) == 0 {
				for len(data) > 0 && (data[0] == '\r' || data[0] == '\n') {
					data = data[1:]
				}
				if len(data) == 0 {
					return
				}
				h.start = now
				if !hasHTTPPrefix(data) {
					// No status line: an HTTP/0.9 response (or garbage),
					// whose body runs to the close.
					if len(c.pending) == 0 {
						c.abandon(h)
						return
					}
					r := &Response{Time: now, Version: "0.9", ContentLength: -1}
					h.resp, h.req = r, nil
					h.st = sUntilClose
					continue
				}
			}
			head, rest, ok := c.head(h, data, false)
			data = rest
			if !ok {
				return
			}
			c.response(h, head)
		default:
			data = c.body(h, data, false)
		}
	}
}

// hasHTTPPrefix reports whether data can start a status line; a prefix of
// "HTTP/" shorter than it counts.
func hasHTTPPrefix(data []byte) bool {
	const p = "HTTP/"
	n := min(len(data), len(p))
	return string(data[:n]) == p[:n]
}

// head accumulates a header block. It returns the complete block (request
// or status line and header lines, without the empty line) and the bytes
// after it, or ok=false when it needs more.
func (c *Conn) head(h *half, data []byte, request bool) (head, rest []byte, ok bool) {
	// HTTP/0.9 request: one line without a version, no header block.
	before := len(h.buf)
	h.buf = append(h.buf, data...)
	buf := h.buf
	if request && !h.lineSeen {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			h.lineSeen = true
			line := bytes.TrimRight(buf[:i], "\r")
			if isRequest09(line, len(buf)-i-1) {
				consumed := i + 1 - before
				h.scan, h.lineSeen = 0, false
				h.buf = h.buf[:0]
				return line, data[consumed:], true
			}
		}
	}
	from := max(h.scan-3, 0)
	end, n := headEnd(buf[from:])
	if end < 0 {
		if len(buf) > MaxHeader {
			c.cnt.Oversized++
			c.abandon(h)
			return nil, nil, false
		}
		h.scan = len(buf)
		return nil, nil, false
	}
	end += from
	consumed := end + n - before
	head = buf[:end]
	h.scan, h.lineSeen = 0, false
	h.buf = h.buf[:0] // head stays readable until the next append
	return head, data[consumed:], true
}

// headEnd finds the empty line that ends a header block: its index and the
// length of the line terminator sequence.
func headEnd(b []byte) (int, int) {
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			return i, 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i, 3
		}
	}
	return -1, 0
}

// requestLine splits a request line as tshark and most servers do: the
// method up to the first space, the target up to the next, and the version
// last. A line of two words whose second is "HTTP/…" has no target.
func requestLine(line []byte) (method, target, version []byte, ok bool) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		if isMethod(line) {
			return line, nil, nil, true // "OPTIONS": no target, no version
		}
		return nil, nil, nil, false
	}
	method = line[:sp]
	if !isMethod(method) {
		return nil, nil, nil, false
	}
	rest := line[sp+1:]
	if i := bytes.IndexByte(rest, ' '); i >= 0 {
		target = rest[:i]
		if j := bytes.LastIndexByte(rest, ' '); j >= 0 {
			version = bytes.TrimSpace(rest[j+1:])
		}
		return method, target, version, true
	}
	if bytes.HasPrefix(rest, []byte("HTTP/")) {
		return method, nil, rest, true
	}
	return method, rest, nil, true
}

// isRequest09 reports whether a request line is a whole HTTP/0.9 request:
// a method and a target, no version, and nothing after the line (a line
// of that shape followed by header lines is a 1.x request without its
// version, as some scanners send).
func isRequest09(line []byte, after int) bool {
	m, target, version, ok := requestLine(line)
	return ok && len(m) > 0 && len(target) > 0 && version == nil && after == 0
}

func isMethod(m []byte) bool {
	if len(m) == 0 || len(m) > 24 {
		return false
	}
	for _, c := range m {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// LooksLikeRequest reports whether data starts like an HTTP request, so a
// sensor can recognise HTTP on any port: a well-known method followed by a
// space or the end of the line, or any method token whose line ends with
// an HTTP version. Lines of other text protocols (SMTP's "EHLO x", SIP's
// "OPTIONS sip:x SIP/2.0") are not requests.
func LooksLikeRequest(data []byte) bool {
	line := data[:min(len(data), 2048)]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = bytes.TrimRight(line[:i], "\r")
	}
	end := bytes.IndexAny(line, " \r\n")
	if end < 0 {
		end = len(line)
	}
	m := line[:end]
	if !isMethod(m) {
		return false
	}
	v := lastWord(line)
	if bytes.HasPrefix(v, []byte("HTTP/")) {
		return true
	}
	// A known method: anything but another protocol's version at the end.
	return knownMethod(m) && !isUpperProto(v)
}

func lastWord(line []byte) []byte {
	line = bytes.TrimRight(line, " ")
	if i := bytes.LastIndexByte(line, ' '); i >= 0 {
		return line[i+1:]
	}
	return line
}

// isUpperProto reports a version token of another protocol: "SIP/2.0", "RTSP/1.0".
func isUpperProto(v []byte) bool {
	i := bytes.IndexByte(v, '/')
	if i <= 0 {
		return false
	}
	for _, c := range v[:i] {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return i+1 < len(v) && v[i+1] >= '0' && v[i+1] <= '9'
}

func knownMethod(m []byte) bool {
	switch string(m) {
	case "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH",
		"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "QUERY", "REPORT":
		return true
	}
	return false
}

func (c *Conn) request(h *half, head []byte) {
	line, hdrs := splitLine(head)
	method, target, ver, ok := requestLine(line)
	if !ok {
		c.abandon(h)
		return
	}
	if len(ver) > 0 && !bytes.HasPrefix(ver, []byte("HTTP/")) {
		c.abandon(h) // another protocol's line ("EHLO x", "OPTIONS sip:x SIP/2.0")
		return
	}
	r := &Request{Time: h.start, Method: string(method), ContentLength: -1}
	switch {
	case len(ver) > 0:
		r.Version = version(ver)
	case len(hdrs) == 0 && len(target) > 0:
		r.Version = "0.9"
	}
	r.URI = clip(target, maxURI)
	chunked := false
	eachHeader(hdrs, func(name, value []byte) {
		switch {
		case fold(name, "host"):
			if r.Host == "" {
				r.Host = clip(value, maxValue)
			}
		case fold(name, "user-agent"):
			r.UserAgent = clip(value, maxValue)
		case fold(name, "content-type"):
			r.ContentType = clip(value, maxValue)
		case fold(name, "referer"):
			r.Referer = clip(value, maxURI)
		case fold(name, "content-length"):
			if r.ContentLength < 0 {
				r.ContentLength = parseLength(value)
			}
		case fold(name, "transfer-encoding"):
			chunked = chunked || containsFold(value, "chunked")
		}
	})
	c.cnt.Requests++
	if len(c.pending) >= MaxPending {
		old := c.pending[0]
		c.pending = c.pending[1:]
		c.send(old, nil)
	}
	c.pending = append(c.pending, r)
	h.req, h.resp = r, nil
	switch {
	case r.Version == "0.9":
		h.st = sHead
	case chunked:
		h.st = sChunkSize
	case r.ContentLength > 0:
		h.st, h.remain = sBody, r.ContentLength
	default:
		h.st = sHead
	}
}

func (c *Conn) response(h *half, head []byte) {
	line, hdrs := splitLine(head)
	// HTTP/1.1 200 OK
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		c.abandon(h)
		return
	}
	r := &Response{Time: h.start, Version: version(line[:sp]), ContentLength: -1}
	code := bytes.TrimLeft(line[sp+1:], " ")
	if i := bytes.IndexByte(code, ' '); i >= 0 {
		code = code[:i]
	}
	status, err := strconv.Atoi(string(code))
	if err != nil || status < 100 || status > 999 {
		c.abandon(h)
		return
	}
	r.Status = status
	chunked := false
	eachHeader(hdrs, func(name, value []byte) {
		switch {
		case fold(name, "content-type"):
			r.ContentType = clip(value, maxValue)
		case fold(name, "location"):
			r.Location = clip(value, maxURI)
		case fold(name, "content-length"):
			if r.ContentLength < 0 {
				r.ContentLength = parseLength(value)
			}
		case fold(name, "transfer-encoding"):
			chunked = chunked || containsFold(value, "chunked")
		}
	})
	c.cnt.Responses++
	if status >= 100 && status < 200 && status != 101 {
		h.st = sHead // interim response: the final one follows
		return
	}
	var req *Request
	if len(c.pending) > 0 {
		req = c.pending[0]
	}
	h.resp, h.req = r, nil
	switch {
	case status == 101 || req != nil && req.Method == "CONNECT" && status/100 == 2:
		c.finish(r)
		c.tunnel = true
		c.c.st, c.s.st = sTunnel, sTunnel
		c.c.buf, c.s.buf = nil, nil
		return
	case req != nil && req.Method == "HEAD", status == 204, status == 304:
		c.finish(r)
		h.st = sHead
	case chunked:
		h.st = sChunkSize
	case r.ContentLength >= 0:
		if r.ContentLength == 0 {
			c.finish(r)
			h.st = sHead
		} else {
			h.st, h.remain = sBody, r.ContentLength
		}
	default:
		h.st = sUntilClose
	}
}

// finish pairs a complete response with the oldest pending request.
func (c *Conn) finish(r *Response) {
	var req *Request
	if len(c.pending) > 0 {
		req = c.pending[0]
		c.pending[0] = nil
		c.pending = c.pending[1:]
	}
	c.send(req, r)
}

func (c *Conn) send(req *Request, resp *Response) {
	c.tx = Transaction{Request: req, Response: resp}
	if c.emit != nil {
		c.emit(&c.tx)
	}
	c.tx = Transaction{}
}

// endBody is called when a message body is complete.
func (c *Conn) endBody(h *half, fromClient bool) {
	h.st = sHead
	if !fromClient && h.resp != nil {
		c.finish(h.resp)
	}
	h.req, h.resp = nil, nil
}

// body consumes body bytes in any body state and returns what is left.
func (c *Conn) body(h *half, data []byte, fromClient bool) []byte {
	switch h.st {
	case sBody, sChunkData:
		n := int64(len(data))
		if n > h.remain {
			n = h.remain
		}
		h.remain -= n
		h.count(n)
		data = data[n:]
		if h.remain == 0 {
			if h.st == sBody {
				c.endBody(h, fromClient)
			} else {
				h.st = sChunkCRLF
			}
		}
		return data
	case sUntilClose:
		h.count(int64(len(data)))
		return nil
	case sChunkCRLF:
		// The CRLF after chunk data (a bare LF is tolerated). Anything
		// else is read as the next chunk-size line, which fails unless it
		// is one: every pass of the caller's loop makes progress.
		for len(data) > 0 && data[0] == '\r' {
			data = data[1:]
		}
		if len(data) == 0 {
			return nil
		}
		if data[0] == '\n' {
			data = data[1:]
		}
		h.st = sChunkSize
		return data
	case sChunkSize, sTrailer:
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			h.buf = append(h.buf, data...)
			if len(h.buf) > maxLine {
				c.abandon(h)
			}
			return nil
		}
		line := data[:i]
		if len(h.buf) > 0 {
			h.buf = append(h.buf, line...)
			line = h.buf
		}
		data = data[i+1:]
		line = bytes.TrimRight(line, "\r")
		if h.st == sTrailer {
			h.buf = h.buf[:0]
			if len(line) == 0 {
				c.endBody(h, fromClient)
			}
			return data
		}
		if j := bytes.IndexByte(line, ';'); j >= 0 {
			line = line[:j]
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		h.buf = h.buf[:0]
		if err != nil || size < 0 {
			c.abandon(h)
			return nil
		}
		if size == 0 {
			h.st = sTrailer
		} else {
			h.st, h.remain = sChunkData, size
		}
		return data
	}
	return nil
}

// Close ends the connection: a body that ran until the close is complete,
// and requests without a response are emitted alone.
func (c *Conn) Close() {
	if c.s.st == sUntilClose && c.s.resp != nil {
		c.finish(c.s.resp)
		c.s.resp = nil
	} else if c.s.resp != nil && (c.s.st == sBody || c.s.st == sChunkSize || c.s.st == sChunkData || c.s.st == sChunkCRLF || c.s.st == sTrailer) {
		c.finish(c.s.resp) // cut short
		c.s.resp = nil
	}
	for len(c.pending) > 0 {
		r := c.pending[0]
		c.pending = c.pending[1:]
		c.send(r, nil)
	}
	c.c.st, c.s.st = sDead, sDead
	c.c.buf, c.s.buf = nil, nil
}

func splitLine(head []byte) (line, rest []byte) {
	i := bytes.IndexByte(head, '\n')
	if i < 0 {
		return bytes.TrimRight(head, "\r"), nil
	}
	return bytes.TrimRight(head[:i], "\r"), head[i+1:]
}

// eachHeader calls f for each "Name: value" line; continuation lines and
// lines without a colon are skipped.
func eachHeader(b []byte, f func(name, value []byte)) {
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 {
			continue
		}
		f(bytes.TrimRight(line[:i], " \t"), bytes.TrimSpace(line[i+1:]))
	}
}

func fold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func containsFold(b []byte, lower string) bool {
	return bytes.Contains(bytes.ToLower(b), []byte(lower))
}

func parseLength(v []byte) int64 {
	if i := bytes.IndexByte(v, ','); i >= 0 { // "5, 5": repeated values
		v = bytes.TrimSpace(v[:i])
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// version turns "HTTP/1.1" into "1.1"; anything else is kept as sent.
func version(v []byte) string {
	if len(v) > 5 && string(v[:5]) == "HTTP/" {
		v = v[5:]
	}
	switch string(v) {
	case "1.1":
		return "1.1"
	case "1.0":
		return "1.0"
	}
	return clip(v, 16)
}

func clip(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}

// Buffered returns the bytes the Conn holds (header blocks in progress).
func (c *Conn) Buffered() int { return cap(c.c.buf) + cap(c.s.buf) }
