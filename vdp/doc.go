// Package vdp implements the VDPDU codec of the VSI Discovery and
// Configuration Protocol of IEEE 802.1Qbg-2012 (now IEEE 802.1Q-2014
// clause 41), "VDP22": the TLVs a station and its nearest bridge exchange,
// over ECP subtype 1 (package vdp/ecp), to associate a virtual station
// interface (a VM's vNIC, named by its VSIID and MAC/VLAN filters) with
// the bridge port.
//
// A VDPDU is a sequence of TLVs. Each TLV header is 16 bits, a 7-bit type
// and a 9-bit length (the number of value bytes), packed as in LLDP:
//
//	 0                   1
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+---------------------
//	|    type     |      length     | value (length bytes)
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+---------------------
//
// The types are Pre-Associate (1), Pre-Associate with resource
// reservation (2), Associate (3), De-Associate (4) — the VSI TLVs, see
// [VSI] — the VSI Manager ID (5) and organizationally defined TLVs (127),
// see [Org]. A VDPDU holds the Manager ID TLV first, then one VSI TLV
// followed by any organizationally defined TLVs (lldpad sends and
// requires that order; a VDPDU may hold further VSI TLVs, each with its
// own organizationally defined TLVs).
//
// The package has four layers:
//
//   - [Decoder] walks the TLVs of a VDPDU in place, in the style of
//     mdlayher/netlink's AttributeDecoder, with typed getters and a
//     sticky error, never allocating;
//   - [PDU] is a whole VDPDU as a value: [PDU.Decode] fills it through a
//     Decoder reusing its slices (0 allocations once they have grown),
//     [PDU.AppendBinary] encodes it after the caller's bytes;
//   - [Station] and [Bridge] are VDP's state machines (802.1Qbg 41.5.5,
//     lldpad's vdp22st/vdp22br) as pure transitions Handle(event, now) →
//     actions, their timers computed from the EVB TLV's R, RTE, RWD and
//     RKA ([Timers]); the bridge asks a [Decider] about each request and
//     covers all of a bridge's EVB ports, so that a VSIID is associated on
//     one port at most and an Associate elsewhere is a migration;
//   - [StationRunner] and [BridgeRunner] run them on ECP speakers
//     (vdp/ecp) with time.Timer deadlines.
//
// lldpad's rules are followed where they say more than the frames do: a
// VDPDU need not end in an End TLV (lldpad sends none; a zero TLV header,
// such as Ethernet padding, ends it too), a VSI TLV's length must be
// exactly 25 + N × entry size with N ≥ 1, and a VDPDU whose first TLV is
// not the Manager ID, or which holds a second one, is refused. Unknown
// TLV types are skipped by the Decoder and kept by PDU.Decode as
// [PDU.Unknown].
package vdp
