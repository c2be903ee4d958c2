package visd

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/nivkit/niv/internal/daemon/conf"
	"github.com/nivkit/niv/internal/daemon/mgmt"
	"github.com/nivkit/niv/internal/daemon/state"
	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vdp/lldp"
	"github.com/nivkit/niv/vic/vis"
)

// The show commands of the EVB ports, shaped after NX-OS's (Nexus 5600/6000
// and 9000 with VDP): "show evb" (the role, the VDP address, the
// resource-wait and keep-alive exponents, VDPDU and TLV counters), "show
// evb vsi [summary|detail] [mac MAC] [interface ETH]" (the VSIs) and
// "show evb hosts [summary|detail] [mac MAC] [interface ETH]" (the
// hosts, one per MAC and VLAN of a VSI).

// VSIInfo is one VSI as `niv show evb vsi --json` gives it, and the vsi
// part of an evb vEth in `niv show interface --json`.
type VSIInfo struct {
	Interface   string   `json:"interface"`
	VSIID       string   `json:"vsiid"`
	Format      string   `json:"vsiid_format"`
	Manager     string   `json:"manager_id"`
	TypeID      uint32   `json:"type_id"`
	TypeVersion uint8    `json:"type_version"`
	Mode        string   `json:"mode"`
	VLAN        uint16   `json:"vlan"`
	MACs        []string `json:"macs"`
	VEth        uint32   `json:"veth,omitempty"`
	Profile     string   `json:"profile,omitempty"`
	// Counters are the bridge machine's for the VSI (802.1Qbg 41.5.5).
	Counters *vdp.VSICounters `json:"vdp_counters,omitempty"`
}

// EVBInfo is `niv show evb --json`.
type EVBInfo struct {
	Role     string             `json:"role"`
	VDPMAC   string             `json:"vdp_mac"`
	RWD      uint8              `json:"resource_wait_delay_exponent"`
	RKA      uint8              `json:"keep_alive_exponent"`
	Counters vdp.BridgeCounters `json:"counters"`
	Ports    []EVBPortInfo      `json:"interfaces"`
}

// EVBPortInfo is one evb port in `niv show evb`.
type EVBPortInfo struct {
	Interface string `json:"interface"`
	Linux     string `json:"linux"`
	PVID      uint16 `json:"pvid,omitempty"`
	// Station says an EVB station's TLV was heard; the rest is the EVB
	// TLV in use (the larger of each side's exponents).
	Station         bool   `json:"station"`
	ReflectiveRelay bool   `json:"reflective_relay"`
	R               uint8  `json:"ecp_retries"`
	RTE             uint8  `json:"ecp_rte"`
	RWD             uint8  `json:"rwd"`
	RKA             uint8  `json:"rka"`
	VSIs            int    `json:"vsis"`
	UnknownVSIDrops uint64 `json:"unknown_vsi_drops"`
	// Neighbor is the station's last LLDPDU, nil if none is known.
	Neighbor *StationInfo `json:"station_lldp,omitempty"`
}

// StationInfo is who the station on an evb port is, from its last LLDPDU
// (802.1AB 8.5.2–8.5.6): the Chassis ID and Port ID with their subtypes
// (a MAC address subtype written as NX-OS writes MACs), the TTL it
// sent, its System Name if it sent one, and the frames' source.
type StationInfo struct {
	ChassisID        string `json:"chassis_id"`
	ChassisIDSubtype uint8  `json:"chassis_id_subtype"`
	PortID           string `json:"port_id"`
	PortIDSubtype    uint8  `json:"port_id_subtype"`
	TTL              uint16 `json:"ttl"`
	SystemName       string `json:"system_name,omitempty"`
	MAC              string `json:"source_mac"`
}

// HostInfo is one host (a MAC in a VLAN of a VSI) in `niv show evb hosts`.
type HostInfo struct {
	Interface string `json:"interface"`
	MAC       string `json:"mac"`
	VLAN      uint16 `json:"vlan"`
	VSIID     string `json:"vsiid"`
	Mode      string `json:"mode"`
	VEth      uint32 `json:"veth,omitempty"`
	// Station is the LLDP identity of the station on Interface, nil if
	// none is known.
	Station *StationInfo `json:"station,omitempty"`
}

