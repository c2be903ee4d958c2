package conformance

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nivkit/niv/vntag"
)

// DeviceKind is what a case tests: a VIS or an IV.
type DeviceKind uint8

// Device kinds.
const (
	// DeviceVIS is a virtual interface switch: its ports are IV ports
	// (VNTag or E-Tag links toward interface virtualizers) and plain
	// Ethernet uplinks.
	DeviceVIS DeviceKind = iota
	// DeviceIV is an interface virtualizer: its ports are the two fabric
	// uplinks toward the VIS and the vNICs of the host's VMs.
	DeviceIV
)

// String returns "vis" or "iv", as in the setup's device line.
func (k DeviceKind) String() string {
	if k == DeviceIV {
		return "iv"
	}
	return "vis"
}

// PortKind is the role of one of a case's ports.
type PortKind uint8

// Port kinds.
const (
	// PortIV is a VIS port toward an IV: frames carry a VNTag or E-Tag.
	PortIV PortKind = iota
	// PortUplink is a VIS's plain Ethernet uplink (802.1Q trunk), or an
	// IV's fabric uplink toward its VIS.
	PortUplink
	// PortVNIC is an IV's vNIC: untagged frames of one VM.
	PortVNIC
	// PortEVB is a VIS's evb port toward an edge relay (a hypervisor's
	// VEPA): no NIV tag, the VMs told apart by their VSIs' MAC and VID
	// (IEEE 802.1Qbg; vis.AddEVBPort).
	PortEVB
)

// String names the kind as the setup spells it.
func (k PortKind) String() string {
	switch k {
	case PortIV:
		return "iv"
	case PortUplink:
		return "uplink"
	case PortEVB:
		return "evb"
	default:
		return "vnic"
	}
}

// Port is one port of a case's device.
type Port struct {
	// Name is the port's name: the interface name of its frames in the
	// case's captures.
	Name string
	Kind PortKind
	// Mode is the tag of an IV port (VIS) or of the IV's uplinks; 0 for
	// a plain uplink.
	Mode vntag.Mode
	// Fabric is "a" or "b" for an IV's uplink.
	Fabric string
	// VIF is a vNIC's VIF (IV devices).
	VIF vntag.VIF
}

// VEth is a vEth of a VIS case: bound to VIF on an IV port, with a profile.
type VEth struct {
	ID      uint32
	Port    string
	VIF     vntag.VIF
	Profile string
}

// VSI is a VSI of a VIS case, associated before the first frame: a vEth
// bound on an evb port to the frames with source MAC and VID on the link
// (0: untagged), with a profile.
type VSI struct {
	ID      uint32
	Port    string
	MAC     [6]byte
	VID     uint16
	Profile string
}

// VIFList is a vif list of a case. For an IV it is programmed into the
// device before the first frame; for a VIS it names, with an id of the
// case's choosing, the list the VIS is expected to flood to on Port: the
// runner compares a flooded frame's list by its members, since which id a
// VIS allocates is its own business.
type VIFList struct {
	Port string // VIS only
	ID   uint32
	VIFs []vntag.VIF
}

// StepKind is what a step does between two input frames.
type StepKind uint8

// Step kinds.
const (
	// StepAdvance moves the device's clock forward by Step.Duration.
	StepAdvance StepKind = iota
	// StepConfigure applies the profile-language file Step.File as
	// incremental edits (a profile edit in the middle of a case).
	StepConfigure
	// StepShutdown shuts vEth Step.VEth (admin down).
	StepShutdown
	// StepNoShutdown brings vEth Step.VEth back up.
	StepNoShutdown
	// StepUplinkDown takes an IV's uplink Step.Port down.
	StepUplinkDown
	// StepUplinkUp brings it back.
	StepUplinkUp
)

// Step is an action taken after a number of input frames were sent.
type Step struct {
	// After is how many input frames are sent before the step (0: before
	// the first).
	After    int
	Kind     StepKind
	Duration time.Duration
	File     string
	VEth     uint32
	Port     string
	// Line is the setup line, for messages and for a DUT's control
	// channel.
	Line string
}

