package ui

import (
	"errors"
	"net"
	"net/http"

	"github.com/egovsoc/egovsoc/pipeline/store"
)

// Principal is who makes a request and what they may see.
type Principal struct {
	Name  string
	Scope store.Scope
}

// Authenticator decides who a request comes from. It returns ErrUnauthenticated
// when the request carries no acceptable identity.
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

// ErrUnauthenticated is returned by an Authenticator that does not know the
// caller.
var ErrUnauthenticated = errors.New("unauthenticated")

// LoopbackOperator grants the national scope to requests from the machine
// itself (127.0.0.0/8, ::1) and refuses all others. It is what `socd demo`
// uses, and all `socd run` allows until local users and sessions arrive: a
// console that listens beyond loopback needs real accounts, and socd refuses
// to start one without them.
type LoopbackOperator struct{}

// Authenticate implements Authenticator.
func (LoopbackOperator) Authenticate(r *http.Request) (Principal, error) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return Principal{}, ErrUnauthenticated
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return Principal{}, ErrUnauthenticated
	}
	return Principal{Name: "local-operator", Scope: store.ScopeAll()}, nil
}

// IsLoopbackAddr reports whether a listen address binds to loopback only.
func IsLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