// Chassis ID subtype 4 and Port ID subtype 3 are MAC addresses; subtype 5
// of the Chassis ID and 4 of the Port ID network addresses, an IANA
// address family (1 IPv4, 2 IPv6) first (802.1AB 8.5.2.2, 8.5.3.2).
func lldpIDString(id []byte, macSub, addrSub uint8) string {
	if len(id) < 2 {
		return ""
	}
	v := id[1:]
	switch id[0] {
	case macSub:
		if len(v) == 6 {
			return conf.FormatMAC([6]byte(v))
		}
	case addrSub:
		if a, ok := netip.AddrFromSlice(v[1:]); ok && ((v[0] == 1 && a.Is4()) || (v[0] == 2 && a.Is6())) {
			return a.String()
		}
	}
	for _, c := range v {
		if c < 0x20 || c > 0x7e {
			return hex.EncodeToString(v)
		}
	}
	return string(v)
}

// stationOf is the LLDP identity of the station on evb port n, nil if the
// port runs no LLDP agent or has heard none.
func (d *Daemon) stationOf(n int) *StationInfo {
	if d.evb == nil || n < 0 || n >= d.evb.Ports() {
		return nil
	}
	r := d.evb.LLDP(n)
	if r == nil {
		return nil
	}
	nb, ok := r.Neighbor()
	if !ok {
		return nil
	}
	return &StationInfo{ChassisID: lldpIDString(nb.ChassisID, lldp.ChassisMAC, 5), ChassisIDSubtype: nb.ChassisID[0],
		PortID: lldpIDString(nb.PortID, lldp.PortMAC, 4), PortIDSubtype: nb.PortID[0], TTL: nb.TTL,
		SystemName: string(nb.SystemName), MAC: conf.FormatMAC(nb.Src)}
}

func vsiidString(f vdp.VSIIDFormat, id vdp.VSIID) string {
	switch f {
	case vdp.VSIIDUUID:
		return conf.FormatUUID(id)
	case vdp.VSIIDMAC:
		return conf.FormatMAC(id.MAC())
	case vdp.VSIIDIPv4:
		if a, ok := id.Addr(f); ok {
			return a.Unmap().String()
		}
	case vdp.VSIIDIPv6:
		return netip.AddrFrom16(id).String()
	}
	return hex.EncodeToString(id[:])
}

// managerString is a Manager ID as vdptool takes it: its text when it is
// printable ASCII padded with zeros, else hex.
func managerString(m [16]byte) string {
	s := strings.TrimRight(string(m[:]), "\x00")
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e {
			return hex.EncodeToString(m[:])
		}
	}
	return s
}

func modeString(t vdp.TLVType) string {
	switch t {
	case vdp.TypePreAssociate:
		return "preassoc"
	case vdp.TypePreAssociateRR:
		return "preassoc-rr"
	case vdp.TypeAssociate:
		return "assoc"
	case 0:
		return "pending"
	}
	return t.String()
}

// vsiInfos returns the EVB plane's VSIs, by interface and VSIID.
func (d *Daemon) vsiInfos() []VSIInfo {
	if d.evb == nil {
		return nil
	}
	var out []VSIInfo
	for _, v := range d.evb.VSIs() {
		c := v.Counters
		i := VSIInfo{Interface: d.evbPorts[v.Port].cfg.Name, VSIID: vsiidString(v.VSI.IDFormat, v.VSI.ID), Format: v.VSI.IDFormat.String(),
			Manager: managerString(v.ManagerID), TypeID: v.VSI.TypeID, TypeVersion: v.VSI.TypeVersion, Mode: modeString(v.Mode),
			VEth: uint32(v.VEth.VEth), Profile: v.VEth.Profile, Counters: &c}
		for _, f := range v.VSI.Filters {
			i.VLAN = f.VID
			if v.VSI.FilterFormat.HasMAC() {
				i.MACs = append(i.MACs, conf.FormatMAC(f.MAC))
			}
		}
		out = append(out, i)
	}
	slices.SortFunc(out, func(a, b VSIInfo) int {
		if c := strings.Compare(a.Interface, b.Interface); c != 0 {
			return c
		}
		return strings.Compare(a.VSIID, b.VSIID)
	})
	return out
}

// evbFilter reads "[summary|detail] [mac MAC] [interface ETH]".
type evbFilter struct {
	detail bool
	mac    string
	port   string
}

func parseEVBFilter(args []string) (evbFilter, error) {
	var f evbFilter
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "summary":
		case "detail":
			f.detail = true
		case "mac":
			if i+1 == len(args) {
				return f, fmt.Errorf("mac: expected a MAC address")
			}
			m, ok := conf.ParseMAC(args[i+1])
			if !ok {
				return f, fmt.Errorf("mac %q: not a MAC address", args[i+1])
			}
			f.mac, i = conf.FormatMAC(m), i+1
		case "interface":
			if i+1 == len(args) {
				return f, fmt.Errorf("interface: expected ethernetS/P")
			}
			name := strings.Join(args[i+1:], "")
			n, ok := conf.EthernetName(name)
			if !ok {
				return f, fmt.Errorf("interface %q: not an ethernet interface", name)
			}
			f.port, i = n, len(args)
		default:
			return f, fmt.Errorf("%w: %q (expected summary, detail, mac MAC, interface ETH)", mgmt.ErrUnknown, args[i])
		}
	}
	return f, nil
}