// Setup is a case's topology and steps, parsed from setup.txt.
type Setup struct {
	Device   DeviceKind
	Ports    []Port
	VEths    []VEth
	VSIs     []VSI
	Lists    []VIFList
	Steps    []Step
	Aging    time.Duration // 0: the device's default
	MACLimit int
	// Profiles names the profile-language file loaded before the first
	// frame ("" for none; default profile.conf when it exists).
	Profiles string
	// Control, when set, runs niv's VIF negotiation protocol (vic) on the
	// VIS's IV ports (statement control-plane vic).
	Control *ControlPlane
	// VDP, when set, runs VDP's bridge over ECP on the VIS's evb ports
	// (statement control-plane vdp).
	VDP *VDPPlane
}

// VDPPlane is the setup statement
//
//	control-plane vdp mac 02:00:00:00:00:f0
//
// The VIS runs an ECP speaker (subtype 1) on every evb port and VDP's
// bridge (IEEE 802.1Qbg 41, as bind.EVBPlane) over all of them, with MAC
// as the source of its ECP frames: untagged ECP frames (EtherType 0x8940)
// on an evb port go to it, and what it sends leaves by the same port. A
// VSI it associates becomes a vEth on the port, its profile chosen by the
// "vdp vsi-type ID version V" line of a port-profile. Its EVB values
// are R 3, RTE 20, RWD 20, RKA 20: the ECP acknowledgement timer is
// 10 µs × 2^20 (about 10.5 s), as for vic, and the keep-alive timeout
// 125.83 s; both run on the case's clock and fire at the advance step
// that makes them due.
type VDPPlane struct {
	MAC [6]byte
}

// ControlPlane is the setup statement
//
//	control-plane vic session 0x99aabbccddeeff00 mac 02:00:00:00:00:f0
//
// The VIS runs an ECP speaker (subtype 2) and vic's VIS side on every IV
// port, with Session as its vic session and MAC as the source of its ECP
// frames; ECP frames (EtherType 0x8940, untagged) on an IV port go to it,
// and what it sends leaves by the same port. It is driven by the case's
// clock. Its ECP acknowledgement timer is 10 µs × 2^20 (about 10.5 s),
// so that a tester over a real link acknowledges in time.
type ControlPlane struct {
	Session uint64
	MAC     [6]byte
}

// Port returns the port named name.
func (s *Setup) Port(name string) (Port, bool) {
	for _, p := range s.Ports {
		if p.Name == name {
			return p, true
		}
	}
	return Port{}, false
}

