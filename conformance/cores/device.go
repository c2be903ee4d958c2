package cores

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nivkit/niv/conformance"
	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/bind"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// Behaviour names a behaviour of a core that a Device can switch off on
// purpose, to show which cases depend on it.
type Behaviour string

// Behaviours that can be switched off.
const (
	// SourcePruning: the VIS no longer marks a flooded frame sent back to
	// the source's IV as looped (VNTag l=0, svif_id=0; E-Tag
	// Ingress_E-CID=0), so the IV cannot prune the source.
	SourcePruning Behaviour = "source-pruning"
	// Hairpin: the VIS no longer sends a unicast frame back out of the
	// port it came in on (on an evb port: reflective relay).
	Hairpin Behaviour = "hairpin"
)

// Behaviours lists every behaviour a Device can switch off.
var Behaviours = []Behaviour{SourcePruning, Hairpin}

// Device is a case's device built on niv's cores (vic/vis or vic/iv)
// from its setup: the core, its port numbers by name, the profile store,
// the control plane when the setup runs one, and the clock offset that
// conformance.StepAdvance moves. Target and the `niv vis` daemon drive it.
type Device struct {
	setup *conformance.Setup
	files map[string]string
	core  port.Core
	names []string // by core port number; "" for a port the case does not name
	ports map[string]int

	vis   *vis.VIS
	iv    *iv.IV
	store *profile.MemStore
	plane *bind.VISPlane // the vic control plane, when the setup runs one
	evbp  *bind.EVBPlane // the VDP bridge on the evb ports, when the setup runs one
	links []linkWriter   // by core port: where the planes' ECP frames go

	mu     sync.Mutex
	lists  conformance.Lists
	offset int64
	real   func() int64 // the real clock the offset is added to (SetClock)
	off    map[Behaviour]bool
	evb    map[int]bool // the core's evb ports
}

