package match

import (
	"slices"
	"unicode/utf8"
)

// affixTrie tests many prefixes (or suffixes) at once: it walks the text
// from its start (or end) down a trie of the literals, so the cost is the
// length of the longest literal matched, not the number of literals.
// Ignoring case, it holds ASCII literals only and walks ASCII text only:
// on reaching a non-ASCII byte it hands over to the literals one by one,
// which fold runes (the Kelvin sign may stand for a k in the text).
type affixTrie struct {
	suffix bool
	cased  bool
	nodes  []trieNode
	edges  []trieEdge
	lits   []lit // the same literals, for text the walk cannot decide
}

type trieNode struct {
	first, n int32 // edges[first:first+n], sorted by byte
	terminal bool  // a literal ends here
}

type trieEdge struct {
	b     byte
	child int32
}

// trieMin is how many literals make a trie worth it.
const trieMin = 6

// trieable reports whether the trie can hold l.
func trieable(l *lit) bool { return l.cased || l.ascii }

func newAffixTrie(lits []lit, suffix, cased bool) *affixTrie {
	t := &affixTrie{suffix: suffix, cased: cased, lits: lits}
	// Build with per-node maps, then flatten.
	type tmp struct {
		kids     map[byte]int
		terminal bool
	}
	nodes := []tmp{{kids: map[byte]int{}}}
	for _, l := range lits {
		n := 0
		for k := 0; k < len(l.p); k++ {
			i := k
			if suffix {
				i = len(l.p) - 1 - k
			}
			c := l.p[i]
			next, ok := nodes[n].kids[c]
			if !ok {
				next = len(nodes)
				nodes[n].kids[c] = next
				nodes = append(nodes, tmp{kids: map[byte]int{}})
			}
			n = next
		}
		nodes[n].terminal = true
	}
	t.nodes = make([]trieNode, len(nodes))
	for i, nd := range nodes {
		keys := make([]byte, 0, len(nd.kids))
		for c := range nd.kids {
			keys = append(keys, c)
		}
		slices.Sort(keys)
		t.nodes[i] = trieNode{first: int32(len(t.edges)), n: int32(len(keys)), terminal: nd.terminal}
		for _, c := range keys {
			t.edges = append(t.edges, trieEdge{b: c, child: int32(nd.kids[c])})
		}
	}
	return t
}

func (t *affixTrie) match(x *text) bool {
	s := x.s
	node := &t.nodes[0]
	if node.terminal {
		return true
	}
	for k := 0; k < len(s); k++ {
		i := k
		if t.suffix {
			i = len(s) - 1 - k
		}
		c := s[i]
		if !t.cased {
			if c >= utf8.RuneSelf {
				return t.linear(x)
			}
			c = lowerASCII[c]
		}
		edges := t.edges[node.first : node.first+node.n]
		next := int32(-1)
		for e := range edges {
			if edges[e].b >= c {
				if edges[e].b == c {
					next = edges[e].child
				}
				break
			}
		}
		if next < 0 {
			return false
		}
		node = &t.nodes[next]
		if node.terminal {
			return true
		}
	}
	return false
}

func (t *affixTrie) linear(x *text) bool {
	for i := range t.lits {
		if t.suffix && t.lits[i].suffixT(x) || !t.suffix && t.lits[i].prefix(x.s) {
			return true
		}
	}
	return false
}