// ParseSetup reads a case's setup text. Errors wrap ErrSetup and name the
// line.
func ParseSetup(text string) (*Setup, error) {
	s := &Setup{}
	device := false
	for n, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		w := strings.Fields(line)
		bad := func(format string, a ...any) error {
			return &SetupError{Line: n + 1, Text: line, Msg: fmt.Sprintf(format, a...)}
		}
		switch w[0] {
		case "device":
			if len(w) != 2 || (w[1] != "vis" && w[1] != "iv") {
				return nil, bad("want: device vis|iv")
			}
			if device {
				return nil, bad("device given twice")
			}
			device = true
			if w[1] == "iv" {
				s.Device = DeviceIV
			}
		case "port":
			p, err := parsePort(w)
			if err != nil {
				return nil, bad("%v", err)
			}
			if _, dup := s.Port(p.Name); dup {
				return nil, bad("port %s defined twice", p.Name)
			}
			s.Ports = append(s.Ports, p)
		case "veth":
			// veth ID port NAME vif N profile NAME
			if len(w) != 8 || w[2] != "port" || w[4] != "vif" || w[6] != "profile" {
				return nil, bad("want: veth ID port PORT vif VIF profile NAME")
			}
			id, err1 := parseUint(w[1], 1, 1<<31)
			vif, err2 := parseUint(w[5], 1, 0xFFFFF)
			if err1 != nil || err2 != nil {
				return nil, bad("bad vEth id or VIF")
			}
			s.VEths = append(s.VEths, VEth{ID: id, Port: w[3], VIF: vntag.VIF(vif), Profile: w[7]})
		case "vsi":
			// vsi ID port NAME mac MAC vid N profile NAME
			if len(w) != 10 || w[2] != "port" || w[4] != "mac" || w[6] != "vid" || w[8] != "profile" {
				return nil, bad("want: vsi ID port PORT mac MAC vid VID profile NAME")
			}
			id, err1 := parseUint(w[1], 1, 1<<31)
			vid, err2 := parseUint(w[7], 0, 4094)
			hw, err3 := net.ParseMAC(w[5])
			if err1 != nil || err2 != nil || err3 != nil || len(hw) != 6 {
				return nil, bad("bad vEth id, MAC or VID")
			}
			v := VSI{ID: id, Port: w[3], VID: uint16(vid), Profile: w[9]}
			copy(v.MAC[:], hw)
			s.VSIs = append(s.VSIs, v)
		case "vif-list":
			// vif-list ID [port NAME] vifs V...
			l, err := parseList(w)
			if err != nil {
				return nil, bad("%v", err)
			}
			s.Lists = append(s.Lists, l)
		case "aging-time":
			if len(w) != 2 {
				return nil, bad("want: aging-time DURATION")
			}
			d, err := time.ParseDuration(w[1])
			if err != nil || d <= 0 {
				return nil, bad("bad duration %q", w[1])
			}
			s.Aging = d
		case "mac-limit":
			if len(w) != 2 {
				return nil, bad("want: mac-limit N")
			}
			v, err := parseUint(w[1], 1, 1<<20)
			if err != nil {
				return nil, bad("%v", err)
			}
			s.MACLimit = int(v)
		case "control-plane":
			// control-plane vdp mac MAC
			if len(w) > 1 && w[1] == "vdp" {
				if len(w) != 4 || w[2] != "mac" {
					return nil, bad("want: control-plane vdp mac MAC")
				}
				if s.VDP != nil {
					return nil, bad("control-plane vdp given twice")
				}
				hw, err := net.ParseMAC(w[3])
				if err != nil || len(hw) != 6 || hw[0]&1 != 0 {
					return nil, bad("bad MAC %q (an individual address)", w[3])
				}
				s.VDP = &VDPPlane{MAC: [6]byte(hw)}
				continue
			}
			// control-plane vic session N mac MAC
			if len(w) != 6 || w[1] != "vic" || w[2] != "session" || w[4] != "mac" {
				return nil, bad("want: control-plane vic session N mac MAC, or control-plane vdp mac MAC")
			}
			if s.Control != nil {
				return nil, bad("control-plane given twice")
			}
			sess, err := strconv.ParseUint(w[3], 0, 64)
			if err != nil || sess == 0 {
				return nil, bad("bad session %q (a non-zero 64-bit number)", w[3])
			}
			hw, err := net.ParseMAC(w[5])
			if err != nil || len(hw) != 6 {
				return nil, bad("bad MAC %q", w[5])
			}
			s.Control = &ControlPlane{Session: sess}
			copy(s.Control.MAC[:], hw)
		case "profiles":
			if len(w) != 2 {
				return nil, bad("want: profiles FILE")
			}
			s.Profiles = w[1]
		case "after":
			st, err := parseStep(w)
			if err != nil {
				return nil, bad("%v", err)
			}
			st.Line = line
			if len(s.Steps) > 0 && st.After < s.Steps[len(s.Steps)-1].After {
				return nil, bad("steps must be in frame order")
			}
			s.Steps = append(s.Steps, st)
		default:
			return nil, bad("unknown statement %q", w[0])
		}
	}
	if !device {
		return nil, &SetupError{Msg: "no device line"}
	}
	return s, s.check()
}

func parsePort(w []string) (Port, error) {
	// port NAME iv vntag|etag
	// port NAME uplink [a|b vntag|etag]
	// port NAME vnic vif N
	// port NAME evb
	if len(w) < 3 {
		return Port{}, fmt.Errorf("want: port NAME iv|uplink|vnic|evb ARGS")
	}
	p := Port{Name: w[1]}
	mode := func(s string) (vntag.Mode, error) {
		m, err := vntag.ParseMode(s)
		if err != nil {
			return 0, fmt.Errorf("mode %q: want vntag or etag", s)
		}
		return m, nil
	}
	var err error
	switch w[2] {
	case "iv":
		if len(w) != 4 {
			return p, fmt.Errorf("want: port NAME iv vntag|etag")
		}
		p.Kind = PortIV
		p.Mode, err = mode(w[3])
	case "uplink":
		p.Kind = PortUplink
		switch len(w) {
		case 3:
		case 5:
			if w[3] != "a" && w[3] != "b" {
				return p, fmt.Errorf("fabric %q: want a or b", w[3])
			}
			p.Fabric = w[3]
			p.Mode, err = mode(w[4])
		default:
			return p, fmt.Errorf("want: port NAME uplink [a|b vntag|etag]")
		}
	case "vnic":
		if len(w) != 5 || w[3] != "vif" {
			return p, fmt.Errorf("want: port NAME vnic vif N")
		}
		p.Kind = PortVNIC
		var vif uint32
		vif, err = parseUint(w[4], 1, vntag.MaxECID)
		p.VIF = vntag.VIF(vif)
	case "evb":
		if len(w) != 3 {
			return p, fmt.Errorf("want: port NAME evb")
		}
		p.Kind = PortEVB
	default:
		return p, fmt.Errorf("port kind %q: want iv, uplink, vnic or evb", w[2])
	}
	return p, err
}

