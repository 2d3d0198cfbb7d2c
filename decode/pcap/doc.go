// Package pcap frames packet captures: classic libpcap files (microsecond
// and nanosecond magic, either byte order) and pcapng files (any number of
// sections, each with its own byte order and interfaces). It hands out one
// decode.Packet per captured frame and does nothing with the frame's bytes.
//
// We do not use gopacket's pcapgo here: it is strict (a record whose
// captured length exceeds the snap length aborts the file) and loses sync
// after a bad record, and forensic evidence is often written by odd tools or
// cut short. This reader is lenient where real writers are sloppy and
// bounded where input is hostile:
//
//   - A wire count never sizes an allocation. A classic record whose
//     captured length exceeds max(snaplen, 262144) or 16 MiB is rejected
//     before anything is read; a pcapng block must be 12 bytes to 64 MiB
//     long. The read buffer grows by doubling only while bytes actually
//     arrive, so a short file claiming a huge record costs little memory.
//   - Frames are returned in a reused buffer: Packet.Data is valid until the
//     next call to Next, and reading allocates nothing per packet.
//   - Timestamps are Unix nanoseconds. pcapng if_tsresol (a power of 10 or
//     of 2; microseconds when absent) and if_tsoffset are honoured; a
//     timestamp that does not fit an int64 is an error, never a wrapped value.
//   - A captured length larger than the original length is accepted as
//     written (some writers do it); Packet.WireLen is what the file says.
//   - pcapng blocks whose total length is not a multiple of 4 are accepted
//     when the trailing copy of the length confirms them (the spec says MUST,
//     the trailer is the stronger evidence). Minor versions other than 0 are
//     read (the spec asks readers to treat 1.2 as 1.0).
//   - A Simple Packet Block has no timestamp; it gets the last timestamp
//     seen in the file so far (normally the section's), or 0 if none.
//   - Name resolution, interface statistics, decryption secrets, custom and
//     unknown blocks are skipped by their length (the trailer is still
//     checked, so a lying length is caught).
//
// # Errors and sync
//
// Every problem is a *decode.Error naming the file and the byte offset of
// the record or block where it starts; everything returned before it stays
// valid. Errors come in two kinds.
//
// Errors that keep sync concern one pcapng block whose length was confirmed
// by its trailer, so the reader knows exactly where the next block starts.
// Next returns the error, and the following call carries on with the next
// block:
//
//   - a packet block naming an interface the section has not described;
//   - a packet block too short for its fixed fields, or whose captured
//     length overruns the block;
//   - a timestamp out of range (resolution or offset overflow);
//   - a Simple Packet Block before any interface in its section;
//   - an interface block too short or with malformed options (the interface
//     is still numbered, so later interface ids stay right; packets on a
//     too-short one are reported);
//   - more than 65536 interfaces in one section;
//   - a section header with a major version other than 1: as the spec
//     requires, everything up to the next section header is skipped.
//
// Errors that end the file wrap ErrFatal. After one, the stream cannot be
// framed any more (or has ended), and Next returns the same error forever;
// the caller goes on with its next file:
//
//   - the content ends inside a record or block (wraps decode.ErrTruncated);
//   - a classic record's captured length is beyond the limits above (the
//     only framing field is then untrustworthy);
//   - a pcapng block length outside 12 bytes to 64 MiB, or a trailing length
//     that differs from the leading one;
//   - a section header with an unknown byte-order magic or shorter than 28
//     bytes;
//   - the underlying reader fails (for example a corrupt gzip stream).
//
// A clean end of input at a record boundary gives io.EOF.
package pcap
