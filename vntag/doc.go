// Package vntag encodes and decodes the link-local tags of Network Interface
// Virtualization: Cisco's VNTag (EtherType 0x8926) and the IEEE 802.1BR E-Tag
// (EtherType 0x893F), which join a virtual machine's vNIC to its own virtual
// port on an upstream switch.
//
// A VNTag or E-Tag sits in an Ethernet frame right after the source MAC
// address, or after outer 802.1Q (0x8100), 802.1ad (0x88A8) or 0x9100 VLAN
// tags; any number of VLAN tags may also follow it:
//
//	DA(6) SA(6) [VLAN tags] | 0x8926 | tag (4)   | next EtherType | ...
//	DA(6) SA(6) [VLAN tags] | 0x893F | E-TCI (6) | next EtherType | ...
//
// The package offers, for each tag:
//
//   - a comparable value type with every field ([Tag], [ETag]), decoded with
//     [ParseTag]/[ParseETag] and encoded into the caller's buffer with
//     [Tag.Put]/[ETag.Put] (or appended, or marshaled);
//   - a zero-copy view over the bytes of a frame ([TagHeader], [ETagHeader]);
//   - in-place [Push] and [Pop] ([PushETag], [PopETag]) that move only the
//     MAC addresses and any outer VLAN tags, into headroom the caller left in
//     front of the frame, so the payload is never copied;
//   - a walker over the tag stack ([TagIter], [FindTag]).
//
// Decoding is lenient, as Wireshark's dissectors are: reserved bits and an
// unknown version are decoded and kept, so every tag round-trips byte for
// byte. [Tag.Validate] and [ETag.Validate] apply the sender's rules.
//
// Nothing in the package allocates on valid input, and nothing panics on any
// input: bad input returns an error wrapping one of the sentinels (ErrShortBuffer,
// ErrEtherType, ErrRange, ...). The package does no I/O and keeps no state; the
// gopacket adapter lives in package vntaglayers.
//
// Sources: Wireshark's packet-vntag.c and packet-etag.c (field names, masks),
// Suricata's decode-vntag.c, the IEEE 802.1 "VNTag 101" seminar (J. Pelissier,
// 2008) and IEEE Std 802.1BR-2012.
package vntag
