package vic

import (
	"strconv"
	"time"

	"github.com/nivkit/niv/vntag"
)

// PortID names a VIS port, the port an IV's uplink is attached to. VIF ids
// are allocated per PortID.
type PortID uint16

// VNIC is a vNIC as the hypervisor asks the IV for it: what a
// libvirt-style caller gives Linux in IFLA_VF_MAC, IFLA_PORT_PROFILE and
// IFLA_PORT_INSTANCE_UUID, plus an optional VLAN, the link state and the
// placement epoch.
type VNIC struct {
	Instance UUID
	MAC      [6]byte
	// Profile is the port-profile name (1..39 printable ASCII characters).
	Profile string
	// VLAN is the access VLAN asked for, 0 for the profile's.
	VLAN uint16
	// Epoch orders placements of Instance: 1 at first power-on, raised by
	// the orchestrator at each migration. A request with an older epoch
	// than the VIS has seen for the instance is refused (stale-epoch).
	Epoch uint32
	// Up is the vNIC's link state: enabled or disabled.
	Up bool
}

// Timing holds the protocol's timers. The zero value of each field means
// its default.
type Timing struct {
	// Keepalive is the IV's keepalive period (default 1 s). The VIS
	// declares an IV dead after Hold without a message from it; the IV
	// declares the VIS dead after Hold without an answer.
	Keepalive time.Duration
	// Hold is the dead-peer time (default 3 × Keepalive).
	Hold time.Duration
	// RequestTimeout is how long a request waits for its answer before it
	// is sent again with a new transaction id (default 500 ms). It should
	// exceed ECP's (MaxRetries+1) × acknowledgement timer.
	RequestTimeout time.Duration
	// ResyncHold is how long the VIS keeps the VIFs of an IV whose session
	// restarted or died before it unbinds those not announced again
	// (default 10 s).
	ResyncHold time.Duration
	// Retention is how long the VIS keeps an unbound vEth's configuration
	// and counters for its instance UUID before deleting it (default
	// 10 min) — like NX-OS keeping offline vEthernet interfaces.
	Retention time.Duration
}

// Default timer values.
const (
	DefaultKeepalive      = time.Second
	DefaultRequestTimeout = 500 * time.Millisecond
	DefaultResyncHold     = 10 * time.Second
	DefaultRetention      = 10 * time.Minute
)

func (t Timing) withDefaults() Timing {
	if t.Keepalive <= 0 {
		t.Keepalive = DefaultKeepalive
	}
	if t.Hold <= 0 {
		t.Hold = 3 * t.Keepalive
	}
	if t.RequestTimeout <= 0 {
		t.RequestTimeout = DefaultRequestTimeout
	}
	if t.ResyncHold <= 0 {
		t.ResyncHold = DefaultResyncHold
	}
	if t.Retention <= 0 {
		t.Retention = DefaultRetention
	}
	return t
}

// ActionKind says what the driver of an IV or VIS machine has to do.
type ActionKind uint8

const (
	// ActSend: send Action.Payload, an encoded vic message, as an ECP
	// subtype-2 ULPDU (on Action.Port for the VIS).
	ActSend ActionKind = iota + 1

	// ActIVBind: program the IV core: VIF Action.VIF belongs to the vNIC
	// Action.VNIC, whose vEth is Action.VEth, link Action.Up.
	ActIVBind
	// ActIVUnbind: remove VIF Action.VIF from the IV core.
	ActIVUnbind
	// ActIVLink: set VIF Action.VIF's link state to Action.Up.
	ActIVLink
	// ActIVVIFList: set the members of VIF list Action.ListID (a VNTag
	// vif_list_id or an E-channel, as IVProgrammer.SetVIFList).
	ActIVVIFList

	// ActVISVEth: create or update vEth Action.VEth with Action.VNIC's
	// configuration (profile, MAC, VLAN, instance). Its counters stay.
	ActVISVEth
	// ActVISDeleteVEth: delete vEth Action.VEth, its configuration and
	// counters.
	ActVISDeleteVEth
	// ActVISBind: bind VIF Action.VIF on port Action.Port to vEth
	// Action.VEth.
	ActVISBind
	// ActVISUnbind: remove VIF Action.VIF of port Action.Port.
	ActVISUnbind
	// ActVISLink: set vEth Action.VEth's link state to Action.Up.
	ActVISLink

	// ActStatus reports the outcome of a vNIC request to the IV's owner
	// (Action.VNIC.Instance, Action.Result, Action.Reason), as
	// IFLA_PORT_RESPONSE would: success when bound, a refusal, or
	// bad-state/stale-epoch when the vNIC moved to another IV.
	ActStatus
	// ActPeerUp and ActPeerDown report a session opening and a peer
	// declared dead (Action.Port on the VIS).
	ActPeerUp
	ActPeerDown
)