// New builds the device setup describes on niv's cores, with the profile
// files (profile.conf and the edits steps apply) from files. Behaviours in
// off are switched off (see Behaviour). Give it its ports with Attach
// before the first frame.
func New(setup *conformance.Setup, files map[string]string, off ...Behaviour) (*Device, error) {
	d := &Device{setup: setup, files: files, ports: map[string]int{}, lists: conformance.Lists{}, off: map[Behaviour]bool{},
		real: func() int64 { return time.Now().UnixNano() }}
	for _, b := range off {
		if !slices.Contains(Behaviours, b) {
			return nil, devErr("unknown behaviour %q (have %v)", b, Behaviours)
		}
		d.off[b] = true
	}
	var err error
	if setup.Device == conformance.DeviceIV {
		err = d.buildIV()
	} else {
		err = d.buildVIS()
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *Device) name(p int, n string) {
	for len(d.names) <= p {
		d.names = append(d.names, "")
	}
	d.names[p] = n
	d.ports[n] = p
}

func (d *Device) buildIV() error {
	mode := vntag.ModeVNTag
	for _, p := range d.setup.Ports {
		if p.Kind == conformance.PortUplink && p.Mode == vntag.ModeETag {
			mode = vntag.ModeETag
		}
	}
	d.iv = iv.New(iv.Config{Mode: mode})
	d.core = d.iv
	d.names = []string{"", ""}
	for _, p := range d.setup.Ports {
		switch p.Kind {
		case conformance.PortUplink:
			u := iv.UplinkA
			if p.Fabric == "b" {
				u = iv.UplinkB
			}
			d.name(u, p.Name)
		case conformance.PortVNIC:
			n, err := d.iv.AddVNIC(iv.VNICConfig{VIF: p.VIF, Fabric: iv.FabricA})
			if err != nil {
				return devErr("vnic %s: %v", p.Name, err)
			}
			d.name(n, p.Name)
		}
	}
	rec := d.recorder("")
	for _, l := range d.setup.Lists {
		if err := d.iv.SetVIFList(l.ID, l.VIFs); err != nil {
			return devErr("vif-list %d: %v", l.ID, err)
		}
		_ = rec.SetVIFList(l.ID, l.VIFs)
	}
	return nil
}

func (d *Device) buildVIS() error {
	d.store = profile.NewMemStore()
	if f := d.setup.Profiles; f != "" {
		text := d.files[f]
		if _, err := d.store.Update(func(tx *profile.Txn) error { return tx.Configure(text) }); err != nil {
			return devErr("%s: %v", f, err)
		}
	}
	var err error
	d.vis, err = vis.New(vis.Config{Store: d.store, AgingTime: d.setup.Aging, MACLimit: d.setup.MACLimit})
	if err != nil {
		return devErr("%v", err)
	}
	d.core = d.vis
	cp := d.setup.Control
	if cp != nil {
		if d.plane, err = bind.NewVISPlane(d.vis, d.store, vic.VISConfig{Session: cp.Session}); err != nil {
			return devErr("control-plane: %v", err)
		}
		d.core = d.plane.Core()
	}
	var vicPorts int
	var evbPorts []bind.EVBPort
	for _, p := range d.setup.Ports {
		if p.Kind == conformance.PortUplink {
			d.name(d.vis.AddUplink(p.Name), p.Name)
			continue
		}
		if p.Kind == conformance.PortEVB {
			if d.setup.VDP != nil {
				evbPorts = append(evbPorts, bind.EVBPort{Name: p.Name, W: linkWriter{new(port.Port)}, ECP: vdpECPConfig(d.setup.VDP.MAC)})
				continue // the plane adds it to the core
			}
			d.addEVB(d.vis.AddEVBPort(p.Name), p.Name)
			continue
		}
		var n int
		if cp == nil {
			n, err = d.vis.AddIVPort(p.Name, p.Mode, d.recorder(p.Name))
		} else {
			// The core's vif lists are recorded as for every case, not
			// sent over vic.
			w := linkWriter{new(port.Port)}
			n, err = d.plane.AddIVPort(p.Name, p.Mode, vic.PortID(vicPorts), w, ecpConfig(cp.MAC), d.recorder(p.Name))
			for len(d.links) <= n {
				d.links = append(d.links, linkWriter{})
			}
			d.links[n] = w
			vicPorts++
		}
		if err != nil {
			return devErr("port %s: %v", p.Name, err)
		}
		d.name(n, p.Name)
	}
	if evbPorts != nil {
		cfg := bind.EVBConfig{Timers: VDPTimers, Clock: d.clock}
		if d.plane != nil {
			cfg.Control = d.plane.Core()
		}
		if d.evbp, err = bind.NewEVBPlane(d.vis, d.store, cfg, evbPorts...); err != nil {
			return devErr("control-plane vdp: %v", err)
		}
		d.core = d.evbp.Core()
		for i, p := range evbPorts {
			n := d.evbp.Port(i)
			d.addEVB(n, p.Name)
			for len(d.links) <= n {
				d.links = append(d.links, linkWriter{})
			}
			d.links[n] = p.W.(linkWriter)
		}
	}
	for _, v := range d.setup.VEths {
		if err := d.vis.AddVEth(profile.VEthID(v.ID), d.ports[v.Port], v.VIF); err != nil {
			return devErr("veth %d: %v", v.ID, err)
		}
	}
	for _, v := range d.setup.VSIs {
		if err := d.vis.AddVSI(profile.VEthID(v.ID), d.ports[v.Port], v.VID, v.MAC); err != nil {
			return devErr("vsi %d: %v", v.ID, err)
		}
	}
	if len(d.setup.VEths)+len(d.setup.VSIs) > 0 {
		_, err := d.store.Update(func(tx *profile.Txn) error {
			for _, v := range d.setup.VEths {
				tx.Bind(profile.VEthID(v.ID), v.Profile)
			}
			for _, v := range d.setup.VSIs {
				tx.Bind(profile.VEthID(v.ID), v.Profile)
			}
			return nil
		})
		if err != nil {
			return devErr("binding vEths: %v", err)
		}
	}
	return nil
}

// addEVB names evb port n.
func (d *Device) addEVB(n int, name string) {
	d.name(n, name)
	if d.evb == nil {
		d.evb = map[int]bool{}
	}
	d.evb[n] = true
}

// recorder returns the vis.ListProgrammer that records port p's lists.
func (d *Device) recorder(p string) vis.ListProgrammer {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lists[p] == nil {
		d.lists[p] = map[uint32][]vntag.VIF{}
	}
	return &listRecorder{d: d, port: p}
}

type listRecorder struct {
	d    *Device
	port string
}

func (r *listRecorder) SetVIFList(list uint32, vifs []vntag.VIF) error {
	r.d.mu.Lock()
	defer r.d.mu.Unlock()
	r.d.lists[r.port][list] = slices.Clone(vifs)
	return nil
}

// DeleteVIFList keeps the list's members on record: a VIS does not reuse
// a list id within a case, and frames already sent may still name it.
func (r *listRecorder) DeleteVIFList(uint32) error { return nil }

// Attach gives the device its ports, by core port number (see PortName):
// the control plane, when the setup runs one, sends its ECP frames out of
// them directly. The data frames go where the caller's Tx says.
func (d *Device) Attach(ports []port.Port) {
	for i, w := range d.links {
		if w.p != nil && i < len(ports) {
			*w.p = ports[i]
		}
	}
}

// Close releases the device.
func (d *Device) Close() {
	if d.evbp != nil {
		d.evbp.Close()
	}
	if d.plane != nil {
		d.plane.Close()
	}
	if d.vis != nil {
		d.vis.Close()
	}
}

// Core returns the core to drive, with the switched-off behaviours
// applied to what it sends.
func (d *Device) Core() port.Core {
	if len(d.off) == 0 {
		return d.core
	}
	return offCore{d}
}

// VIS returns the device's vis core (nil for an IV).
func (d *Device) VIS() *vis.VIS { return d.vis }

// EVBPlane returns the VDP bridge of the device's evb ports (nil unless
// the setup says control-plane vdp).
func (d *Device) EVBPlane() *bind.EVBPlane { return d.evbp }

// NumPorts returns the number of the core's ports.
func (d *Device) NumPorts() int { return len(d.names) }

// PortName returns the case's name of core port p, or "" when the case
// does not name it.
func (d *Device) PortName(p int) string {
	if p < 0 || p >= len(d.names) {
		return ""
	}
	return d.names[p]
}

// PortNumber returns the core's number of the port named name.
func (d *Device) PortNumber(name string) (int, bool) {
	p, ok := d.ports[name]
	return p, ok
}

// SetClock sets the real clock (in ns) that the device's own clock adds
// the case's advances to: the control planes' timers read it. The default
// is time.Now; the in-memory Target's is its constant Epoch. Call it
// before the first frame.
func (d *Device) SetClock(real func() int64) {
	d.mu.Lock()
	d.real = real
	d.mu.Unlock()
}

// clock is the device's clock: the real clock plus the advances.
func (d *Device) clock() time.Time {
	d.mu.Lock()
	real, off := d.real, d.offset
	d.mu.Unlock()
	return time.Unix(0, real()+off)
}

// Now returns the device's clock for the real time real (in ns): real plus
// every conformance.StepAdvance so far.
func (d *Device) Now(real int64) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return real + d.offset
}

