package visd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nivkit/niv/internal/daemon/conf"
	"github.com/nivkit/niv/internal/daemon/mgmt"
	"github.com/nivkit/niv/internal/daemon/state"
	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vic"
)

// VEthInfo is one vEth as `niv show interface --json` gives it.
type VEthInfo struct {
	ID        uint32         `json:"id"`
	Name      string         `json:"name"`
	State     string         `json:"state"`
	Profile   string         `json:"profile"`
	Interface string         `json:"interface,omitempty"`
	Channel   uint32         `json:"channel,omitempty"`
	Bound     bool           `json:"bound"`
	MAC       string         `json:"mac"`
	Instance  string         `json:"instance"`
	Epoch     uint32         `json:"epoch"`
	Counters  state.Counters `json:"counters"`
	// VSI is set on the vEth of a VSI that VDP associated on an evb port.
	VSI *VSIInfo `json:"vsi,omitempty"`
}

// PortInfo is one ethernet port.
type PortInfo struct {
	Name    string `json:"name"`
	Mode    string `json:"mode"`
	Linux   string `json:"linux"`
	Control string `json:"control"`
	// Transmit is "af-xdp" when the port writes through AF_XDP
	// ("linux-interface IFNAME transmit af-xdp").
	Transmit string         `json:"transmit,omitempty"`
	Session  string         `json:"session,omitempty"`
	Counters state.Counters `json:"counters"`
}

func (d *Daemon) handle(req mgmt.Request) mgmt.Response {
	switch req.Cmd {
	case "show interface":
		return d.showInterface(req.Args)
	case "show mac address-table":
		return d.showMACs()
	case "show port-profile":
		return d.showProfile(req.Args)
	case "show evb":
		return d.showEVB()
	case "show evb vsi":
		return d.showEVBVSI(req.Args)
	case "show evb hosts":
		return d.showEVBHosts(req.Args)
	case "show running-config":
		return mgmt.Answer(d.runningConfig(), nil)
	case "configure":
		return d.configure(req.Input)
	case "reload":
		if err := d.Reload(); err != nil {
			return mgmt.Fail(err)
		}
		return mgmt.Answer("configuration reloaded\n", nil)
	case "show vnic", "vnic add", "vnic delete", "vnic move":
		return mgmt.Fail(fmt.Errorf("%q is a command of niv iv, the host side; this is niv vis", req.Cmd))
	}
	return mgmt.Fail(fmt.Errorf("%w: %q", mgmt.ErrUnknown, req.Cmd))
}

func (d *Daemon) vethInfo(v state.VEth) VEthInfo {
	return d.vethInfoWith(v, d.rec.counters(d.core, v.ID))
}

// vethInfos returns the info of every vEth, their counters read at once.
func (d *Daemon) vethInfos() []VEthInfo {
	vs := d.rec.list()
	cs := d.rec.countersOf(d.core, vs)
	infos := make([]VEthInfo, len(vs))
	for i, v := range vs {
		infos[i] = d.vethInfoWith(v, cs[v.ID])
	}
	return infos
}

func (d *Daemon) vethInfoWith(v state.VEth, c state.Counters) VEthInfo {
	first, _, _ := strings.Cut(mustShow(d, v.ID), "\n")
	st := strings.TrimPrefix(first, profile.VEthID(v.ID).String()+" is ")
	info := VEthInfo{ID: v.ID, Name: profile.VEthID(v.ID).String(), State: st, Profile: v.Profile, Bound: v.Bound,
		MAC: conf.FormatMAC(v.MAC), Instance: conf.FormatUUID(v.Instance), Epoch: v.Epoch, Counters: c}
	if v.Bound {
		info.Interface, info.Channel = v.Port, v.VIF
	}
	if v.VSI != nil {
		info.Channel = 0
		info.VSI = d.vsiInfoOf(v)
	}
	return info
}

func mustShow(d *Daemon, id uint32) string {
	s, err := d.core.ShowInterface(profile.VEthID(id))
	if err != nil {
		return profile.VEthID(id).String() + " is down (not in the data path)"
	}
	return s
}

// vethText renders a vEth like NX-OS "show interface vethernet N".
func vethText(i VEthInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is %s\n", i.Name, i.State)
	switch {
	case i.VSI != nil && i.Bound:
		fmt.Fprintf(&b, "  Bound Interface is %s (EVB), VSI %s\n", i.Interface, i.VSI.VSIID)
	case i.VSI != nil:
		fmt.Fprintf(&b, "  Bound Interface is none (VSI %s on %s: waiting for its station's keep-alive)\n", i.VSI.VSIID, i.VSI.Interface)
	case i.Bound:
		fmt.Fprintf(&b, "  Bound Interface is %s, channel %d\n", i.Interface, i.Channel)
	default:
		b.WriteString("  Bound Interface is none (not bound: waiting for its VM)\n")
	}
	fmt.Fprintf(&b, "  Port-Profile is %s\n", i.Profile)
	fmt.Fprintf(&b, "  Hardware: Virtual, address: %s\n", i.MAC)
	if i.VSI != nil {
		v := i.VSI
		fmt.Fprintf(&b, "  VSI type %d version %d, manager %s, VLAN %d, MAC %s, VDP mode %s\n", v.TypeID, v.TypeVersion, v.Manager, v.VLAN, strings.Join(v.MACs, ","), v.Mode)
	} else {
		fmt.Fprintf(&b, "  Owner is VM instance %s, placement epoch %d\n", i.Instance, i.Epoch)
	}
	c := i.Counters
	fmt.Fprintf(&b, "  RX\n    %d unicast/multicast/broadcast packets  %d bytes\n", c.RxFrames, c.RxBytes)
	fmt.Fprintf(&b, "  TX\n    %d unicast/multicast/broadcast packets  %d bytes\n", c.TxFrames, c.TxBytes)
	fmt.Fprintf(&b, "  %d drops\n", c.Drops)
	return b.String()
}

