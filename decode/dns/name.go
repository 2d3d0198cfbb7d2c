package dns

import (
	"encoding/binary"
	"fmt"
)

// readName appends the presentation form of the name starting at off to dst
// and returns it with the offset just past the name's in-place bytes (after
// its first compression pointer, or after the root label).
//
// The in-place part must end at or before limit (the end of the message, or
// of the RDATA holding the name); a compression pointer may point anywhere in
// msg, and labels reached through it are bounded by the message only.
// Termination: every label adds at least 2 to the wire count, capped at 255,
// and pointer hops are capped at maxPointers, so at most ~253 steps run per
// name whatever the bytes.
//
// On error dst is returned cut back to its length on entry.
func readName(msg []byte, off, limit int, dst []byte) ([]byte, int, error) {
	start := len(dst)
	end := -1 // in-place end, known at the first pointer
	wire := 0
	hops := 0
	pos := off
	for {
		if pos >= limit {
			if limit < len(msg) {
				return dst[:start], 0, truncAt(pos, "name runs past the end of its rdata")
			}
			return dst[:start], 0, truncAt(pos, "name runs past the end of the message")
		}
		c := int(msg[pos])
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				if end < 0 {
					end = pos + 1
				}
				if len(dst) == start {
					dst = append(dst, '.')
				}
				return dst, end, nil
			}
			// +1 for the length octet now, +1 for the root label that
			// must still follow.
			wire += c + 1
			if wire+1 > maxNameWire {
				return dst[:start], 0, &posError{pos, fmt.Errorf("%w (%d octets at label)", ErrNameTooLong, wire+1)}
			}
			if c > limit-pos-1 {
				return dst[:start], 0, truncAt(pos, "label of %d bytes, %d left", c, limit-pos-1)
			}
			if len(dst) > start {
				dst = append(dst, '.')
			}
			for _, b := range msg[pos+1 : pos+1+c] {
				if b == '.' || b == '\\' {
					dst = append(dst, '\\')
				}
				dst = append(dst, b)
			}
			pos += 1 + c
		case 0xc0:
			if limit-pos < 2 {
				return dst[:start], 0, truncAt(pos, "compression pointer needs 2 bytes, %d left", limit-pos)
			}
			hops++
			if hops > maxPointers {
				return dst[:start], 0, &posError{pos, fmt.Errorf("%w (more than %d)", ErrPointerLoop, maxPointers)}
			}
			ptr := int(binary.BigEndian.Uint16(msg[pos:]) & 0x3fff)
			if ptr >= len(msg) {
				return dst[:start], 0, &posError{pos, fmt.Errorf("%w: %d, message is %d bytes", ErrBadPointer, ptr, len(msg))}
			}
			if end < 0 {
				end = pos + 2
			}
			pos = ptr
			limit = len(msg)
		default:
			return dst[:start], 0, &posError{pos, fmt.Errorf("%w 0x%02x", ErrLabelType, c)}
		}
	}
}

// skipName steps over a name without following compression pointers (for
// names we do not keep). It enforces the same label rules on the in-place
// bytes: label types, label bounds and the 255-octet limit.
func skipName(msg []byte, off int) (int, error) {
	wire := 0
	pos := off
	for {
		if pos >= len(msg) {
			return pos, truncAt(pos, "name runs past the end of the message")
		}
		c := int(msg[pos])
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				return pos + 1, nil
			}
			wire += c + 1
			if wire+1 > maxNameWire {
				return pos, &posError{pos, fmt.Errorf("%w (%d octets at label)", ErrNameTooLong, wire+1)}
			}
			if c > len(msg)-pos-1 {
				return pos, truncAt(pos, "label of %d bytes, %d left", c, len(msg)-pos-1)
			}
			pos += 1 + c
		case 0xc0:
			if len(msg)-pos < 2 {
				return pos, truncAt(pos, "compression pointer needs 2 bytes, %d left", len(msg)-pos)
			}
			if ptr := int(binary.BigEndian.Uint16(msg[pos:]) & 0x3fff); ptr >= len(msg) {
				return pos, &posError{pos, fmt.Errorf("%w: %d, message is %d bytes", ErrBadPointer, ptr, len(msg))}
			}
			return pos + 2, nil
		default:
			return pos, &posError{pos, fmt.Errorf("%w 0x%02x", ErrLabelType, c)}
		}
	}
}
