// Package synth writes seeded synthetic packet captures of an office
// network: realistic background traffic for demos, tests and benchmarks.
// The same Options (Seed included) always give a byte-identical classic
// pcap (nanosecond timestamps, Ethernet, snaplen 262144), in timestamp
// order, generated in bounded memory at roughly a million packets per
// second on one core.
//
// # Network
//
// One flat LAN, 10.20.0.0/16, behind a gateway at 10.20.0.1 (all traffic to
// the outside goes to its MAC). The capture point is a mirror port on the
// LAN switch, so internal hosts' packets are seen with their initial TTL
// (128 Windows, 64 Linux/macOS) and outside hosts' packets with their TTL
// after 6–19 hops. The first five hosts are servers (Linux VMs):
//
//	dns1.corp.internal      10.20.1.53   recursive resolver for everyone, forwards to 192.0.2.53/.54
//	ntp.corp.internal       10.20.1.123  NTP server, syncs from 192.0.2.123/.124
//	files.corp.internal     10.20.1.45   SMB2 file server (TCP/445)
//	intranet.corp.internal  10.20.1.80   internal web (HTTPS, some HTTP)
//	jump.corp.internal      10.20.1.22   SSH jump host
//
// The rest are workstations ws-0001… from 10.20.10.1 on (70 % Windows,
// 20 % Linux, 10 % macOS, with matching TTLs, TCP options, ephemeral port
// ranges, DNS behaviour and ping payloads). Every 16th workstation sits on a
// tagged lab VLAN (802.1Q id 30). Options.IPv6Share of the workstations are
// dual-stack with a random interface id in fd00:20::/64; the resolver and
// the intranet server then are too. MACs use real vendor OUIs with random
// low bytes.
//
// # The outside world
//
// About 200 browsed names under 60 fictional brands (Contoso, Fabrikam,
// Northwind Traders, Hooli, Initech, …; see names.go), most popular first,
// chosen by a Zipf law (s = 1.15), plus seven mistyped or dead names that
// answer NXDOMAIN. The world is fixed: it does not depend on the seed, so
// the same names resolve to the same addresses in every capture. About a
// third of the names are CNAMEs into one of three fictional CDNs with
// shared address pools; the others have one or two addresses of their own.
// All outside addresses are documentation space (192.0.2.0/24,
// 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32). TTLs range from 20 s
// (CDN answers) to a day. Every brand apex answers MX and TXT (SPF and
// verification tokens); a few TXT answers exceed 1232 bytes, so the UDP
// answer is truncated (TC) and the client retries over TCP with the 2-byte
// length prefix.
//
// # Behaviour
//
// Each workstation's user starts sessions as a Poisson process whose rate
// follows a daily curve (see hourly in background.go): near zero at night,
// ramping up from 07:00, peaking 10:00–16:00 with a lunch dip, falling off
// in the evening, 12 % on weekends, shifted per host by up to ±75 minutes.
// Hours are those of Options.Start's location. A session is mostly a web
// visit (the main name plus up to three names of the same brand), otherwise
// intranet web, an SMB file read, an interactive SSH session, a ping run,
// or a DNS-only lookup (PTR of a colleague's machine, MX, TXT, WPAD). Machine
// traffic ignores the curve: every host polls NTP every ~1024 s and checks
// for updates about hourly, so nights are quiet but not silent.
//
// Names are looked up through the resolver unless the host's own cache
// still holds them (TTL-based): A, plus AAAA on dual-stack hosts (Windows
// sends each query from its own port, glibc both from one; Linux and macOS
// add EDNS0). The resolver answers from its cache with the remaining TTL,
// or first asks its forwarder (EDNS0 with DO). Answers carry CNAME chains,
// rotated address sets, SOA authority records for NXDOMAIN and NODATA, and
// name compression.
//
// TCP connections have a full handshake with OS-typical options (MSS,
// window scale, SACK, timestamps on Linux/macOS), data in flights that
// follow slow start, delayed ACKs (every second segment) from the near
// side and round-trip-delayed ACK bursts from the far side, a payload of at
// most the MSS (1460 bytes minus options), and a teardown by FIN in either
// order or by RST. Payloads parse: TLS 1.3 ClientHello with SNI and ALPN,
// ServerHello and application-data records of the right lengths; HTTP/1.1
// with exact Content-Length; SSH version strings and key exchange in the
// clear, then encrypted-looking packets; SMB2 READs in NetBIOS framing; NTP
// v4; ICMP and ICMPv6 echo with Windows or Linux payloads. QUIC v1
// connections on UDP/443 start with Initial packets protected as RFC 9001
// says (a dissector decrypts them and finds the ClientHello with SNI and
// the ServerHello), then Handshake and short-header 1-RTT packets with
// filler bodies, paced data and ACK-only packets.
//
// # Determinism and memory
//
// Randomness comes only from math/rand/v2 PCG streams seeded by
// Options.Seed: one per host (its sessions, ports, sequence numbers), one
// for the network layout and one for payload filler; the fixed outside
// world has a constant stream of its own. No map is iterated on the
// output path and the clock is never read. Pending packets are a binary
// heap of actors keyed by (timestamp, scheduling sequence); each actor
// emits one packet per turn, so only the conversations in flight are held
// (bounded by 24 concurrent sessions per host), never the capture.
//
// # Injected attacks
//
// Options.Inject adds labelled malicious activities to the background
// (ParseInjections reads the CLI syntax, "beacon:interval=60s,scan"):
//
//	beacon      TLS check-ins to a rare external address every Interval ± Jitter (300 s, 10 %), day and night
//	scan        TCP connect scan of Ports (1-1024 and common high ports) on Targets (2) workstations at 14:10
//	dns-tunnel  TXT/NULL/CNAME queries for 2–3 base32 labels of 40–60 characters under Domain,
//	            one socket to the resolver, which forwards each upstream; every ~3 s for 90 min from 10:15
//	exfil       Bytes (200 MB) uploaded over Conns (2) TLS connections to a rare address, 02:00–03:30
//	dga         Count (300) NXDOMAIN lookups of random names from 08:50; the last resolves and is contacted
//	lateral     SMB reads and SSH sessions from one workstation to Targets (10) others at 15:20
//
// Each injector is an actor with its own PCG stream (Options.Seed and its
// position), built from the same pieces as the background (initConn with
// an explicit stream, planTLSHandshake, planSMB, planSSH; rawUDP scripts
// for DNS messages with names outside the fixed world). Injected sockets
// take their ports from the attacker's and the resolver's allocators, so
// no background conversation shares a 5-tuple with an injected one and the
// rest of the background is unchanged; with no injection the output is
// exactly what it was before injections existed (the digest golden).
//
// Stats.Truth describes what came out: per activity the attacker, its
// destinations and ports, the window of its first and last packet, packet,
// byte and flow counts, the effective parameters and a Match rule
// (conversation keys with port lists where addresses are shared with the
// background, plus DNS clients and name suffixes) that labels flows and DNS
// messages exactly: Truth.LabelFlow, Truth.LabelDNS. Truth.WriteJSONL and
// ReadTruth are the truth file (JSON Lines). docs/synth.md documents the
// scenarios, their parameters and the truth format.
//
// # Adding actors
//
// Everything that emits packets implements the internal actor interface
// (fire(g, now) → next time). Background hosts, DNS lookups (script),
// TCP connections (tcpConn), QUIC connections (quicConn) and the injected
// scenarios are actors built from reusable pieces: pathPair (addressing),
// lookup (DNS through the resolver), newConn or injConn plus a plan (the
// messages of a TCP conversation) and startFollow. A frame belongs to the
// injector whose actor emitted it (gen.inj), which is how the truth counts
// packets.
package synth
