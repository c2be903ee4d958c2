// Package ecp implements the Edge Control Protocol of IEEE 802.1Qbg-2012
// (now IEEE 802.1Q-2014 clause 43): a reliable, acknowledged transport that
// carries one upper-layer PDU (ULPDU) at a time between a station and its
// nearest bridge, in Ethernet frames of EtherType 0x8940 sent to the
// nearest-customer-bridge group address 01:80:C2:00:00:00.
//
// Upper layers are told apart by the ECP subtype: 1 is VDP (the VSI
// Discovery and Configuration Protocol, package vdp), 2 is the Port
// Extender Control and Status Protocol of IEEE 802.1BR, on which niv runs
// its own VIF negotiation protocol (package vic).
//
// The package has three layers:
//
//   - the codec: [Header], [ParseHeader], [Decode] and [AppendFrame] read
//     and write the 4-byte ECP header and whole ECP frames without
//     allocating;
//   - the state machines: [Machine] joins the transmit machine (one
//     outstanding ULPDU, acknowledgement timer of 10 µs × 2^RTE, at most
//     R retransmissions, then a failure report) and the receive machine
//     (acknowledge every request, deliver each sequence number once,
//     acknowledge duplicates again) as a pure transition
//     Handle(event, now) → actions, with no goroutine, timer or I/O
//     inside;
//   - the driver: [Speaker] runs a Machine on any frame port (anything
//     with WriteFrame), arms the acknowledgement timer with the time
//     package, so testing/synctest controls it, and dispatches ULPDUs by
//     subtype to registered upper layers.
//
// The behaviour follows lldpad's ecp22 (the reference implementation the
// project tests against live) where the standard leaves room: the first
// sequence number of a session is 1 and 0 is skipped on wrap, the first
// request after a (re)start is always new, and an ECPDU whose version is
// not 1 is dropped without an acknowledgement. Unlike lldpad, the transmit
// machine moves on as soon as the matching acknowledgement arrives instead
// of waiting for the acknowledgement timer to expire.
package ecp