func (f evbFilter) keep(port string, macs []string) bool {
	if f.port != "" && !strings.EqualFold(port, f.port) {
		return false
	}
	return f.mac == "" || slices.Contains(macs, f.mac)
}

func (d *Daemon) showEVBVSI(args []string) mgmt.Response {
	f, err := parseEVBFilter(args)
	if err != nil {
		return mgmt.Fail(err)
	}
	out := []VSIInfo{}
	var b strings.Builder
	if !f.detail {
		b.WriteString("Interface      VSIID                                 Type/Ver  MAC             VLAN  State        vEth\n")
		b.WriteString("-------------  ------------------------------------  --------  --------------  ----  -----------  ------------\n")
	}
	for _, v := range d.vsiInfos() {
		if !f.keep(v.Interface, v.MACs) {
			continue
		}
		out = append(out, v)
		veth := "-"
		if v.VEth != 0 {
			veth = profile.VEthID(v.VEth).String()
		}
		if f.detail {
			c := v.Counters
			fmt.Fprintf(&b, "VSI %s (format %s) on %s\n  Manager ID: %s\n  VSI type: %d version %d\n  State: %s\n  Filters: VLAN %d, MAC %s\n  vEth: %s, port-profile %s\n",
				v.VSIID, v.Format, v.Interface, v.Manager, v.TypeID, v.TypeVersion, v.Mode, v.VLAN, strings.Join(v.MACs, ","), veth, v.Profile)
			fmt.Fprintf(&b, "  Requests %d, keep-alives %d, responses %d, errors %d, migrations %d\n", c.Requests, c.KeepAlives, c.Responses, c.Errors, c.Migrations)
			continue
		}
		mac := "-"
		if len(v.MACs) > 0 {
			mac = v.MACs[0]
		}
		fmt.Fprintf(&b, "%-13s  %-36s  %-8s  %-14s  %-4d  %-11s  %s\n", v.Interface, v.VSIID, fmt.Sprintf("%d/%d", v.TypeID, v.TypeVersion), mac, v.VLAN, v.Mode, veth)
		for _, m := range v.MACs[min(1, len(v.MACs)):] {
			fmt.Fprintf(&b, "%-13s  %-36s  %-8s  %s\n", "", "", "", m)
		}
	}
	fmt.Fprintf(&b, "Total VSIs: %d\n", len(out))
	return mgmt.Answer(b.String(), out)
}

func (d *Daemon) showEVBHosts(args []string) mgmt.Response {
	f, err := parseEVBFilter(args)
	if err != nil {
		return mgmt.Fail(err)
	}
	out := []HostInfo{}
	var b strings.Builder
	stations := map[string]*StationInfo{}
	b.WriteString("EVB stations (LLDP)\n")
	b.WriteString("Interface      Chassis ID                 Port ID                    Hold-time  System Name\n")
	b.WriteString("-------------  -------------------------  -------------------------  ---------  -----------\n")
	for n, p := range d.evbPorts {
		st := d.stationOf(n)
		if st == nil || f.port != "" && !strings.EqualFold(p.cfg.Name, f.port) {
			continue
		}
		stations[p.cfg.Name] = st
		name := st.SystemName
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(&b, "%-13s  %-25s  %-25s  %-9d  %s\n", p.cfg.Name, st.ChassisID, st.PortID, st.TTL, name)
	}
	fmt.Fprintf(&b, "Total stations: %d\n\n", len(stations))
	b.WriteString("Interface      MAC Address     VLAN  VSIID                                 State        vEth\n")
	b.WriteString("-------------  --------------  ----  ------------------------------------  -----------  ------------\n")
	for _, v := range d.vsiInfos() {
		for _, m := range v.MACs {
			if !f.keep(v.Interface, []string{m}) {
				continue
			}
			h := HostInfo{Interface: v.Interface, MAC: m, VLAN: v.VLAN, VSIID: v.VSIID, Mode: v.Mode, VEth: v.VEth, Station: stations[v.Interface]}
			out = append(out, h)
			veth := "-"
			if h.VEth != 0 {
				veth = profile.VEthID(h.VEth).String()
			}
			fmt.Fprintf(&b, "%-13s  %-14s  %-4d  %-36s  %-11s  %s\n", h.Interface, h.MAC, h.VLAN, h.VSIID, h.Mode, veth)
		}
	}
	fmt.Fprintf(&b, "Total hosts: %d\n", len(out))
	return mgmt.Answer(b.String(), out)
}

