// Package hostile builds crafted evidence for the hostile-evidence suite:
// pcap and pcapng files whose frames carry malicious DNS, NetFlow v9/IPFIX
// exports, fragments and framing, each mixed with a few legitimate records
// the suite expects to find in the case afterwards. Everything is written
// streaming, so the 10^7-frame captures never sit in memory.
//
// It is generator code for tests only: nothing in spotctl imports it.
package hostile

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os"
)

// Base is the timestamp (Unix seconds) of the first frame of every capture.
const Base = 1772409600 // 2026-03-02T00:00:00Z

// PcapWriter writes a classic little-endian µs pcap with Ethernet frames.
type PcapWriter struct {
	w   *bufio.Writer
	f   *os.File
	err error
	n   int64 // bytes written: the offset of the next record
	hdr [16]byte
}

// CreatePcap creates path and writes the file header.
func CreatePcap(path string) (*PcapWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	pw := NewPcapWriter(f)
	pw.f = f
	return pw, pw.err
}

// NewPcapWriter writes the file header to w.
func NewPcapWriter(w io.Writer) *PcapWriter {
	pw := &PcapWriter{w: bufio.NewWriterSize(w, 1<<20)}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 262144)
	binary.LittleEndian.PutUint32(h[20:], 1) // Ethernet
	pw.write(h[:])
	return pw
}

func (pw *PcapWriter) write(b []byte) {
	if pw.err != nil {
		return
	}
	_, pw.err = pw.w.Write(b)
	pw.n += int64(len(b))
}

// Offset is the byte offset the next record will start at.
func (pw *PcapWriter) Offset() int64 { return pw.n }

// Frame writes one record at Base+usec microseconds.
func (pw *PcapWriter) Frame(usec int64, frame []byte) {
	pw.Record(usec, uint32(len(frame)), uint32(len(frame)), frame)
}

// Record writes a record header with the given lengths, then data as is:
// the lengths may lie.
func (pw *PcapWriter) Record(usec int64, caplen, wirelen uint32, data []byte) {
	h := pw.hdr[:]
	binary.LittleEndian.PutUint32(h[0:], uint32(Base+usec/1e6))
	binary.LittleEndian.PutUint32(h[4:], uint32(usec%1e6))
	binary.LittleEndian.PutUint32(h[8:], caplen)
	binary.LittleEndian.PutUint32(h[12:], wirelen)
	pw.write(h)
	pw.write(data)
}

// Close flushes and closes the file.
func (pw *PcapWriter) Close() error {
	if pw.err == nil {
		pw.err = pw.w.Flush()
	}
	if pw.f != nil {
		if err := pw.f.Close(); pw.err == nil {
			pw.err = err
		}
	}
	return pw.err
}

// Endpoint is one side of a conversation.
type Endpoint struct {
	IP   netip.Addr // IPv4
	Port uint16
}

// EP parses "a.b.c.d" and a port.
func EP(ip string, port uint16) Endpoint { return Endpoint{netip.MustParseAddr(ip), port} }

const (
	ethLen  = 14
	ipv4Len = 20
	udpLen  = 8
	tcpLen  = 20
)

// TCP flags.
const (
	FIN = 0x01
	SYN = 0x02
	RST = 0x04
	PSH = 0x08
	ACK = 0x10
)