// Lists returns a copy of the vif lists the device has programmed.
func (d *Device) Lists() conformance.Lists {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := conformance.Lists{}
	for p, m := range d.lists {
		out[p] = map[uint32][]vntag.VIF{}
		for id, v := range m {
			out[p][id] = slices.Clone(v)
		}
	}
	return out
}

// Apply performs a step.
func (d *Device) Apply(st conformance.Step) error {
	switch st.Kind {
	case conformance.StepAdvance:
		d.mu.Lock()
		d.offset += st.Duration.Nanoseconds()
		d.mu.Unlock()
		if d.evbp != nil {
			d.evbp.Tick() // what the advance made due happens now
		}
	case conformance.StepConfigure:
		if d.store == nil {
			return devErr("%s: an IV has no profiles", st.Line)
		}
		text, ok := d.files[st.File]
		if !ok {
			return devErr("%s: no file %s", st.Line, st.File)
		}
		if _, err := d.store.Update(func(tx *profile.Txn) error { return tx.Configure(text) }); err != nil {
			return devErr("%s: %v", st.Line, err)
		}
	case conformance.StepShutdown, conformance.StepNoShutdown:
		if d.vis == nil {
			return devErr("%s: an IV has no vEths", st.Line)
		}
		if err := d.vis.SetAdminUp(profile.VEthID(st.VEth), st.Kind == conformance.StepNoShutdown); err != nil {
			return devErr("%s: %v", st.Line, err)
		}
	case conformance.StepUplinkDown, conformance.StepUplinkUp:
		p, ok := d.ports[st.Port]
		if d.iv == nil || !ok {
			return devErr("%s: not an IV uplink", st.Line)
		}
		if err := d.iv.SetUplinkUp(p, st.Kind == conformance.StepUplinkUp); err != nil {
			return devErr("%s: %v", st.Line, err)
		}
	default:
		return devErr("%s: unknown step", st.Line)
	}
	return nil
}

