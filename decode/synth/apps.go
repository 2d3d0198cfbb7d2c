package synth

import (
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"time"
)

// Application-layer bytes. Everything a dissector can parse is well formed:
// TLS 1.3 handshakes with SNI, HTTP/1.1 with exact Content-Length, SSH
// version strings and key exchange, SMB2 READs in NetBIOS session framing,
// DNS with 2-byte length prefix over TCP, NTP v4. Encrypted parts are
// filler bytes of the right length.

func put24(b []byte, v int) { b[0], b[1], b[2] = byte(v>>16), byte(v>>8), byte(v) }

func appendRand(b []byte, r *rand.Rand, n int) []byte {
	for i := 0; i < n; i++ {
		b = append(b, byte(r.Uint32()))
	}
	return b
}

// appendU16Len appends a 2-byte length placeholder and returns its index.
func appendU16Len(b []byte) ([]byte, int) { return append(b, 0, 0), len(b) }

func backfill16(b []byte, at int) { binary.BigEndian.PutUint16(b[at:], uint16(len(b)-at-2)) }

// appendClientHello appends a TLS record holding a ClientHello for sni, as
// a current browser sends it (TLS 1.3 with 1.2 fallback). The 32-byte
// legacy session id is returned for the ServerHello to echo.
func appendClientHello(b []byte, r *rand.Rand, sni string, alpnH2 bool) ([]byte, []byte) {
	rec := len(b)
	b = append(b, 0x16, 3, 1, 0, 0)
	b, sid := appendHello(b, r, sni, alpnH2, nil)
	binary.BigEndian.PutUint16(b[rec+3:], uint16(len(b)-rec-5))
	return b, sid
}

// appendHello appends a ClientHello handshake message. With quicSCID set
// it is the QUIC flavour: no legacy session id, TLS 1.3 only, ALPN h3 and
// the transport parameters carrying the client's connection id.
func appendHello(b []byte, r *rand.Rand, sni string, alpnH2 bool, quicSCID []byte) ([]byte, []byte) {
	quic := quicSCID != nil
	hs := len(b)
	b = append(b, 1, 0, 0, 0)
	b = append(b, 3, 3)
	b = appendRand(b, r, 32)
	var sid []byte
	if quic {
		b = append(b, 0)
	} else {
		b = append(b, 32)
		at := len(b)
		b = appendRand(b, r, 32)
		sid = b[at : at+32]
	}
	suites := []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	if quic {
		suites = suites[:3]
	}
	b = binary.BigEndian.AppendUint16(b, uint16(2*len(suites)))
	for _, s := range suites {
		b = binary.BigEndian.AppendUint16(b, s)
	}
	b = append(b, 1, 0) // compression: null
	var exts int
	b, exts = appendU16Len(b)
	// server_name
	b = append(b, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(sni)+5))
	b = binary.BigEndian.AppendUint16(b, uint16(len(sni)+3))
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(sni)))
	b = append(b, sni...)
	if !quic {
		b = append(b, 0, 0x17, 0, 0)    // extended_master_secret
		b = append(b, 0xff, 1, 0, 1, 0) // renegotiation_info
	}
	b = append(b, 0, 0x0a, 0, 8, 0, 6) // supported_groups: x25519, secp256r1, secp384r1
	b = append(b, 0, 0x1d, 0, 0x17, 0, 0x18)
	if !quic {
		b = append(b, 0, 0x0b, 0, 2, 1, 0) // ec_point_formats
		b = append(b, 0, 0x23, 0, 0)       // session_ticket
	}
	switch {
	case quic:
		b = append(b, 0, 0x10, 0, 5, 0, 3, 2, 'h', '3')
	case alpnH2:
		b = append(b, 0, 0x10, 0, 14, 0, 12, 2, 'h', '2', 8)
		b = append(b, "http/1.1"...)
	default:
		b = append(b, 0, 0x10, 0, 11, 0, 9, 8)
		b = append(b, "http/1.1"...)
	}
	if !quic {
		b = append(b, 0, 5, 0, 5, 1, 0, 0, 0, 0) // status_request
	}
	b = append(b, 0, 0x0d, 0, 18, 0, 16) // signature_algorithms
	for _, s := range []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601} {
		b = binary.BigEndian.AppendUint16(b, s)
	}
	b = append(b, 0, 0x33, 0, 38, 0, 36, 0, 0x1d, 0, 32) // key_share: x25519
	b = appendRand(b, r, 32)
	b = append(b, 0, 0x2d, 0, 2, 1, 1) // psk_key_exchange_modes
	if quic {
		b = append(b, 0, 0x2b, 0, 3, 2, 3, 4) // supported_versions: 1.3
		// quic_transport_parameters: max_idle_timeout 30 s,
		// initial_max_data 15 MB, initial_source_connection_id.
		b = append(b, 0, 0x39, 0, byte(2+2+2+4+2+len(quicSCID)))
		b = append(b, 0x01, 2, 0x75, 0x30)             // 30000 as a 2-byte varint
		b = append(b, 0x04, 4, 0x80, 0xe4, 0xe1, 0xc0) // 15000000 as a 4-byte varint
		b = append(b, 0x0f, byte(len(quicSCID)))
		b = append(b, quicSCID...)
	} else {
		b = append(b, 0, 0x2b, 0, 5, 4, 3, 4, 3, 3) // supported_versions: 1.3, 1.2
	}
	backfill16(b, exts)
	put24(b[hs+1:], len(b)-hs-4)
	return b, sid
}

