package syntax

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Cond is a node of a parsed condition: *And, *Or, *Not, *Ref or *Of.
//
// The grammar, loosest binding first: or; and; not; "1 of", "any of" and
// "all of" a pattern or them; parentheses. Keywords are case-insensitive;
// search identifiers are made of letters, digits, '_', '-' and '.', and
// patterns may add '*', which stands for any run of characters.
type Cond interface {
	// Where locates the node's first token.
	Where() Loc
	// String formats the node so that parsing the text gives the same tree.
	String() string
	isCond()
}

// Loc locates a condition node: the byte offset of its first token in the
// condition text and that token's position in the file. When the condition
// is a YAML scalar whose characters cannot be mapped one to one onto the
// file (a multi-line or escaped string), Pos is the start of the scalar.
type Loc struct {
	Offset int
	Pos    Pos
}

// Where returns l.
func (l Loc) Where() Loc { return l }

// And matches when all its terms do; it has at least two.
type And struct {
	Loc
	Terms []Cond
}

// Or matches when any of its terms does; it has at least two.
type Or struct {
	Loc
	Terms []Cond
}

// Not matches when X does not.
type Not struct {
	Loc
	X Cond
}

// Ref names a search identifier (or, in a correlation condition, a rule).
type Ref struct {
	Loc
	Name string
}

// Of is "1 of", "any of" or "all of" a pattern: it matches when one (Count
// 1) or all (All) of the search identifiers matching Pattern match. Pattern
// "them" means every search identifier whose name does not start with '_';
// otherwise each '*' in Pattern matches any run of characters and the rest
// must match exactly.
type Of struct {
	Loc
	All     bool
	Count   int // 1 for "1 of" and "any of", 0 with All
	Pattern string
	// Names are the search identifiers Pattern matches, in the order they
	// are written. ParseFile fills them in; ParseCondition leaves them nil.
	Names []string
}

func (*And) isCond() {}
func (*Or) isCond()  {}
func (*Not) isCond() {}
func (*Ref) isCond() {}
func (*Of) isCond()  {}

// String formats x as condition text.
func (x *And) String() string { return joinTerms(x.Terms, " and ") }

// String formats x as condition text.
func (x *Or) String() string { return joinTerms(x.Terms, " or ") }

// String formats x as condition text.
func (x *Not) String() string { return "not " + termString(x.X) }

// String formats x as condition text.
func (x *Ref) String() string { return x.Name }

// String formats x as condition text, writing "any of" as "1 of".
func (x *Of) String() string {
	if x.All {
		return "all of " + x.Pattern
	}
	return "1 of " + x.Pattern
}

func joinTerms(terms []Cond, sep string) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(termString(t))
	}
	return b.String()
}

// termString parenthesises the n-ary nodes so that the text keeps the tree.
func termString(c Cond) string {
	switch c.(type) {
	case *And, *Or:
		return "(" + c.String() + ")"
	}
	return c.String()
}

// MaxConditionLength and MaxConditionDepth bound a condition: its length in
// bytes, and how deeply parentheses and not may nest in it.
const (
	MaxConditionLength = 16 << 10
	MaxConditionDepth  = 64
)

