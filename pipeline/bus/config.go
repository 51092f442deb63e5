package bus

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Config says how to reach the Kafka cluster.
type Config struct {
	Brokers  []string    // host:port of bootstrap brokers
	ClientID string      // reported to the brokers; default "egovsoc"
	TLS      *tls.Config // nil for plaintext
	SASL     SASL        // zero for none
}

// SASL credentials. Mechanism is "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512".
type SASL struct {
	Mechanism string
	Username  string
	Password  string `json:"-"` // never logged
}

// Validate checks the configuration, naming the field at fault.
func (c Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("bus: brokers: at least one is required")
	}
	for _, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return fmt.Errorf("bus: brokers: %q: %w", b, err)
		}
	}
	if _, err := c.SASL.mechanism(); err != nil {
		return err
	}
	return nil
}

func (s SASL) mechanism() (sasl.Mechanism, error) {
	switch s.Mechanism {
	case "":
		return nil, nil
	case "PLAIN":
		return plain.Mechanism{Username: s.Username, Password: s.Password}, nil
	case "SCRAM-SHA-256":
		m, err := scram.Mechanism(scram.SHA256, s.Username, s.Password)
		if err != nil {
			return nil, fmt.Errorf("bus: sasl: %w", err)
		}
		return m, nil
	case "SCRAM-SHA-512":
		m, err := scram.Mechanism(scram.SHA512, s.Username, s.Password)
		if err != nil {
			return nil, fmt.Errorf("bus: sasl: %w", err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("bus: sasl.mechanism: %q is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.Mechanism)
}

func (c Config) clientID() string {
	if c.ClientID == "" {
		return "egovsoc"
	}
	return c.ClientID
}

func (c Config) transport() (*kafka.Transport, error) {
	m, err := c.SASL.mechanism()
	if err != nil {
		return nil, err
	}
	return &kafka.Transport{
		DialTimeout: 10 * time.Second,
		IdleTimeout: 30 * time.Second,
		MetadataTTL: 15 * time.Second,
		ClientID:    c.clientID(),
		TLS:         c.TLS,
		SASL:        m,
	}, nil
}

func (c Config) dialer() (*kafka.Dialer, error) {
	m, err := c.SASL.mechanism()
	if err != nil {
		return nil, err
	}
	return &kafka.Dialer{
		ClientID:      c.clientID(),
		Timeout:       10 * time.Second,
		DualStack:     true,
		TLS:           c.TLS,
		SASLMechanism: m,
	}, nil
}
