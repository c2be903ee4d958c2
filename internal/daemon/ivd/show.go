package ivd

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nivkit/niv/internal/daemon/conf"
	"github.com/nivkit/niv/internal/daemon/mgmt"
	"github.com/nivkit/niv/vic"
)

// VNICInfo is one vNIC as `niv show vnic --json` gives it.
type VNICInfo struct {
	Name     string `json:"name"`
	TAP      string `json:"tap"`
	Netns    string `json:"netns,omitempty"`
	Existing bool   `json:"existing,omitempty"`
	MAC      string `json:"mac"`
	Profile  string `json:"profile"`
	Instance string `json:"instance"`
	Fabric   string `json:"fabric"`
	Epoch    uint32 `json:"epoch"`
	State    string `json:"state"`
	VIF      int    `json:"vif,omitempty"`
	VEth     uint32 `json:"veth,omitempty"`
	Uplink   string `json:"active_uplink,omitempty"`
	Shutdown bool   `json:"shutdown,omitempty"`
	// Counters as the IV counts them (frames to and from the VM).
	RxFrames uint64 `json:"rx_frames"`
	TxFrames uint64 `json:"tx_frames"`
}

func (d *Daemon) handle(req mgmt.Request) mgmt.Response {
	switch req.Cmd {
	case "show vnic", "show interface":
		return d.showVNIC(req.Args)
	case "vnic add":
		return d.vnicAdd(req)
	case "vnic delete":
		if len(req.Args) < 1 || len(req.Args) > 2 || len(req.Args) == 2 && req.Args[1] != "release" {
			return mgmt.Fail(fmt.Errorf("vnic delete NAME [release]"))
		}
		if err := d.removeVNIC(req.Args[0], len(req.Args) == 2); err != nil {
			return mgmt.Fail(err)
		}
		return mgmt.Answer("vnic "+req.Args[0]+" removed\n", nil)
	case "reload":
		if err := d.Reload(); err != nil {
			return mgmt.Fail(err)
		}
		return mgmt.Answer("configuration reloaded\n", nil)
	case "show mac address-table", "show port-profile", "configure":
		return mgmt.Fail(fmt.Errorf("%q is a command of niv vis, the switch side; this is niv iv", req.Cmd))
	}
	return mgmt.Fail(fmt.Errorf("%w: %q", mgmt.ErrUnknown, req.Cmd))
}

func (d *Daemon) info(v *vnic) VNICInfo {
	r := v.rec
	i := VNICInfo{Name: r.Name, TAP: r.TAP, Netns: r.Netns, Existing: r.Existing, MAC: conf.FormatMAC(r.MAC), Profile: r.Profile,
		Instance: conf.FormatUUID(r.Instance), Fabric: conf.Fabric(r.Fabric).String(), Epoch: r.Epoch, State: *v.status.Load(), Shutdown: r.Shutdown}
	if n, ok := d.agent().VNIC(vic.UUID(r.Instance)); ok && n.State == vic.VIFBound {
		i.VIF, i.VEth, i.State = int(n.VIF), n.VEth, "bound"
		if u, err := d.core.ActiveUplink(n.VIF); err == nil && u >= 0 {
			i.Uplink = conf.Fabric(u).String()
		}
		if c, ok := d.core.Counters(n.VIF); ok {
			i.RxFrames, i.TxFrames = c.RxFrames, c.TxFrames
		}
	}
	return i
}

func (d *Daemon) showVNIC(args []string) mgmt.Response {
	var infos []VNICInfo
	for _, v := range d.sortedVNICs() {
		if len(args) > 0 && args[0] != v.rec.Name {
			continue
		}
		infos = append(infos, d.info(v))
	}
	if len(args) > 0 && len(infos) == 0 {
		return mgmt.Fail(fmt.Errorf("vnic %s: no such vNIC", args[0]))
	}
	var b strings.Builder
	b.WriteString("vNIC         TAP            MAC             Profile      VIF   vEth        Uplink State\n")
	b.WriteString("------------ -------------- --------------- ------------ ----- ----------- ------ ----------\n")
	for _, i := range infos {
		vif, veth := "-", "-"
		if i.VIF != 0 {
			vif, veth = strconv.Itoa(i.VIF), "Veth"+strconv.FormatUint(uint64(i.VEth), 10)
		}
		up := i.Uplink
		if up == "" {
			up = "-"
		}
		fmt.Fprintf(&b, "%-12s %-14s %-15s %-12s %-5s %-11s %-6s %s\n", i.Name, i.TAP, i.MAC, i.Profile, vif, veth, up, i.State)
	}
	st, _ := d.agent().Session()
	sess := "opening"
	if st == vic.SessionOpen {
		sess = "open"
	}
	fmt.Fprintf(&b, "vic session to the VIS on fabric %v: %s\n", conf.Fabric(d.plane.Load().up), sess)
	return mgmt.Answer(b.String(), infos)
}

// vnicAdd adds a vNIC: Args are NAME and optionally "epoch N" (a
// migration sets the epoch above the one the vNIC had on its last host);
// Input is the body of a vnic block (tap, mac-address, port-profile,
// instance-uuid, fabric, shutdown).
func (d *Daemon) vnicAdd(req mgmt.Request) mgmt.Response {
	if len(req.Args) != 1 && !(len(req.Args) == 3 && req.Args[1] == "epoch") {
		return mgmt.Fail(fmt.Errorf("vnic add NAME [epoch N], with the vnic's commands as input"))
	}
	c, err := conf.ParseVNIC(req.Args[0], req.Input)
	if err != nil {
		return mgmt.Fail(err)
	}
	epoch := d.epochFor(c)
	if len(req.Args) == 3 {
		n, err := strconv.ParseUint(req.Args[2], 10, 32)
		if err != nil || n == 0 {
			return mgmt.Fail(fmt.Errorf("epoch %q: expected 1-4294967295", req.Args[2]))
		}
		epoch = uint32(n)
	}
	if err := d.addVNIC(recOf(c, epoch)); err != nil {
		return mgmt.Fail(err)
	}
	return mgmt.Answer(fmt.Sprintf("vnic %s added, epoch %d\n", c.Name, epoch), map[string]any{"epoch": epoch})
}
