//go:build !linux

package capture

import "time"

// LiveOptions configure a live capture (Linux only).
type LiveOptions struct {
	Interface     string
	Filter        []BPFInstruction
	SnapLen       int
	Promiscuous   bool
	Fanout        int
	FanoutGroup   uint16
	PollInterval  time.Duration
	ReceiveBuffer int
}

// OpenLive is available on Linux only.
func OpenLive(LiveOptions) (Source, error) { return nil, ErrUnsupported }