// ParseCondition parses a Sigma condition on its own, without checking the
// search identifiers it names. Errors are *Error with positions relative to
// the text (line 1, column 1 is its first character).
func ParseCondition(text string) (Cond, error) {
	c, err := parseCond(text, locator{base: Pos{Line: 1, Col: 1}, exact: true, text: text}, false)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// locator turns byte offsets of a condition text into file positions.
type locator struct {
	base   Pos
	exact  bool // the text's characters are the file's, from base on
	prefix int  // characters between base and the text (an opening quote)
	text   string
}

func (l locator) pos(off int) Pos {
	p := l.base
	p.Col += l.prefix
	return l.advance(p, l.text[:min(max(off, 0), len(l.text))])
}

// advance returns the position after s, which starts at p.
func (l locator) advance(p Pos, s string) Pos {
	if !l.exact {
		return l.base
	}
	for _, r := range s {
		if r == '\n' {
			p.Line++
			p.Col = 1
		} else {
			p.Col++
		}
	}
	return p
}

type tokKind uint8

const (
	tWord tokKind = iota
	tLParen
	tRParen
	tEOF
)

type token struct {
	kind tokKind
	text string
	off  int
	pos  Pos
}

// condParser is a recursive descent parser over the tokens of one condition.
type condParser struct {
	toks    []token
	i       int
	depth   int
	loc     locator
	feature string // of errors: condition, or correlation.condition
	noOf    bool   // x-of is not allowed (correlation conditions)
	err     *Error
}

// parseCond parses text. With noOf set it parses a correlation condition:
// rule references without x-of.
func parseCond(text string, loc locator, noOf bool) (Cond, *Error) {
	c, err := parseCond1(text, loc, noOf)
	if err != nil {
		err.Msg = clip(err.Msg, maxMessage) // it may quote much of the text
		return nil, err
	}
	return c, nil
}

func parseCond1(text string, loc locator, noOf bool) (Cond, *Error) {
	p := &condParser{loc: loc, feature: "condition", noOf: noOf}
	if noOf {
		p.feature = "correlation.condition"
	}
	if len(text) > MaxConditionLength {
		return nil, &Error{Pos: loc.pos(0), Feature: "limit",
			Msg: "condition is " + strconv.Itoa(len(text)) + " bytes long; the limit is " + strconv.Itoa(MaxConditionLength)}
	}
	if !p.lex(text) {
		return nil, p.err
	}
	if p.toks[0].kind == tEOF {
		return nil, p.fail(token{pos: loc.pos(0)}, "condition is empty")
	}
	c := p.or()
	if p.err != nil {
		return nil, p.err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.fail(t, "unexpected "+describe(t)+"; expected 'and', 'or' or the end")
	}
	return c, nil
}

// fail reports msg at the token t, unless an error was reported already.
func (p *condParser) fail(t token, msg string) *Error {
	if p.err == nil {
		p.err = &Error{Pos: t.pos, Feature: p.feature, Msg: msg}
	}
	return p.err
}

func isIdentRune(r rune) bool {
	return r == '_' || r == '-' || r == '.' || r == '*' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// lex splits text into words and parentheses. A '|' starts a Sigma v1
// aggregation, which it reports.
func (p *condParser) lex(text string) bool {
	at, from := p.loc.pos(0), 0 // the position of offset from
	posOf := func(i int) Pos {
		at, from = p.loc.advance(at, text[from:i]), i
		return at
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			i += size
		case r == '(':
			p.toks = append(p.toks, token{kind: tLParen, text: "(", off: i, pos: posOf(i)})
			i++
		case r == ')':
			p.toks = append(p.toks, token{kind: tRParen, text: ")", off: i, pos: posOf(i)})
			i++
		case r == '|' && !p.noOf:
			msg := "the Sigma v1 aggregation '| " + clip(strings.TrimSpace(text[i+1:]), 80) + "' is obsolete; " +
				"write an event_count or value_count correlation rule instead"
			if strings.Contains(strings.ToLower(text[i:]), "near") {
				msg = "the Sigma v1 'near' aggregation is obsolete; write a temporal correlation rule instead"
			}
			p.err = &Error{Pos: posOf(i), Feature: "aggregation", Msg: msg}
			return false
		case isIdentRune(r):
			j := i + size
			for j < len(text) {
				r, size := utf8.DecodeRuneInString(text[j:])
				if !isIdentRune(r) {
					break
				}
				j += size
			}
			p.toks = append(p.toks, token{kind: tWord, text: text[i:j], off: i, pos: posOf(i)})
			i = j
		default:
			msg := "unexpected character " + strconv.QuoteRune(r)
			if r == utf8.RuneError && size == 1 {
				msg = "condition is not valid UTF-8"
			}
			p.err = &Error{Pos: posOf(i), Feature: p.feature, Msg: msg}
			return false
		}
	}
	p.toks = append(p.toks, token{kind: tEOF, off: len(text), pos: posOf(len(text))})
	return true
}

func (p *condParser) peek() token { return p.toks[p.i] }

func (p *condParser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// isKeyword reports whether t is the keyword kw (given in lower case).
func isKeyword(t token, kw string) bool {
	return t.kind == tWord && strings.EqualFold(t.text, kw)
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of condition"
	case tWord:
		return quote(t.text)
	}
	return "'" + t.text + "'"
}

func (p *condParser) or() Cond {
	first := p.and()
	if p.err != nil {
		return nil
	}
	terms := []Cond{first}
	for isKeyword(p.peek(), "or") {
		p.next()
		t := p.and()
		if p.err != nil {
			return nil
		}
		terms = append(terms, t)
	}
	if len(terms) == 1 {
		return first
	}
	return &Or{Loc: first.Where(), Terms: terms}
}

func (p *condParser) and() Cond {
	first := p.unary()
	if p.err != nil {
		return nil
	}
	terms := []Cond{first}
	for isKeyword(p.peek(), "and") {
		p.next()
		t := p.unary()
		if p.err != nil {
			return nil
		}
		terms = append(terms, t)
	}
	if len(terms) == 1 {
		return first
	}
	return &And{Loc: first.Where(), Terms: terms}
}

// enter counts one level of nesting and reports whether it is allowed.
func (p *condParser) enter(t token) bool {
	p.depth++
	if p.depth > MaxConditionDepth {
		p.err = &Error{Pos: t.pos, Feature: "limit",
			Msg: "condition nests parentheses and 'not' deeper than " + strconv.Itoa(MaxConditionDepth)}
		return false
	}
	return true
}

func (p *condParser) unary() Cond {
	t := p.peek()
	if !isKeyword(t, "not") {
		return p.primary()
	}
	p.next()
	if !p.enter(t) {
		return nil
	}
	x := p.unary()
	p.depth--
	if p.err != nil {
		return nil
	}
	return &Not{Loc: p.locAt(t), X: x}
}

func (p *condParser) locAt(t token) Loc { return Loc{Offset: t.off, Pos: t.pos} }

// keywords that cannot name a search identifier.
var reserved = []string{"and", "or", "not", "of", "them"}

func (p *condParser) primary() Cond {
	t := p.next()
	switch t.kind {
	case tLParen:
		if !p.enter(t) {
			return nil
		}
		x := p.or()
		p.depth--
		if p.err != nil {
			return nil
		}
		if c := p.next(); c.kind != tRParen {
			p.fail(c, "expected ')' to close the '(' at offset "+strconv.Itoa(t.off)+", found "+describe(c))
			return nil
		}
		return x
	case tWord:
		if isKeyword(p.peek(), "of") {
			return p.of(t)
		}
		for _, kw := range reserved {
			if strings.EqualFold(t.text, kw) {
				p.fail(t, "unexpected keyword "+quote(t.text)+"; expected "+p.operand())
				return nil
			}
		}
		if strings.Contains(t.text, "*") {
			p.fail(t, "wildcard in "+quote(t.text)+": patterns are only allowed after '1 of' or 'all of'")
			return nil
		}
		return &Ref{Loc: p.locAt(t), Name: t.text}
	}
	p.fail(t, "unexpected "+describe(t)+"; expected "+p.operand())
	return nil
}

func (p *condParser) operand() string {
	if p.noOf {
		return "a rule reference, 'not' or '('"
	}
	return "a search identifier, 'not', '1 of', 'all of' or '('"
}

// of parses "quantifier of target"; quant is the quantifier token and the
// next token is "of".
func (p *condParser) of(quant token) Cond {
	if p.noOf {
		p.fail(quant, "'"+clip(quant.text, 80)+" of' is not allowed in a correlation condition; name the rules")
		return nil
	}
	x := &Of{Loc: p.locAt(quant)}
	switch q := strings.ToLower(quant.text); {
	case q == "1" || q == "any":
		x.Count = 1
	case q == "all":
		x.All = true
	case isDigits(q):
		p.fail(quant, "'"+clip(quant.text, 80)+" of' is not Sigma; only '1 of' (or 'any of') and 'all of' are")
		return nil
	default:
		p.fail(quant, "unexpected "+quote(quant.text)+" before 'of'; expected '1', 'any' or 'all'")
		return nil
	}
	p.next() // of
	t := p.next()
	if t.kind != tWord {
		p.fail(t, "expected a pattern or 'them' after 'of', found "+describe(t))
		return nil
	}
	switch {
	case strings.EqualFold(t.text, "them"):
		x.Pattern = "them"
	default:
		for _, kw := range reserved {
			if strings.EqualFold(t.text, kw) {
				p.fail(t, "unexpected keyword "+quote(t.text)+"; expected a pattern or 'them' after 'of'")
				return nil
			}
		}
		x.Pattern = t.text
	}
	return x
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// matchPattern reports whether name matches pattern, in which each '*'
// matches any run of characters.
func matchPattern(pattern, name string) bool {
	// Greedy matching with backtracking to the last star: linear in
	// practice and never worse than len(pattern)*len(name).
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
