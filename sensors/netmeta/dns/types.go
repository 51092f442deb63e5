package dns

import (
	"strconv"
	"unsafe"
)

// Resource record types that Parse renders or that have a name.
const (
	TypeA          uint16 = 1
	TypeNS         uint16 = 2
	TypeMD         uint16 = 3
	TypeMF         uint16 = 4
	TypeCNAME      uint16 = 5
	TypeSOA        uint16 = 6
	TypeMB         uint16 = 7
	TypeMG         uint16 = 8
	TypeMR         uint16 = 9
	TypeNULL       uint16 = 10
	TypeWKS        uint16 = 11
	TypePTR        uint16 = 12
	TypeHINFO      uint16 = 13
	TypeMINFO      uint16 = 14
	TypeMX         uint16 = 15
	TypeTXT        uint16 = 16
	TypeRP         uint16 = 17
	TypeAFSDB      uint16 = 18
	TypeRT         uint16 = 21
	TypeSIG        uint16 = 24
	TypeKEY        uint16 = 25
	TypeAAAA       uint16 = 28
	TypeLOC        uint16 = 29
	TypeSRV        uint16 = 33
	TypeNAPTR      uint16 = 35
	TypeKX         uint16 = 36
	TypeCERT       uint16 = 37
	TypeDNAME      uint16 = 39
	TypeOPT        uint16 = 41
	TypeDS         uint16 = 43
	TypeSSHFP      uint16 = 44
	TypeIPSECKEY   uint16 = 45
	TypeRRSIG      uint16 = 46
	TypeNSEC       uint16 = 47
	TypeDNSKEY     uint16 = 48
	TypeDHCID      uint16 = 49
	TypeNSEC3      uint16 = 50
	TypeNSEC3PARAM uint16 = 51
	TypeTLSA       uint16 = 52
	TypeSMIMEA     uint16 = 53
	TypeHIP        uint16 = 55
	TypeCDS        uint16 = 59
	TypeCDNSKEY    uint16 = 60
	TypeOPENPGPKEY uint16 = 61
	TypeCSYNC      uint16 = 62
	TypeZONEMD     uint16 = 63
	TypeSVCB       uint16 = 64
	TypeHTTPS      uint16 = 65
	TypeSPF        uint16 = 99
	TypeNID        uint16 = 104
	TypeL32        uint16 = 105
	TypeL64        uint16 = 106
	TypeLP         uint16 = 107
	TypeEUI48      uint16 = 108
	TypeEUI64      uint16 = 109
	TypeTKEY       uint16 = 249
	TypeTSIG       uint16 = 250
	TypeIXFR       uint16 = 251
	TypeAXFR       uint16 = 252
	TypeMAILB      uint16 = 253
	TypeMAILA      uint16 = 254
	TypeANY        uint16 = 255
	TypeURI        uint16 = 256
	TypeCAA        uint16 = 257
	TypeDLV        uint16 = 32769
)

var typeNames = map[uint16]string{
	TypeA: "A", TypeNS: "NS", TypeMD: "MD", TypeMF: "MF", TypeCNAME: "CNAME", TypeSOA: "SOA",
	TypeMB: "MB", TypeMG: "MG", TypeMR: "MR", TypeNULL: "NULL", TypeWKS: "WKS", TypePTR: "PTR",
	TypeHINFO: "HINFO", TypeMINFO: "MINFO", TypeMX: "MX", TypeTXT: "TXT", TypeRP: "RP",
	TypeAFSDB: "AFSDB", TypeRT: "RT", TypeSIG: "SIG", TypeKEY: "KEY", TypeAAAA: "AAAA",
	TypeLOC: "LOC", TypeSRV: "SRV", TypeNAPTR: "NAPTR", TypeKX: "KX", TypeCERT: "CERT",
	TypeDNAME: "DNAME", TypeOPT: "OPT", TypeDS: "DS", TypeSSHFP: "SSHFP", TypeIPSECKEY: "IPSECKEY",
	TypeRRSIG: "RRSIG", TypeNSEC: "NSEC", TypeDNSKEY: "DNSKEY", TypeDHCID: "DHCID",
	TypeNSEC3: "NSEC3", TypeNSEC3PARAM: "NSEC3PARAM", TypeTLSA: "TLSA", TypeSMIMEA: "SMIMEA",
	TypeHIP: "HIP", TypeCDS: "CDS", TypeCDNSKEY: "CDNSKEY", TypeOPENPGPKEY: "OPENPGPKEY",
	TypeCSYNC: "CSYNC", TypeZONEMD: "ZONEMD", TypeSVCB: "SVCB", TypeHTTPS: "HTTPS",
	TypeSPF: "SPF", TypeNID: "NID", TypeL32: "L32", TypeL64: "L64", TypeLP: "LP",
	TypeEUI48: "EUI48", TypeEUI64: "EUI64", TypeTKEY: "TKEY", TypeTSIG: "TSIG",
	TypeIXFR: "IXFR", TypeAXFR: "AXFR", TypeMAILB: "MAILB", TypeMAILA: "MAILA", TypeANY: "ANY",
	TypeURI: "URI", TypeCAA: "CAA", TypeDLV: "DLV",
}

// small caches the generic names of unassigned types, so TypeName does not
// allocate for them either.
var small [256]string

func init() {
	for i := range small {
		small[i] = "TYPE" + strconv.Itoa(i)
	}
}

// TypeName returns the mnemonic of a record type ("AAAA"), or "TYPE<n>" for
// one without a mnemonic (RFC 3597).
func TypeName(t uint16) string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	if int(t) < len(small) {
		return small[t]
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// ClassName returns the mnemonic of a class ("IN"), or "CLASS<n>".
func ClassName(c uint16) string {
	switch c {
	case 1:
		return "IN"
	case 3:
		return "CH"
	case 4:
		return "HS"
	case 254:
		return "NONE"
	case 255:
		return "ANY"
	}
	return "CLASS" + strconv.Itoa(int(c))
}

var rcodeNames = [...]string{
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI",
	"RCODE12", "RCODE13", "RCODE14", "RCODE15",
}

// RcodeName returns the mnemonic of a header response code ("NXDOMAIN").
func RcodeName(r uint8) string { return rcodeNames[r&0xf] }

var opcodeNames = [...]string{
	"QUERY", "IQUERY", "STATUS", "OPCODE3", "NOTIFY", "UPDATE", "DSO", "OPCODE7",
	"OPCODE8", "OPCODE9", "OPCODE10", "OPCODE11", "OPCODE12", "OPCODE13", "OPCODE14", "OPCODE15",
}

// OpcodeName returns the mnemonic of an opcode ("QUERY", "UPDATE").
func OpcodeName(o uint8) string { return opcodeNames[o&0xf] }

func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