func ethIPv4(dst []byte, src, dstIP netip.Addr, proto uint8, l4len int, id uint16, fragOff uint16, more bool) []byte {
	dst = append(dst, 0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00)
	ip := len(dst)
	ff := fragOff / 8
	if more {
		ff |= 0x2000
	}
	src4, dst4 := src.As4(), dstIP.As4()
	dst = append(dst, 0x45, 0, byte((ipv4Len+l4len)>>8), byte(ipv4Len+l4len), byte(id>>8), byte(id), byte(ff>>8), byte(ff), 64, proto, 0, 0)
	dst = append(dst, src4[:]...)
	dst = append(dst, dst4[:]...)
	var s uint32
	for i := ip; i < ip+ipv4Len; i += 2 {
		s += uint32(dst[i])<<8 | uint32(dst[i+1])
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	binary.BigEndian.PutUint16(dst[ip+10:], ^uint16(s))
	return dst
}

// UDP appends an Ethernet/IPv4/UDP frame to dst.
func UDP(dst []byte, src, to Endpoint, payload []byte) []byte {
	dst = ethIPv4(dst, src.IP, to.IP, 17, udpLen+len(payload), 1, 0, false)
	n := udpLen + len(payload)
	dst = append(dst, byte(src.Port>>8), byte(src.Port), byte(to.Port>>8), byte(to.Port), byte(n>>8), byte(n), 0, 0)
	return append(dst, payload...)
}

// TCP appends an Ethernet/IPv4/TCP frame to dst.
func TCP(dst []byte, src, to Endpoint, flags uint8, seq, ack uint32, payload []byte) []byte {
	dst = ethIPv4(dst, src.IP, to.IP, 6, tcpLen+len(payload), 1, 0, false)
	dst = append(dst, byte(src.Port>>8), byte(src.Port), byte(to.Port>>8), byte(to.Port))
	dst = binary.BigEndian.AppendUint32(dst, seq)
	dst = binary.BigEndian.AppendUint32(dst, ack)
	dst = append(dst, 5<<4, flags, 0xff, 0xff, 0, 0, 0, 0)
	return append(dst, payload...)
}

// Fragment appends an IPv4 fragment (UDP protocol) carrying data at byte
// offset off (a multiple of 8) of datagram id.
func Fragment(dst []byte, src, to netip.Addr, id uint16, off uint16, more bool, data []byte) []byte {
	dst = ethIPv4(dst, src, to, 17, len(data), id, off, more)
	return append(dst, data...)
}

// Conversation writes frames with increasing timestamps.
type Conversation struct {
	W    *PcapWriter
	USec int64 // time of the next frame, µs after Base
	buf  []byte
}

func (c *Conversation) emit(frame []byte) {
	c.W.Frame(c.USec, frame)
	c.USec += 1000
	c.buf = frame[:0]
}

// UDP writes one UDP frame.
func (c *Conversation) UDP(src, to Endpoint, payload []byte) {
	c.emit(UDP(c.buf[:0], src, to, payload))
}

// TCPStream writes a whole TCP connection: handshake, client data in one
// segment per element of toServer, server data, FIN both ways.
func (c *Conversation) TCPStream(cl, sv Endpoint, toServer, toClient [][]byte) {
	cs, ss := uint32(1000), uint32(5000)
	c.emit(TCP(c.buf[:0], cl, sv, SYN, cs, 0, nil))
	c.emit(TCP(c.buf[:0], sv, cl, SYN|ACK, ss, cs+1, nil))
	cs++
	ss++
	c.emit(TCP(c.buf[:0], cl, sv, ACK, cs, ss, nil))
	for _, p := range toServer {
		c.emit(TCP(c.buf[:0], cl, sv, PSH|ACK, cs, ss, p))
		cs += uint32(len(p))
	}
	for _, p := range toClient {
		c.emit(TCP(c.buf[:0], sv, cl, PSH|ACK, ss, cs, p))
		ss += uint32(len(p))
	}
	c.emit(TCP(c.buf[:0], cl, sv, FIN|ACK, cs, ss, nil))
	c.emit(TCP(c.buf[:0], sv, cl, FIN|ACK, ss, cs+1, nil))
	c.emit(TCP(c.buf[:0], cl, sv, ACK, cs+1, ss+1, nil))
}

// The legitimate traffic every hostile capture carries (Legit writes it).
var (
	LegitClient    = EP("192.0.2.10", 40000)
	LegitServer    = EP("198.51.100.20", 443)
	LegitResolver  = EP("192.0.2.53", 53)
	LegitDNSClient = EP("192.0.2.10", 50000)
	LegitTCPClient = EP("192.0.2.10", 50001)
)

// LegitName is the query name of the legitimate DNS exchange tagged tag.
func LegitName(tag string) string { return "legit-" + tag + ".example.com" }

// Legit writes a valid DNS query/response over UDP (name LegitName(tag)),
// the same over TCP (LegitName(tag+"-tcp")), and a normal HTTPS-port TCP
// flow from LegitClient with source port LegitClient.Port+portOff.
func Legit(c *Conversation, tag string, portOff uint16) {
	name := LegitName(tag)
	c.UDP(LegitDNSClient, LegitResolver, DNSQuery(0x1234, name, 1))
	c.UDP(LegitResolver, LegitDNSClient, DNSResponse(0x1234, name, netip.MustParseAddr("198.51.100.20")))
	tname := LegitName(tag + "-tcp")
	tc := LegitTCPClient
	tc.Port += portOff
	c.TCPStream(tc, LegitResolver, [][]byte{TCPFramed(DNSQuery(0x4321, tname, 1))}, [][]byte{TCPFramed(DNSResponse(0x4321, tname, netip.MustParseAddr("198.51.100.21")))})
	cl := LegitClient
	cl.Port += portOff
	c.TCPStream(cl, LegitServer, [][]byte{[]byte("GET / HTTP/1.1\r\nHost: legit\r\n\r\n")}, [][]byte{[]byte("HTTP/1.1 204 No Content\r\n\r\n")})
}

// TCPFramed prefixes a DNS message with its two-byte length (DNS over TCP).
func TCPFramed(msg []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...)
}