// Describe renders the device's state for a failing case: the vif lists
// and, for a VIS, every vEth's counters.
func (d *Device) Describe() string {
	var b strings.Builder
	lists := d.Lists()
	ports := make([]string, 0, len(lists))
	for p := range lists {
		ports = append(ports, p)
	}
	sort.Strings(ports)
	for _, p := range ports {
		ids := make([]uint32, 0, len(lists[p]))
		for id := range lists[p] {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			fmt.Fprintf(&b, "vif-list %d port %q: %v\n", id, p, lists[p][id])
		}
	}
	if d.plane != nil {
		b.WriteString(d.describePlane())
	}
	if d.evbp != nil {
		b.WriteString(d.describeEVB())
	}
	if d.vis != nil {
		for _, v := range d.setup.VEths {
			if s, err := d.vis.ShowInterface(profile.VEthID(v.ID)); err == nil {
				b.WriteString(s)
				if !strings.HasSuffix(s, "\n") {
					b.WriteByte('\n')
				}
			}
		}
	}
	return b.String()
}

// controlRTE is the ECP retransmission exponent of a case's control plane:
// 10 µs × 2^20 ≈ 10.5 s, longer than any case, so that a tester over a
// real link, which acknowledges the VIS's requests only with its next
// input frame, is never overtaken by a retransmission.
const controlRTE = 20

// VDPTimers are the EVB values of a case's VDP bridge (IEEE 802.1Qbg
// 41.5.5, vdp-ecp.md §4): R 3, RTE 20 as its ECP speakers' timer, RWD 20,
// RKA 20. With them a VSI the station does not refresh is de-associated
// 1.5 × ((2R+1)·10·2^RTE + 10·2^RKA) µs = 125.83 s after its last request.
var VDPTimers = vdp.Timers{R: 3, RTE: controlRTE, RWD: 20, RKA: 20}

// ecpConfig returns the ECP configuration of a case's control plane, with
// mac as the source of its frames.
func ecpConfig(mac [6]byte) ecp.Config {
	cfg := ecp.DefaultConfig(mac)
	cfg.RTE = controlRTE
	cfg.Subtypes = []ecp.Subtype{ecp.SubtypePECSP}
	return cfg
}

// vdpECPConfig is ecpConfig for the VDP bridge of the evb ports: ECP
// subtype 1 (VDP) only.
func vdpECPConfig(mac [6]byte) ecp.Config {
	cfg := ecp.DefaultConfig(mac)
	cfg.RTE = controlRTE
	cfg.Subtypes = []ecp.Subtype{ecp.SubtypeVDP}
	return cfg
}