func (d *Daemon) showInterface(args []string) mgmt.Response {
	switch {
	case len(args) == 0:
		var b strings.Builder
		for _, p := range d.portInfos() {
			b.WriteString(portText(p))
		}
		infos := d.vethInfos()
		for _, i := range infos {
			b.WriteString(vethText(i))
		}
		return mgmt.Answer(b.String(), map[string]any{"ethernet": d.portInfos(), "vethernet": infos})
	case strings.HasPrefix(strings.ToLower(args[0]), "veth"):
		num := strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(args[0]), "vethernet"), "veth")
		if num == "" && len(args) == 2 {
			num = args[1]
		}
		id, err := strconv.ParseUint(num, 10, 32)
		if err != nil {
			return mgmt.Fail(fmt.Errorf("show interface vethernet N: %q is not a vEth number", num))
		}
		v, ok := d.rec.get(uint32(id))
		if !ok {
			return mgmt.Fail(fmt.Errorf("interface Vethernet%d: not found", id))
		}
		i := d.vethInfo(v)
		return mgmt.Answer(vethText(i), i)
	default:
		name := strings.Join(args, "")
		for _, p := range d.portInfos() {
			if n, ok := (&conf.VIS{Ports: []conf.Port{{Name: p.Name}}}).Port(name); ok && n.Name == p.Name {
				return mgmt.Answer(portText(p), p)
			}
		}
		return mgmt.Fail(fmt.Errorf("%s: no such interface", name))
	}
}

func (d *Daemon) portInfos() []PortInfo {
	var out []PortInfo
	for _, p := range d.ports {
		c, _ := d.core.PortCounters(p.core)
		i := PortInfo{Name: p.cfg.Name, Mode: p.cfg.Kind.String(), Linux: p.cfg.Linux, Control: p.cfg.Control.String(),
			Counters: state.Counters{RxFrames: c.RxFrames, RxBytes: c.RxBytes, TxFrames: c.TxFrames, TxBytes: c.TxBytes}}
		if p.cfg.XDPTx {
			i.Transmit = "af-xdp"
		}
		for _, n := range c.Drops {
			i.Counters.Drops += n
		}
		if p.vic {
			i.Session = "opening"
			if st, _ := d.plane.Agent().Session(p.id); st == vic.SessionOpen {
				i.Session = "open"
			}
		}
		out = append(out, i)
	}
	return out
}

func portText(p PortInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is up\n  Mode %s, Linux interface %s", p.Name, p.Mode, p.Linux)
	if p.Transmit != "" {
		fmt.Fprintf(&b, " (transmit %s)", p.Transmit)
	}
	fmt.Fprintf(&b, ", control plane %s", p.Control)
	if p.Session != "" {
		fmt.Fprintf(&b, " (session %s)", p.Session)
	}
	c := p.Counters
	fmt.Fprintf(&b, "\n  RX\n    %d packets  %d bytes\n  TX\n    %d packets  %d bytes\n  %d drops\n", c.RxFrames, c.RxBytes, c.TxFrames, c.TxBytes, c.Drops)
	return b.String()
}

// MACInfo is one entry of the MAC address table.
type MACInfo struct {
	VLAN uint16 `json:"vlan"`
	MAC  string `json:"mac"`
	Port string `json:"port"`
	Age  int64  `json:"age_seconds"`
}

func (d *Daemon) showMACs() mgmt.Response {
	var out []MACInfo
	var b strings.Builder
	b.WriteString("Legend: * - primary entry, age - seconds since last seen\n")
	b.WriteString("   VLAN     MAC Address      Type      age     Port\n")
	b.WriteString("---------+-----------------+--------+---------+------------------\n")
	for _, m := range d.core.MACs(time.Now().UnixNano()) {
		where := ""
		if m.VEth != 0 {
			where = m.VEth.String()
		} else {
			for _, p := range d.ports {
				if p.core == m.Port {
					where = p.cfg.Name
				}
			}
		}
		i := MACInfo{VLAN: m.VLAN, MAC: conf.FormatMAC(m.Addr), Port: where, Age: int64(m.Age.Seconds())}
		out = append(out, i)
		fmt.Fprintf(&b, "* %-7d  %s   dynamic  %-7d   %s\n", i.VLAN, i.MAC, i.Age, i.Port)
	}
	return mgmt.Answer(b.String(), out)
}

