package vdp

import (
	"time"

	"github.com/nivkit/niv/vdp/evb"
)

// Timers are the EVB exponents VDP's timers come from (802.1Qbg
// 41.5.5.7, 41.5.5.9, as lldpad computes them): ECP's R and RTE and VDP's
// RWD and RKA, each exponent counting 10 µs × 2^exp.
type Timers struct {
	R, RTE, RWD, RKA uint8
}

// DefaultTimers are lldpad's defaults: R 3, RTE 8, RWD 20, RKA 20.
var DefaultTimers = Timers{R: 3, RTE: 8, RWD: 20, RKA: 20}

// TimersFrom returns the timers of a negotiated EVB TLV (the one an
// lldp.Agent reports).
func TimersFrom(t evb.TLV) Timers { return Timers{R: t.R, RTE: t.RTE, RWD: t.RWD, RKA: t.RKA} }

func exp(e uint8) time.Duration { return 10 * time.Microsecond << (e & 31) }

// ecpWorst is (2R+1) × ECP's acknowledgement timer: how long ECP can take
// to get one PDU through, or give up, in both directions.
func (t Timers) ecpWorst() time.Duration { return time.Duration(2*int(t.R&7)+1) * exp(t.RTE) }

// StationResponseWait is how long a station waits for the bridge's
// response to a request: 1.5 × ((2R+1) × 10·2^RTE + 10·2^RWD) µs
// (17.449 s at R 3, RTE 14, RWD 20; measured on lldpad).
func (t Timers) StationResponseWait() time.Duration { return (t.ecpWorst() + exp(t.RWD)) * 3 / 2 }

// StationKeepAlive is the station's keep-alive period, 10·2^RKA µs (10.486
// s at RKA 20).
func (t Timers) StationKeepAlive() time.Duration { return exp(t.RKA) }

// BridgeResourceWait is the bridge's resource wait delay, 10·2^RWD µs: the
// time it has to answer a request.
func (t Timers) BridgeResourceWait() time.Duration { return exp(t.RWD) }

// BridgeKeepAlive is how long a bridge keeps a VSI without hearing from
// its station: 1.5 × ((2R+1) × 10·2^RTE + 10·2^RKA) µs.
func (t Timers) BridgeKeepAlive() time.Duration { return (t.ecpWorst() + exp(t.RKA)) * 3 / 2 }