// appendServerHello appends a TLS 1.3 ServerHello record echoing sid,
// followed by the middlebox-compatibility ChangeCipherSpec record.
func appendServerHello(b []byte, r *rand.Rand, sid []byte) []byte {
	rec := len(b)
	b = append(b, 0x16, 3, 3, 0, 0)
	b = appendServerHelloMsg(b, r, sid)
	binary.BigEndian.PutUint16(b[rec+3:], uint16(len(b)-rec-5))
	return append(b, 0x14, 3, 3, 0, 1, 1)
}

// appendServerHelloMsg appends the ServerHello handshake message.
func appendServerHelloMsg(b []byte, r *rand.Rand, sid []byte) []byte {
	hs := len(b)
	b = append(b, 2, 0, 0, 0, 3, 3)
	b = appendRand(b, r, 32)
	b = append(b, byte(len(sid)))
	b = append(b, sid...)
	b = append(b, 0x13, 0x01, 0) // TLS_AES_128_GCM_SHA256, null compression
	b = append(b, 0, 46)
	b = append(b, 0, 0x2b, 0, 2, 3, 4)            // supported_versions: 1.3
	b = append(b, 0, 0x33, 0, 36, 0, 0x1d, 0, 32) // key_share
	b = appendRand(b, r, 32)
	put24(b[hs+1:], len(b)-hs-4)
	return b
}

var (
	userAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Safari/605.1.15",
	}
	httpPaths = []string{"/", "/index.html", "/assets/app.js", "/assets/site.css", "/img/banner.jpg", "/api/v1/items", "/favicon.ico", "/news/latest", "/download/setup.bin", "/static/fonts/sans.woff2"}
)

// appendHTTPRequest appends an HTTP/1.1 GET.
func appendHTTPRequest(b []byte, r *rand.Rand, hostName string, os osKind) []byte {
	b = append(b, "GET "...)
	b = append(b, httpPaths[r.IntN(len(httpPaths))]...)
	if r.IntN(3) == 0 {
		b = append(b, "?v="...)
		b = strconv.AppendUint(b, uint64(r.Uint32()), 16)
	}
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, hostName...)
	b = append(b, "\r\nUser-Agent: "...)
	b = append(b, userAgents[os]...)
	b = append(b, "\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nAccept-Language: en-US,en;q=0.9\r\nConnection: keep-alive\r\n\r\n"...)
	return b
}