// ProfileInfo is one port-profile as `niv show port-profile --json` gives it.
type ProfileInfo struct {
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	Enabled    bool     `json:"enabled"`
	Config     string   `json:"config"`
	Evaluated  string   `json:"evaluated"`
	Interfaces []string `json:"assigned_interfaces"`
}

func (d *Daemon) showProfile(args []string) mgmt.Response {
	snap := d.store.Snapshot()
	var names []string
	if len(args) > 0 {
		if _, ok := snap.Config.Profiles[args[0]]; !ok {
			return mgmt.Fail(fmt.Errorf("port-profile %s: not defined", args[0]))
		}
		names = args[:1]
	} else {
		for n := range snap.Config.Profiles {
			names = append(names, n)
		}
		sortStrings(names)
	}
	var out []ProfileInfo
	var b strings.Builder
	for _, n := range names {
		pr := snap.Config.Profiles[n]
		text, _ := snap.Config.ShowRunningConfig(n)
		i := ProfileInfo{Name: n, Type: "Vethernet", Enabled: pr.Enabled, Config: text}
		if pr.Type == profile.Ethernet {
			i.Type = "Ethernet"
		}
		if r, err := snap.Config.Resolve(n); err == nil {
			i.Evaluated = r.Text()
		}
		for _, id := range sortedIDs(vethBindings(snap, n)) {
			i.Interfaces = append(i.Interfaces, profile.VEthID(id).String())
		}
		out = append(out, i)
		status := "disabled"
		if i.Enabled {
			status = "enabled"
		}
		fmt.Fprintf(&b, "port-profile %s\n type: %s\n status: %s\n config attributes:\n", n, i.Type, status)
		for _, l := range strings.Split(strings.TrimSpace(text), "\n")[1:] {
			fmt.Fprintf(&b, "  %s\n", strings.TrimSpace(l))
		}
		b.WriteString(" evaluated config attributes:\n")
		_, evaluated, _ := strings.Cut(i.Evaluated, "evaluated config:\n")
		for _, l := range strings.Split(strings.TrimSpace(evaluated), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				fmt.Fprintf(&b, "  %s\n", l)
			}
		}
		b.WriteString(" assigned interfaces:\n")
		for _, v := range i.Interfaces {
			fmt.Fprintf(&b, "  %s\n", v)
		}
	}
	return mgmt.Answer(b.String(), out)
}

func vethBindings(s *profile.State, name string) map[uint32]struct{} {
	out := map[uint32]struct{}{}
	for v, n := range s.Bindings {
		if n == name {
			out[uint32(v)] = struct{}{}
		}
	}
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// runningConfig is the configuration now, with the port-profiles as
// configured live and the vEths the control plane made.
func (d *Daemon) runningConfig() string {
	d.mu.Lock()
	c := *d.cfg
	d.mu.Unlock()
	c.Profiles = d.store.Snapshot().Config
	var veths []conf.VEth
	for _, v := range d.rec.list() {
		cv := conf.VEth{ID: v.ID, Profile: v.Profile}
		if v.VSI != nil {
			// Made by VDP on an evb port: no channel to bind.
			cv.Description = "VSI " + vsiidString(vdp.VSIIDFormat(v.VSI.IDFormat), v.Instance) + " on " + v.Port
		} else if v.Bound {
			cv.Port, cv.Channel = v.Port, uint16(v.VIF)
		}
		veths = append(veths, cv)
	}
	if veths == nil {
		veths = []conf.VEth{}
	}
	return c.Text(veths)
}

// configure applies NX-OS edits to the port-profiles as one transaction:
// all of them or, on any error, none.
func (d *Daemon) configure(text string) mgmt.Response {
	var updated int
	first := true
	unsub := d.store.Subscribe(func(b profile.Batch) {
		if !first {
			updated += len(b.Updates)
		}
		first = false
	})
	rev, err := d.store.Update(func(tx *profile.Txn) error { return tx.Configure(text) })
	unsub()
	if err != nil {
		var pe *profile.ParseError
		if errors.As(err, &pe) && strings.Contains(pe.Msg, "interface") {
			err = fmt.Errorf("%w (niv configure edits port-profiles, access lists and policy-maps; interfaces are set in the configuration file)", err)
		}
		if d.fleet != nil && d.fleet.Conflict != nil && errors.Is(err, d.fleet.Conflict) {
			err = fmt.Errorf("%w: other managers edited the fleet's port-profiles at the same time and this edit lost every retry; nothing committed, run niv configure again", err)
		}
		d.log.Warn("configure refused; nothing changed", "err", err)
		return mgmt.Fail(err)
	}
	d.saveProfiles()
	d.log.Info("configuration committed", "revision", rev, "veths_updated", updated)
	return mgmt.Answer(fmt.Sprintf("committed revision %d: %d vEth(s) updated\n", rev, updated), map[string]any{"revision": rev, "veths_updated": updated})
}