func parseList(w []string) (VIFList, error) {
	var l VIFList
	if len(w) < 4 {
		return l, fmt.Errorf("want: vif-list ID|GRP:ECID [port NAME] vifs VIF [VIF]")
	}
	id, err := parseListID(w[1])
	if err != nil {
		return l, err
	}
	l.ID = id
	rest := w[2:]
	if rest[0] == "port" {
		if len(rest) < 4 {
			return l, fmt.Errorf("want: vif-list ID port NAME vifs VIF [VIF]")
		}
		l.Port, rest = rest[1], rest[2:]
	}
	if rest[0] != "vifs" || len(rest) < 2 {
		return l, fmt.Errorf("want: vifs VIF [VIF]")
	}
	for _, s := range rest[1:] {
		v, err := parseUint(s, 1, vntag.MaxECID)
		if err != nil {
			return l, err
		}
		l.VIFs = append(l.VIFs, vntag.VIF(v))
	}
	return l, nil
}

// parseListID reads a list id: a VNTag vif_list_id (0-16383), or an
// E-Tag E-channel written GRP:E-CID (GRP 1-3, E-CID 0-0xFFFFF), which is
// GRP<<20 | E-CID.
func parseListID(s string) (uint32, error) {
	g, e, ok := strings.Cut(s, ":")
	if !ok {
		return parseUint(s, 0, 0x3FFF)
	}
	grp, err := parseUint(g, 1, 3)
	if err != nil {
		return 0, err
	}
	ecid, err := parseUint(e, 0, 0xFFFFF)
	if err != nil {
		return 0, err
	}
	return grp<<20 | ecid, nil
}

// ParseStep reads one step line of a setup ("after 2 advance 11s").
func ParseStep(line string) (Step, error) {
	w := strings.Fields(line)
	if len(w) == 0 || w[0] != "after" {
		return Step{}, &SetupError{Text: line, Msg: "a step starts with after"}
	}
	st, err := parseStep(w)
	if err != nil {
		return Step{}, &SetupError{Text: line, Msg: err.Error()}
	}
	st.Line = strings.TrimSpace(line)
	return st, nil
}

func parseStep(w []string) (Step, error) {
	// after N advance DURATION | configure FILE | shutdown veth ID |
	// no shutdown veth ID | uplink PORT down|up
	var st Step
	if len(w) < 3 {
		return st, fmt.Errorf("want: after N ACTION")
	}
	n, err := parseUint(w[1], 0, 1<<20)
	if err != nil {
		return st, err
	}
	st.After = int(n)
	a := w[2:]
	switch {
	case a[0] == "advance" && len(a) == 2:
		st.Kind = StepAdvance
		st.Duration, err = time.ParseDuration(a[1])
		if err == nil && st.Duration <= 0 {
			err = fmt.Errorf("advance must be positive")
		}
	case a[0] == "configure" && len(a) == 2:
		st.Kind, st.File = StepConfigure, a[1]
	case a[0] == "shutdown" && len(a) == 3 && a[1] == "veth":
		st.Kind = StepShutdown
		st.VEth, err = parseUint(a[2], 1, 1<<31)
	case a[0] == "no" && len(a) == 4 && a[1] == "shutdown" && a[2] == "veth":
		st.Kind = StepNoShutdown
		st.VEth, err = parseUint(a[3], 1, 1<<31)
	case a[0] == "uplink" && len(a) == 3 && (a[2] == "down" || a[2] == "up"):
		st.Kind, st.Port = StepUplinkDown, a[1]
		if a[2] == "up" {
			st.Kind = StepUplinkUp
		}
	default:
		return st, fmt.Errorf("unknown step %q", strings.Join(a, " "))
	}
	return st, err
}