var actionNames = [...]string{"", "send", "iv-bind", "iv-unbind", "iv-link", "iv-vif-list", "vis-veth", "vis-delete-veth",
	"vis-bind", "vis-unbind", "vis-link", "status", "peer-up", "peer-down"}

func (k ActionKind) String() string {
	if int(k) < len(actionNames) && k > 0 {
		return actionNames[k]
	}
	return "action(" + strconv.FormatUint(uint64(k), 10) + ")"
}

// Action is an output of IV.Handle or VIS.Handle. Payload, Members and
// VNIC.Profile refer to the machine's storage and stay valid until the
// next call to Handle.
type Action struct {
	Kind    ActionKind
	Port    PortID
	Payload []byte
	VIF     vntag.VIF
	VEth    uint32
	Up      bool
	VNIC    VNIC
	ListID  uint32
	Members []vntag.VIF
	Result  Result
	Reason  Reason
}

// IVProgrammer is the narrow interface through which the IV side programs
// an interface-virtualizer data path (vic/iv's core, or a NIC). BindVIF's
// n.Up is the VIF's initial link state.
type IVProgrammer interface {
	BindVIF(vif vntag.VIF, n VNIC, veth uint32) error
	UnbindVIF(vif vntag.VIF) error
	SetVIFLink(vif vntag.VIF, up bool) error
	// SetVIFList sets the members of the core's VIF list list: a VNTag
	// vif_list_id, or in E-Tag mode the E-channel vntag.Channel(GRP,
	// E-CID), GRP 1-3. No members deletes the list.
	SetVIFList(list uint32, members []vntag.VIF) error
}

// VISProgrammer is the narrow interface through which the VIS side
// programs a virtual-interface-switch data path (vic/vis's core). vEths
// and their counters live there; DeleteVEth is the only call that drops
// counters.
type VISProgrammer interface {
	SetVEth(veth uint32, n VNIC) error
	DeleteVEth(veth uint32) error
	BindVIF(port PortID, vif vntag.VIF, veth uint32) error
	UnbindVIF(port PortID, vif vntag.VIF) error
	SetVEthLink(veth uint32, up bool) error
}

// ApplyIV carries out a for an IV data path; actions that are not
// IV-programming actions are ignored.
func (a *Action) ApplyIV(p IVProgrammer) error {
	switch a.Kind {
	case ActIVBind:
		return p.BindVIF(a.VIF, a.VNIC, a.VEth)
	case ActIVUnbind:
		return p.UnbindVIF(a.VIF)
	case ActIVLink:
		return p.SetVIFLink(a.VIF, a.Up)
	case ActIVVIFList:
		return p.SetVIFList(a.ListID, a.Members)
	}
	return nil
}

// ApplyVIS carries out a for a VIS data path; actions that are not
// VIS-programming actions are ignored.
func (a *Action) ApplyVIS(p VISProgrammer) error {
	switch a.Kind {
	case ActVISVEth:
		return p.SetVEth(a.VEth, a.VNIC)
	case ActVISDeleteVEth:
		return p.DeleteVEth(a.VEth)
	case ActVISBind:
		return p.BindVIF(a.Port, a.VIF, a.VEth)
	case ActVISUnbind:
		return p.UnbindVIF(a.Port, a.VIF)
	case ActVISLink:
		return p.SetVEthLink(a.VEth, a.Up)
	}
	return nil
}

// out collects a Handle call's actions and the bytes of the messages they
// send. Earlier payload slices stay valid when the arena grows: append
// moves new bytes to a new array and leaves the old one alone.
type out struct {
	acts  []Action
	arena []byte
	fails int
}

func (o *out) reset() {
	o.acts = o.acts[:0]
	o.arena = o.arena[:0]
}

func (o *out) send(port PortID, m *Message) {
	start := len(o.arena)
	var err error
	o.arena, err = m.AppendBinary(o.arena)
	if err != nil {
		// The machines only build valid messages; a failure here is a bug,
		// counted for the tests (EncodeFailures).
		o.arena = o.arena[:start]
		o.fails++
		return
	}
	o.acts = append(o.acts, Action{Kind: ActSend, Port: port, Payload: o.arena[start:len(o.arena):len(o.arena)]})
}

func (o *out) add(a Action) { o.acts = append(o.acts, a) }

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
