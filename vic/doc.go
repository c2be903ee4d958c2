// Package vic is niv's virtual interface control protocol: how an
// interface virtualizer (IV) and a virtual interface switch (VIS) agree
// that a VM's vNIC has a VIF id on the wire and a vEth on the switch,
// bound to a port profile — the control plane of VN-Link, where the
// fabric creates a vNIC's virtual Ethernet port when the VM powers on and
// keeps it, with its configuration and counters, when the VM moves.
//
// Messages ride in ECP (package vdp/ecp) with subtype 2, the 802.1BR
// PE-CSP subtype, in niv's own versioned TLV encoding (the PE-CSP
// encodings could not be confirmed): a command TLV whose identifier no
// standard TLV can carry, then value TLVs. PROTOCOL.md in this directory
// describes it byte by byte; Message, Decode and AppendBinary implement
// it, decoding without allocations.
//
// The exchanges: open a session with capabilities (VNTag or E-Tag, how
// many VIFs); ask for a vEth for a vNIC (MAC, port-profile name, VM
// instance UUID, optional VLAN) and get a VIF id or a refusal whose
// result code is Linux's PORT_PROFILE_RESPONSE_* (unknown profile,
// profile disabled, max ports, VIF ids exhausted, bad request);
// enable/disable; delete; VIF-list programming; keepalives and dead-peer
// detection; resync after either side restarts, giving each instance
// UUID its vEth back; migration by placement epoch, keeping the vEth id.
//
// IVMachine and VISMachine are the two sides' state machines — a session
// per uplink, a per-VIF machine per vNIC — as pure transitions
// Handle(event, now) → actions, with no goroutine, timer or I/O inside,
// so the same code runs under tests, harnesses and daemons. Actions
// program the data paths through the narrow IVProgrammer and
// VISProgrammer interfaces (vic/bind implements them on the vic/iv and
// vic/vis cores). IVAgent and VISAgent are thin drivers that run the
// machines on ecp.Speakers with time.Timers (testing/synctest controls
// them).
package vic