func parseUint(s string, lo, hi uint32) (uint32, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || uint32(v) < lo || uint32(v) > hi {
		return 0, fmt.Errorf("%q: want a number %d-%d", s, lo, hi)
	}
	return uint32(v), nil
}

// check verifies references between statements.
func (s *Setup) check() error {
	fail := func(format string, a ...any) error {
		return &SetupError{Msg: fmt.Sprintf(format, a...)}
	}
	if len(s.Ports) == 0 {
		return fail("no ports")
	}
	fabrics := map[string]bool{}
	for _, p := range s.Ports {
		switch {
		case s.Device == DeviceIV && p.Kind == PortEVB:
			return fail("port %s: an IV has no evb ports", p.Name)
		case s.Device == DeviceVIS && p.Kind == PortVNIC:
			return fail("port %s: a VIS has no vNICs", p.Name)
		case s.Device == DeviceVIS && p.Kind == PortUplink && p.Fabric != "":
			return fail("port %s: a VIS uplink has no fabric", p.Name)
		case s.Device == DeviceIV && p.Kind == PortIV:
			return fail("port %s: an IV has uplinks and vNICs, no IV ports", p.Name)
		case s.Device == DeviceIV && p.Kind == PortUplink:
			if p.Fabric == "" {
				return fail("port %s: an IV uplink needs a fabric and a mode", p.Name)
			}
			if fabrics[p.Fabric] {
				return fail("port %s: fabric %s twice", p.Name, p.Fabric)
			}
			fabrics[p.Fabric] = true
		}
	}
	if s.Device == DeviceIV {
		var m vntag.Mode
		for i, p := range s.uplinks() {
			if i > 0 && p.Mode != m {
				return fail("the IV's uplinks disagree on the mode")
			}
			m = p.Mode
		}
		if len(s.uplinks()) == 0 {
			return fail("an IV needs an uplink")
		}
		if len(s.VEths) > 0 {
			return fail("vEths belong to a VIS")
		}
	}
	if s.Control != nil && s.Device != DeviceVIS {
		return fail("control-plane: only a VIS runs it")
	}
	if s.VDP != nil {
		if s.Device != DeviceVIS {
			return fail("control-plane vdp: only a VIS runs it")
		}
		if !slices.ContainsFunc(s.Ports, func(p Port) bool { return p.Kind == PortEVB }) {
			return fail("control-plane vdp: no evb port to run it on")
		}
	}
	ids := map[uint32]bool{}
	for _, v := range s.VEths {
		p, ok := s.Port(v.Port)
		if !ok || p.Kind != PortIV {
			return fail("veth %d: %s is not an IV port", v.ID, v.Port)
		}
		if ids[v.ID] {
			return fail("veth %d defined twice", v.ID)
		}
		ids[v.ID] = true
	}
	for _, v := range s.VSIs {
		p, ok := s.Port(v.Port)
		if !ok || p.Kind != PortEVB {
			return fail("vsi %d: %s is not an evb port", v.ID, v.Port)
		}
		if ids[v.ID] {
			return fail("vEth %d defined twice", v.ID)
		}
		ids[v.ID] = true
	}
	for _, l := range s.Lists {
		if s.Device == DeviceVIS {
			if p, ok := s.Port(l.Port); !ok || p.Kind != PortIV {
				return fail("vif-list %d: a VIS list needs the IV port it floods on", l.ID)
			}
		} else if l.Port != "" {
			return fail("vif-list %d: an IV list has no port", l.ID)
		}
	}
	for _, st := range s.Steps {
		switch st.Kind {
		case StepShutdown, StepNoShutdown:
			if !ids[st.VEth] {
				return fail("%s: no such vEth", st.Line)
			}
		case StepUplinkDown, StepUplinkUp:
			if p, ok := s.Port(st.Port); !ok || p.Kind != PortUplink || s.Device != DeviceIV {
				return fail("%s: not an IV uplink", st.Line)
			}
		}
	}
	return nil
}

func (s *Setup) uplinks() []Port {
	var out []Port
	for _, p := range s.Ports {
		if p.Kind == PortUplink {
			out = append(out, p)
		}
	}
	return out
}