// linkWriter is the ecp.FrameWriter of a core port whose port.Port comes
// later (Attach).
type linkWriter struct{ p *port.Port }

func (w linkWriter) WriteFrame(frame []byte) error {
	if *w.p == nil {
		return devErr("control-plane: port not attached")
	}
	_, err := (*w.p).Write([]port.Frame{port.FrameFrom(frame)})
	return err
}

// describePlane renders the control plane's state for a failing case.
func (d *Device) describePlane() string {
	var b strings.Builder
	a := d.plane.Agent()
	for id := vic.PortID(0); ; id++ {
		sp := d.plane.Speaker(id)
		if sp == nil {
			break
		}
		st, sess := a.Session(id)
		cn := sp.Counters()
		fmt.Fprintf(&b, "vic port %d: session %v, IV session %#x; ECP tx %d rx %d tx-ack %d rx-ack %d dup %d dropped %d\n",
			id, st, sess, cn.TxPDUs, cn.RxPDUs, cn.TxAcks, cn.RxAcks, cn.RxDuplicates, cn.Dropped)
	}
	for _, v := range a.VEths() {
		fmt.Fprintf(&b, "vic vEth %d: instance %v profile %s port %d VIF %d bound %v\n", v.ID, v.VNIC.Instance, v.VNIC.Profile, v.Port, v.VIF, v.Bound)
	}
	if dec, send, prog := a.Errors(); dec+send+prog > 0 {
		fmt.Fprintf(&b, "vic errors: %d decode, %d send, %d program\n", dec, send, prog)
	}
	return b.String()
}

// describeEVB renders the evb ports and the VDP bridge's VSIs, each with
// its vEth, for a failing case.
func (d *Device) describeEVB() string {
	var b strings.Builder
	for i, name := range d.evbPorts() {
		if c, ok := d.vis.PortCounters(d.ports[name]); ok {
			fmt.Fprintf(&b, "evb port %s: rx %d tx %d, dropped %s\n", name, c.RxFrames, c.TxFrames, dropList(c.Drops[:]))
		}
		cn := d.evbp.Speaker(i).Counters()
		fmt.Fprintf(&b, "  ECP tx %d rx %d tx-ack %d rx-ack %d dup %d dropped %d\n",
			cn.TxPDUs, cn.RxPDUs, cn.TxAcks, cn.RxAcks, cn.RxDuplicates, cn.Dropped)
	}
	var vsis []vdp.BridgeVSI
	d.evbp.Runner().Do(func(br *vdp.Bridge) {
		br.Each(func(v *vdp.BridgeVSI) { vsis = append(vsis, *v) })
	})
	for _, v := range vsis {
		fmt.Fprintf(&b, "vdp VSI %v %x on port %d: mode %v, %+v\n", v.VSI.IDFormat, v.VSI.ID[:], v.Port, v.Mode, v.Counters)
		if id, ok := d.evbp.VEth(v.VSI.IDFormat, v.VSI.ID); ok {
			if s, err := d.vis.ShowInterface(id); err == nil {
				b.WriteString(s)
				if !strings.HasSuffix(s, "\n") {
					b.WriteByte('\n')
				}
			}
		}
	}
	return b.String()
}

// evbPorts returns the names of the VDP bridge's ports, in its order.
func (d *Device) evbPorts() []string {
	var out []string
	for _, p := range d.setup.Ports {
		if p.Kind == conformance.PortEVB {
			out = append(out, p.Name)
		}
	}
	return out
}

func dropList(drops []uint64) string {
	var parts []string
	for r, n := range drops {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%v %d", vis.Drop(r), n))
		}
	}
	if parts == nil {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

func devErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{conformance.ErrDevice}, a...)...)
}

func caseErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{conformance.ErrCase}, a...)...)
}
