package event

// FNV-1a, 64 bit. It is computed incrementally while decoding, segment by
// segment, so a nested key and a dotted key hash alike.
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func hashBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// Field is a dotted ECS field path compiled for fast lookup, such as
// "source.ip" or "dns.answers.data". Compile fields once (at rule load time)
// and reuse them; the zero Field matches nothing.
type Field struct {
	path string
	hash uint64
}

// Path compiles a dotted field path.
func Path(p string) Field {
	return Field{path: p, hash: hashString(fnvOffset, p)}
}

// String returns the dotted path.
func (f Field) String() string { return f.path }

// Well-known fields, compiled once.
var (
	FieldTimestamp = Path("@timestamp")
	FieldID        = Path("event.id")
	FieldKind      = Path("event.kind")
	FieldCategory  = Path("event.category")
	FieldDataset   = Path("event.dataset")
	FieldOutcome   = Path("event.outcome")
	FieldIngested  = Path("event.ingested")
	FieldOrg       = Path("organization.id")
	FieldMessage   = Path("message")
	FieldHostName  = Path("host.name")
	FieldSourceIP  = Path("source.ip")
	FieldDestIP    = Path("destination.ip")
	FieldUserName  = Path("user.name")
)
