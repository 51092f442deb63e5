package tls

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Certificate is what the sensor reports of a server's leaf certificate.
type Certificate struct {
	SubjectCN, SubjectDN string
	IssuerCN, IssuerDN   string
	NotBefore, NotAfter  time.Time
	AlternativeNames     []string // DNS names, IP addresses, e-mail addresses, URIs
	Serial               string   // upper-case hex
	SHA256               string   // of the DER, upper-case hex (ECS)
	// Parsed is false when crypto/x509 could not parse the certificate;
	// only SHA256 is set then.
	Parsed bool
}

// maxSANs bounds the alternative names kept.
const maxSANs = 64

// ParseCertificate reads a DER certificate. It never fails: a certificate
// crypto/x509 cannot parse still has its fingerprint.
func ParseCertificate(der []byte) (c Certificate) {
	sum := sha256.Sum256(der)
	c.SHA256 = strings.ToUpper(hex.EncodeToString(sum[:]))
	defer func() {
		if recover() != nil { // crypto/x509 on hostile input: keep the fingerprint
			c = Certificate{SHA256: c.SHA256}
		}
	}()
	x, err := x509.ParseCertificate(der)
	if err != nil {
		return c
	}
	c.Parsed = true
	c.SubjectCN = x.Subject.CommonName
	c.SubjectDN = x.Subject.String()
	c.IssuerCN = x.Issuer.CommonName
	c.IssuerDN = x.Issuer.String()
	c.NotBefore, c.NotAfter = x.NotBefore, x.NotAfter
	if x.SerialNumber != nil {
		c.Serial = strings.ToUpper(x.SerialNumber.Text(16))
	}
	add := func(s string) {
		if len(c.AlternativeNames) < maxSANs {
			c.AlternativeNames = append(c.AlternativeNames, s)
		}
	}
	for _, n := range x.DNSNames {
		add(n)
	}
	for _, ip := range x.IPAddresses {
		add(ip.String())
	}
	for _, e := range x.EmailAddresses {
		add(e)
	}
	for _, u := range x.URIs {
		add(fmt.Sprint(u))
	}
	return c
}
