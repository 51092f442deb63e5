//go:build !(afpacket && linux && cgo)

package capture

// OpenAFPacket needs the build tag afpacket (and cgo, on Linux): it returns
// ErrUnsupported in this build.
func OpenAFPacket(LiveOptions) (Source, error) { return nil, ErrUnsupported }