// EncodeName encodes a dotted name as DNS labels.
func EncodeName(dst []byte, name string) []byte {
	start := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			if i > start {
				dst = append(dst, byte(i-start))
				dst = append(dst, name[start:i]...)
			}
			start = i + 1
		}
	}
	return append(dst, 0)
}

// DNSHeader appends a DNS header.
func DNSHeader(dst []byte, id uint16, response bool, qd, an, ns, ar uint16) []byte {
	flags := uint16(0x0100) // rd
	if response {
		flags |= 0x8080 // qr ra
	}
	for _, v := range []uint16{id, flags, qd, an, ns, ar} {
		dst = binary.BigEndian.AppendUint16(dst, v)
	}
	return dst
}

// DNSQuery is a query for name of type qtype, class IN.
func DNSQuery(id uint16, name string, qtype uint16) []byte {
	b := DNSHeader(nil, id, false, 1, 0, 0, 0)
	b = EncodeName(b, name)
	return append(b, byte(qtype>>8), byte(qtype), 0, 1)
}

// DNSResponse answers an A query for name with addr (TTL 60).
func DNSResponse(id uint16, name string, addr netip.Addr) []byte {
	b := DNSHeader(nil, id, true, 1, 1, 0, 0)
	b = EncodeName(b, name)
	b = append(b, 0, 1, 0, 1)
	b = append(b, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
	a := addr.As4()
	return append(b, a[:]...)
}

// RawNameMessage is a response whose question name is the raw bytes name
// (which may be anything: loops, bad lengths), with ancount answers
// claimed and the given answer bytes after the question.
func RawNameMessage(id uint16, name []byte, ancount uint16, answers []byte) []byte {
	b := DNSHeader(nil, id, true, 1, ancount, 0, 0)
	b = append(b, name...)
	b = append(b, 0, 1, 0, 1)
	return append(b, answers...)
}

// TXTResponse answers name with one TXT record holding each of txt as a
// character-string (each at most 255 bytes).
func TXTResponse(id uint16, name string, txt ...string) []byte {
	b := DNSHeader(nil, id, true, 1, 1, 0, 0)
	b = EncodeName(b, name)
	b = append(b, 0, 16, 0, 1)
	var rd []byte
	for _, s := range txt {
		rd = append(rd, byte(len(s)))
		rd = append(rd, s...)
	}
	b = append(b, 0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, byte(len(rd)>>8), byte(len(rd)))
	return append(b, rd...)
}