// appendHTTPResponseHead appends the status line and headers of a 200
// response with a body of n bytes.
func appendHTTPResponseHead(b []byte, now int64, n int) []byte {
	b = append(b, "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: "...)
	b = time.Unix(0, now).UTC().AppendFormat(b, "Mon, 02 Jan 2006 15:04:05 GMT")
	b = append(b, "\r\nContent-Type: application/octet-stream\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, "\r\nCache-Control: max-age=3600\r\nConnection: keep-alive\r\n\r\n"...)
	return b
}

// SSH binary packets before NEWKEYS are in the clear; sshBegin starts one
// and sshEnd pads it to the 8-byte block size with at least 4 bytes.
func sshBegin(b []byte) ([]byte, int) { return append(b, 0, 0, 0, 0, 0), len(b) }

func sshEnd(b []byte, start int, r *rand.Rand) []byte {
	n := len(b) - start - 5
	pad := 8 - (5+n)%8
	if pad < 4 {
		pad += 8
	}
	b = appendRand(b, r, pad)
	binary.BigEndian.PutUint32(b[start:], uint32(1+n+pad))
	b[start+4] = byte(pad)
	return b
}

func appendSSHString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendSSHRandString(b []byte, r *rand.Rand, n int) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	return appendRand(b, r, n)
}

// appendKexInit appends an SSH_MSG_KEXINIT packet as OpenSSH 9 sends it.
func appendKexInit(b []byte, r *rand.Rand, server bool) []byte {
	b, s := sshBegin(b)
	b = append(b, 20)
	b = appendRand(b, r, 16)
	kex := "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,diffie-hellman-group16-sha512,diffie-hellman-group14-sha256"
	if server {
		kex += ",kex-strict-s-v00@openssh.com"
	} else {
		kex += ",ext-info-c,kex-strict-c-v00@openssh.com"
	}
	b = appendSSHString(b, kex)
	b = appendSSHString(b, "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256")
	for i := 0; i < 2; i++ {
		b = appendSSHString(b, "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com")
	}
	for i := 0; i < 2; i++ {
		b = appendSSHString(b, "umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256,hmac-sha2-512")
	}
	for i := 0; i < 2; i++ {
		b = appendSSHString(b, "none,zlib@openssh.com")
	}
	b = appendSSHString(b, "")
	b = appendSSHString(b, "")
	b = append(b, 0, 0, 0, 0, 0) // first_kex_packet_follows, reserved
	return sshEnd(b, s, r)
}

// appendKexECDHInit appends SSH_MSG_KEX_ECDH_INIT with an X25519 key.
func appendKexECDHInit(b []byte, r *rand.Rand) []byte {
	b, s := sshBegin(b)
	b = append(b, 30)
	b = appendSSHRandString(b, r, 32)
	return sshEnd(b, s, r)
}

// appendKexECDHReply appends SSH_MSG_KEX_ECDH_REPLY (ed25519 host key)
// and the server's SSH_MSG_NEWKEYS.
func appendKexECDHReply(b []byte, r *rand.Rand) []byte {
	b, s := sshBegin(b)
	b = append(b, 31)
	b = binary.BigEndian.AppendUint32(b, 51)
	b = appendSSHString(b, "ssh-ed25519")
	b = appendSSHRandString(b, r, 32)
	b = appendSSHRandString(b, r, 32)
	b = binary.BigEndian.AppendUint32(b, 83)
	b = appendSSHString(b, "ssh-ed25519")
	b = appendSSHRandString(b, r, 64)
	b = sshEnd(b, s, r)
	return appendNewKeys(b, r)
}

func appendNewKeys(b []byte, r *rand.Rand) []byte {
	b, s := sshBegin(b)
	b = append(b, 21)
	return sshEnd(b, s, r)
}

