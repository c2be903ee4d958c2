// Package state keeps what a niv daemon must not lose when it is killed:
// the VIS's vEth table (ids, instance UUIDs, bindings, configuration,
// counters) and the IV's vNICs with their placement epochs. Store is the
// interface the daemons use; Bolt keeps it in a local bbolt file, whose
// every write is a fsynced transaction, so a kill -9 loses nothing
// written. A store shared between daemons (etcd) can implement the same
// interface.
package state

import (
	"errors"
)

// ErrCorrupt is returned when a record in the store does not decode.
var ErrCorrupt = errors.New("state: corrupt record")

// Counters are a vEth's counters as last checkpointed.
type Counters struct {
	RxFrames, RxBytes uint64
	TxFrames, TxBytes uint64
	Drops             uint64
}

// Add returns c + d.
func (c Counters) Add(d Counters) Counters {
	return Counters{c.RxFrames + d.RxFrames, c.RxBytes + d.RxBytes, c.TxFrames + d.TxFrames, c.TxBytes + d.TxBytes, c.Drops + d.Drops}
}

// VEth is the VIS's record of one vEth.
type VEth struct {
	ID       uint32
	Instance [16]byte
	MAC      [6]byte
	Profile  string
	VLAN     uint16
	Epoch    uint32
	Up       bool
	// Port is the NX-OS name of the port it is (or was last) bound on,
	// VIF its VIF there; Bound is false once it was unbound.
	Port  string
	VIF   uint32
	Bound bool
	// VSI is set on the vEth of an IEEE 802.1Qbg VSI that VDP associated
	// on an evb port (nil on a vic vEth): Instance holds its VSIID, MAC its
	// first MAC, VLAN the VID it was granted, Port the evb port.
	VSI *VSI `json:",omitempty"`
}

// VSI is what the VIS keeps of a VSI beyond its vEth (802.1Qbg 41.2.2).
type VSI struct {
	IDFormat    uint8
	TypeID      uint32
	TypeVersion uint8
	Manager     [16]byte
	MACs        [][6]byte
}

// VNIC is an IV's record of one vNIC it serves.
type VNIC struct {
	Name     string
	TAP      string
	Existing bool
	Netns    string
	MAC      [6]byte
	Profile  string
	Instance [16]byte
	Fabric   uint8
	Shutdown bool
	// Released is set once the vNIC left this host (migrated, or deleted
	// at run time): the record stays so that the configuration file does
	// not bring it back at the next start.
	Released bool
	// Epoch is the vNIC's placement epoch: it grows each time the vNIC is
	// placed on a host (vic: newer wins).
	Epoch uint32
}

// Snapshot is everything a store holds.
type Snapshot struct {
	// Next is the last vEth id given out: ids are never reused.
	Next     uint32
	VEths    []VEth // by id
	Counters map[uint32]Counters
	VNICs    []VNIC // by name
	// Profiles is the running port-profile configuration (with the edits
	// made live) and ProfilesBase the configuration file's profile text it
	// started from; both "" if never written.
	Profiles, ProfilesBase string
}

// Store is a daemon's durable state. Each method is one durable
// transaction: when it returns nil the change survives a crash.
type Store interface {
	Load() (*Snapshot, error)
	PutVEth(v VEth) error
	DeleteVEth(id uint32) error
	// PutNext records the last vEth id given out.
	PutNext(id uint32) error
	// PutCounters checkpoints the counters of the vEths in c.
	PutCounters(c map[uint32]Counters) error
	// PutProfiles records the running port-profile configuration and the
	// file text it started from.
	PutProfiles(running, base string) error
	PutVNIC(n VNIC) error
	DeleteVNIC(name string) error
	Close() error
}
