// Package evb implements the LLDP TLVs of Edge Virtual Bridging, IEEE
// 802.1Qbg-2012 (now IEEE 802.1Q-2014 clauses 40–42):
//
//   - the EVB TLV (OUI 00-80-C2, subtype 0x0D, [TLV]), by which a station
//     and its nearest bridge agree on reflective relay, group IDs and the
//     timer exponents of ECP (R, RTE) and VDP (RWD, RKA), with [Negotiate]
//     the rule by which each side picks the values in use;
//   - the pre-standard draft-0.2 EVB TLV (OUI 00-1B-3F, subtype 0x00,
//     [Draft]) that lldpad's "evb" module and tshark's
//     lldp.ieee.802_1qbg fields know;
//   - the S-Channel Discovery and Configuration Protocol TLV (CDCP, OUI
//     00-80-C2, subtype 0x0E, [CDCP]).
//
// The codecs work on the value of an LLDP organizationally specific TLV
// (type 127): OUI, subtype, then the body; package vdp/lldp walks the
// LLDPDU. Parse functions never allocate and return bare sentinel errors.
package evb