// SMB2 over NetBIOS session service: READ request and response headers. The
// read data follows the response header as filler.
func appendSMB2Header(b []byte, cmd uint16, resp bool, msgID uint64, tree uint32, session uint64, credit uint16) []byte {
	b = append(b, 0xfe, 'S', 'M', 'B', 64, 0)
	b = binary.LittleEndian.AppendUint16(b, credit) // credit charge
	b = append(b, 0, 0, 0, 0)                       // status / channel sequence
	b = binary.LittleEndian.AppendUint16(b, cmd)
	b = binary.LittleEndian.AppendUint16(b, credit) // credits requested / granted
	var flags uint32
	if resp {
		flags = 1
	}
	b = binary.LittleEndian.AppendUint32(b, flags)
	b = append(b, 0, 0, 0, 0) // next command
	b = binary.LittleEndian.AppendUint64(b, msgID)
	b = binary.LittleEndian.AppendUint32(b, 0xfeff) // process id
	b = binary.LittleEndian.AppendUint32(b, tree)
	b = binary.LittleEndian.AppendUint64(b, session)
	return append(b, make([]byte, 16)...) // signature
}

const smb2Read = 8

// appendSMB2ReadRequest appends a NetBIOS-framed SMB2 READ request.
func appendSMB2ReadRequest(b []byte, msgID uint64, tree uint32, session uint64, fid [16]byte, off uint64, n int) []byte {
	nb := len(b)
	b = append(b, 0, 0, 0, 0)
	b = appendSMB2Header(b, smb2Read, false, msgID, tree, session, uint16((n+65535)/65536))
	b = append(b, 49, 0, 0x50, 0) // structure size, padding, flags
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint64(b, off)
	b = append(b, fid[:]...)
	b = append(b, 1, 0, 0, 0) // minimum count
	b = append(b, 0, 0, 0, 0) // channel
	b = append(b, 0, 0, 0, 0) // remaining bytes
	b = append(b, 0, 0, 0, 0) // read channel info offset, length
	b = append(b, 0)          // buffer
	put24(b[nb+1:], len(b)-nb-4)
	return b
}

// appendSMB2ReadResponseHead appends the NetBIOS and SMB2 headers of a READ
// response carrying n data bytes; the data itself is not appended.
func appendSMB2ReadResponseHead(b []byte, msgID uint64, tree uint32, session uint64, n int) []byte {
	nb := len(b)
	b = append(b, 0, 0, 0, 0)
	b = appendSMB2Header(b, smb2Read, true, msgID, tree, session, uint16((n+65535)/65536))
	b = append(b, 17, 0, 0x50, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0) // data remaining, reserved
	put24(b[nb+1:], len(b)-nb-4+n)
	return b
}

// NTP timestamps count seconds from 1900.
const ntpEpochOffset = 2208988800

func putNTPTime(b []byte, ns int64) {
	if ns == 0 {
		binary.BigEndian.PutUint64(b, 0)
		return
	}
	sec := uint64(ns/1e9) + ntpEpochOffset
	frac := uint64(ns%1e9) << 32 / 1e9
	binary.BigEndian.PutUint64(b, sec<<32|frac)
}

// appendNTP appends a 48-byte NTPv4 packet. A client request carries only
// its transmit time; a server reply echoes it as origin.
func appendNTP(b []byte, server bool, stratum uint8, refID [4]byte, ref, origin, recv, xmit int64) []byte {
	p := len(b)
	b = append(b, make([]byte, 48)...)
	h := b[p:]
	if server {
		h[0] = 0<<6 | 4<<3 | 4
		h[1] = stratum
		h[2] = 10
		h[3] = 0xe9 // precision 2^-23
		binary.BigEndian.PutUint32(h[4:], 0x0000_0a3d)
		binary.BigEndian.PutUint32(h[8:], 0x0000_0624)
		copy(h[12:16], refID[:])
		putNTPTime(h[16:], ref)
		putNTPTime(h[24:], origin)
		putNTPTime(h[32:], recv)
	} else {
		h[0] = 0<<6 | 4<<3 | 3
		h[2] = 10
		h[3] = 0xe9
	}
	putNTPTime(h[40:], xmit)
	return b
}
