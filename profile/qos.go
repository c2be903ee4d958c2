package profile

// Marking is what a QoS policy writes into admitted frames: the 802.1Q
// priority (CoS, 0-7) and the IP DSCP (0-63), each only when its Set flag is
// true.
type Marking struct {
	SetCoS  bool
	CoS     uint8
	SetDSCP bool
	DSCP    uint8
}

// Police is a single-rate policer: CIR in bits per second and burst (bc) in
// bytes. A zero CIR means no policing. Frames beyond the rate are dropped.
type Police struct {
	CIR   uint64
	Burst uint64
}

// Limits of police cir and bc. The burst must hold at least one full-size
// Ethernet frame, or the policer would drop every such frame.
const (
	MinCIR   = 1_000                 // 1 kbps
	MaxCIR   = 400_000_000_000       // 400 gbps
	MinBurst = 1518                  // bytes
	MaxBurst = 1_000_000_000         // bytes (1000 mbytes)
	nanos    = uint64(1_000_000_000) // per second
)

// QoSPolicy is a named "policy-map type qos": marking and policing applied to
// every frame of the direction it is attached to with
// "service-policy type qos input|output NAME". (niv's policy-map has the one
// implicit class, class-default.)
type QoSPolicy struct {
	Name   string
	Mark   Marking
	Police Police
}