func (d *Daemon) evbInfo() EVBInfo {
	d.mu.Lock()
	e := d.cfg.EVB
	d.mu.Unlock()
	i := EVBInfo{Role: "VDP bridge", VDPMAC: conf.FormatMAC([6]byte{0x01, 0x80, 0xc2, 0, 0, 0}), RWD: e.RWD, RKA: e.RKA, Ports: []EVBPortInfo{}}
	if d.evb == nil {
		return i
	}
	i.Counters = d.evb.BridgeCounters()
	count := map[int]int{}
	for _, v := range d.evb.VSIs() {
		count[v.Port]++
	}
	for n, p := range d.evbPorts {
		pi := EVBPortInfo{Interface: p.cfg.Name, Linux: p.cfg.Linux, PVID: p.cfg.PVID, VSIs: count[n]}
		if r := d.evb.LLDP(n); r != nil {
			t, peer := r.EVB()
			pi.Station, pi.ReflectiveRelay = peer, t.RRCTR
			pi.R, pi.RTE, pi.RWD, pi.RKA = t.R, t.RTE, t.RWD, t.RKA
		}
		pi.Neighbor = d.stationOf(n)
		c, _ := d.core.PortCounters(p.core)
		pi.UnknownVSIDrops = c.Drops[vis.DropUnknownVSI]
		i.Ports = append(i.Ports, pi)
	}
	return i
}

func (d *Daemon) showEVB() mgmt.Response {
	i := d.evbInfo()
	var b strings.Builder
	c := i.Counters
	fmt.Fprintf(&b, "Edge Virtual Bridging (IEEE 802.1Qbg)\n")
	for _, kv := range []struct {
		k string
		v any
	}{
		{"Role", i.Role}, {"VDP MAC address", i.VDPMAC},
		{"Resource wait init exponent", i.RWD}, {"Keep-alive init exponent", i.RKA},
		{"Total VDPDUs received", c.PDUsIn}, {"Total VDPDUs sent", c.PDUsOut},
		{"Total VDPDUs dropped (malformed)", c.Malformed}, {"Total TLVs ignored (response bit set)", c.Ignored},
		{"Total VSI requests admitted", c.Admitted}, {"Total VSI requests refused", c.Refused},
		{"Total keep-alives", c.KeepAlives}, {"Total keep-alive timeouts", c.Expired},
		{"Total migrations", c.Migrations}, {"Total VSIs taken by another VIS", c.Taken},
		{"Total requests refused, table full", c.TableFull},
	} {
		fmt.Fprintf(&b, "%-40s: %v\n", kv.k, kv.v)
	}
	b.WriteString("\nInterface      Linux            PVID  Station  RR   R  RTE  RWD  RKA  VSIs  Unknown-VSI drops\n")
	b.WriteString("-------------  ---------------  ----  -------  ---  -  ---  ---  ---  ----  -----------------\n")
	for _, p := range i.Ports {
		st, rr := "no", "off"
		if p.Station {
			st = "yes"
		}
		if p.ReflectiveRelay {
			rr = "on"
		}
		fmt.Fprintf(&b, "%-13s  %-15s  %-4d  %-7s  %-3s  %d  %-3d  %-3d  %-3d  %-4d  %d\n", p.Interface, p.Linux, p.PVID, st, rr, p.R, p.RTE, p.RWD, p.RKA, p.VSIs, p.UnknownVSIDrops)
	}
	return mgmt.Answer(b.String(), i)
}

// vsiInfoOf is the vsi part of evb vEth v in show interface.
func (d *Daemon) vsiInfoOf(v state.VEth) *VSIInfo {
	i := &VSIInfo{Interface: v.Port, VSIID: vsiidString(vdp.VSIIDFormat(v.VSI.IDFormat), v.Instance), Format: vdp.VSIIDFormat(v.VSI.IDFormat).String(),
		Manager: managerString(v.VSI.Manager), TypeID: v.VSI.TypeID, TypeVersion: v.VSI.TypeVersion, Mode: "assoc", VLAN: v.VLAN, VEth: v.ID, Profile: v.Profile}
	if !v.Bound {
		i.Mode = "waiting for its station"
	}
	for _, m := range v.VSI.MACs {
		i.MACs = append(i.MACs, conf.FormatMAC(m))
	}
	if d.evb != nil {
		for _, x := range d.evb.VSIs() {
			if uint32(x.VEth.VEth) == v.ID {
				c := x.Counters
				i.Counters = &c
			}
		}
	}
	return i
}
