package netmeta

import (
	"encoding/binary"

	"github.com/google/gopacket/layers"
)

// flowHash picks the worker of a frame in dispatcher mode: a symmetric hash
// of its IP addresses, found by a light walk of the link, VLAN and MPLS
// headers. Ports are left out so that the fragments of a datagram, which
// carry none after the first, go where the rest of their flow goes. Frames
// without an IP header hash to 0. (Tunnelled traffic is hashed on its outer
// addresses: it stays correct, but one tunnel feeds one worker.)
func flowHash(lt layers.LinkType, b []byte) uint64 {
	var et uint16
	switch lt {
	case layers.LinkTypeEthernet:
		if len(b) < 14 {
			return 0
		}
		et, b = binary.BigEndian.Uint16(b[12:14]), b[14:]
	case layers.LinkTypeLinuxSLL:
		if len(b) < 16 {
			return 0
		}
		et, b = binary.BigEndian.Uint16(b[14:16]), b[16:]
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(b) < 4 {
			return 0
		}
		b = b[4:]
		et = guessIP(b)
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12, 14:
		et = guessIP(b)
	default:
		return 0
	}
	for hops := 0; hops < 8; hops++ {
		switch et {
		case 0x8100, 0x88a8, 0x9100:
			if len(b) < 4 {
				return 0
			}
			et, b = binary.BigEndian.Uint16(b[2:4]), b[4:]
		case 0x8847, 0x8848:
			for {
				if len(b) < 4 {
					return 0
				}
				bottom := b[2]&1 != 0
				b = b[4:]
				if bottom {
					break
				}
			}
			et = guessIP(b)
		case 0x0800:
			if len(b) < 20 {
				return 0
			}
			return symHash(b[12:16], b[16:20])
		case 0x86dd:
			if len(b) < 40 {
				return 0
			}
			return symHash(b[8:24], b[24:40])
		default:
			return 0
		}
	}
	return 0
}

func guessIP(b []byte) uint16 {
	if len(b) == 0 {
		return 0
	}
	switch b[0] >> 4 {
	case 4:
		return 0x0800
	case 6:
		return 0x86dd
	}
	return 0
}

// symHash hashes two addresses so that their order does not matter.
func symHash(a, b []byte) uint64 {
	h := func(x []byte) uint64 {
		v := uint64(14695981039346656037)
		for _, c := range x {
			v ^= uint64(c)
			v *= 1099511628211
		}
		return v
	}
	x, y := h(a), h(b)
	v := x ^ y
	v ^= v >> 33
	v *= 0xff51afd7ed558ccd
	v ^= v >> 33
	return v
}
