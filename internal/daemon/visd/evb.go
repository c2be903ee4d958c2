package visd

import (
	"fmt"
	"time"

	"github.com/nivkit/niv/internal/daemon/conf"
	"github.com/nivkit/niv/internal/daemon/state"
	"github.com/nivkit/niv/internal/daemon/wire"
	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vdp/evb"
	"github.com/nivkit/niv/vdp/lldp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/bind"
)

// EVB ports (IEEE 802.1Qbg). The daemon opens each evb port's link, and
// bind.EVBPlane runs on all of them: an LLDP agent per port sending the
// bridge's EVB TLV, an ECP speaker per port, VDP's bridge machine, the
// plane as its resource decision, in front of the same core and behind the
// same Control as the vic ports. A VSI associated becomes a vEth; the
// daemon records it in the store (Bound, before the station's answer goes
// out) like the vic vEths, with the VSI's identity, so that after a
// restart the station's next keep-alive — which the new bridge machine
// takes as an Associate — gets the vEth id it had, and its counters go on
// from the last checkpoint. A VSI's vEth is deleted when the VSI ends: a
// De-Associate, a keep-alive timeout (the machine then sends the
// unsolicited De-Associate), or, for one restored from the store, no
// keep-alive within staleAfter of the start.

// evbRTE is the ECP retransmission exponent the evb ports' speakers start
// at and their EVB TLV advertises. Each side of the EVB exchange uses the
// larger of its own and the peer's R and RTE (802.1Qbg 41.5.5.7; lldpad's
// rule, evb.Negotiate), and bind.EVBPlane gives the negotiated ones to the
// port's speaker, so this is a floor: 14 (164 ms apart, R 3: four tries
// over 655 ms) is patient with a station that a loaded host makes slow to
// acknowledge — lldpad's default, 8, gives up on an answer after 4 × 2.56
// ms — and a station that asks for a larger one gets it.
const evbRTE = 14

// evbECP is an evb port's ECP configuration.
func evbECP(mac [6]byte) ecp.Config {
	c := ecp.DefaultConfig(mac)
	c.RTE = evbRTE
	return c
}

// evbTimers are the VDP timers an evb port starts from: the ECP
// speaker's R and RTE, the file's RWD and RKA. The EVB exchange with the
// station replaces them with the larger of each.
func evbTimers(e conf.EVB) vdp.Timers {
	c := evbECP([6]byte{})
	return vdp.Timers{R: c.MaxRetries, RTE: c.RTE, RWD: e.RWD, RKA: e.RKA}
}

// staleAfter is how long the VSIs restored from the store wait for their
// stations' keep-alives: twice the bridge's keep-alive timeout, at the
// configured exponents or, where a record has them, at the exponents its
// port had negotiated when it was bound (a station that asked for a
// larger RKA keeps alive more slowly) — the larger.
func staleAfter(e conf.EVB, restored []state.VEth) time.Duration {
	d := evbTimers(e).BridgeKeepAlive()
	for _, v := range restored {
		if v.VSI != nil && v.VSI.RKA != 0 {
			t := evbTimers(e)
			t.R, t.RTE, t.RKA = v.VSI.R, v.VSI.RTE, v.VSI.RKA
			d = max(d, t.BridgeKeepAlive())
		}
	}
	return 2 * d
}

// addEVBPorts opens the evb ports of cfg and starts the EVB plane on
// them. The ports' core numbers follow the links opened before.
func (d *Daemon) addEVBPorts(cfg *conf.VIS) error {
	var ports []bind.EVBPort
	for i, pc := range cfg.Ports {
		if pc.Kind != conf.KindEVB {
			continue
		}
		link, mac, err := wire.OpenEVB(pc.Linux)
		if err != nil {
			return fmt.Errorf("interface %s (%s): %w", pc.Name, pc.Linux, err)
		}
		d.links = append(d.links, link)
		d.evbPorts = append(d.evbPorts, &visPort{cfg: pc, id: vic.PortID(i), core: len(d.links) - 1})
		t := evbTimers(cfg.EVB)
		ports = append(ports, bind.EVBPort{Name: pc.Name, W: bind.Writer{Port: link}, ECP: evbECP(mac), PVID: pc.PVID,
			LLDP: &lldp.Config{EVB: evb.TLV{Mode: evb.ModeBridge, RRCAP: true, R: t.R, RTE: t.RTE, RWD: t.RWD, RKA: t.RKA}}})
	}
	if len(ports) == 0 {
		return nil
	}
	if d.fleet != nil {
		return fmt.Errorf("interface %s: %w: evb ports with a fleet store (their vEths are this VIS's own)", ports[0].Name, conf.ErrUnsupported)
	}
	var err error
	d.evb, err = bind.NewEVBPlane(d.core, d.store, bind.EVBConfig{
		Timers:  evbTimers(cfg.EVB),
		Control: d.plane.Core(),
		VEthID:  d.vsiVEthID,
		Bound:   func(v bind.EVBVEth) { d.rec.putVSI(vsiRecord(v, d.evbPorts[v.Port].cfg.Name)) },
		Unbound: func(v bind.EVBVEth) { d.rec.dropVSI(uint32(v.VEth), "VSI ended ("+v.Reason.String()+")") },
	}, ports...)
	if err != nil {
		return err
	}
	for i, p := range d.evbPorts {
		if p.core != d.evb.Port(i) {
			return fmt.Errorf("evb port %s: core port %d is link %d", p.cfg.Name, d.evb.Port(i), p.core)
		}
		d.ports = append(d.ports, p)
	}
	return nil
}

// vsiRecord is the store's record of v's vEth on port.
func vsiRecord(v bind.EVBVEth, port string) state.VEth {
	r := state.VEth{ID: uint32(v.VEth), Instance: v.ID, Profile: v.Profile, VLAN: v.VID, Up: true, Port: port, Bound: true,
		VSI: &state.VSI{IDFormat: uint8(v.IDFormat), TypeID: v.TypeID, TypeVersion: v.TypeVersion, Manager: v.Manager, MACs: v.MACs,
			R: v.Timers.R, RTE: v.Timers.RTE, RKA: v.Timers.RKA}}
	if len(v.MACs) > 0 {
		r.MAC = v.MACs[0]
	}
	return r
}

// vsiVEthID is the EVB plane's VEthID: the vEth id the store has for the
// VSIID, else a new one.
func (d *Daemon) vsiVEthID(c bind.EVBVEth) profile.VEthID {
	f, id := c.IDFormat, c.ID
	if v, ok := d.rec.vsiOf(uint8(f), id); ok {
		return profile.VEthID(v)
	}
	n, _ := d.localID(vic.VNIC{})
	return profile.VEthID(n)
}

// localID gives out vEth ids for both control planes of a VIS on its
// own: the vic machine's (vic.VISConfig.NewVEthID) and the EVB plane's
// come from one counter, so they never collide.
func (d *Daemon) localID(vic.VNIC) (uint32, error) {
	d.idMu.Lock()
	defer d.idMu.Unlock()
	d.nextID++
	return d.nextID, nil
}

// dropStale deletes the VSI vEths restored from the store whose station
// has not re-associated them.
func (d *Daemon) dropStale() {
	for _, v := range d.rec.list() {
		if v.VSI != nil && !v.Bound {
			d.rec.dropVSI(v.ID, "VSI not re-associated after the restart")
		}
	}
}

// putVSI records a VSI's vEth, bound.
func (r *recorder) putVSI(v state.VEth) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.veths[v.ID]
	r.veths[v.ID] = &v
	r.save(&v)
	macs := ""
	for i, m := range v.VSI.MACs {
		if i > 0 {
			macs += ","
		}
		macs += macString(m)
	}
	switch {
	case old == nil:
		r.log.Info("VSI associated: vEth created", "veth", v.ID, "interface", v.Port, "vsiid", uuidString(v.Instance),
			"type", v.VSI.TypeID, "version", v.VSI.TypeVersion, "mac", macs, "vlan", v.VLAN, "profile", v.Profile)
	case !old.Bound:
		r.log.Info("VSI re-associated onto its vEth", "veth", v.ID, "interface", v.Port, "vsiid", uuidString(v.Instance))
	default:
		r.log.Info("VSI changed", "veth", v.ID, "interface", v.Port, "from", old.Port, "mac", macs, "vlan", v.VLAN, "profile", v.Profile)
	}
}

// dropVSI deletes a VSI's vEth record.
func (r *recorder) dropVSI(id uint32, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.veths[id]
	if v == nil || v.VSI == nil {
		return
	}
	delete(r.veths, id)
	delete(r.last, id)
	delete(r.base, id)
	if err := r.st.DeleteVEth(id); err != nil {
		r.log.Error("store: deleting vEth", "veth", id, "err", err)
	}
	r.log.Info(why+": vEth deleted", "veth", id, "interface", v.Port, "vsiid", uuidString(v.Instance))
}

// restoreVSI puts a VSI vEth of the store back in the table, unbound
// until its station's keep-alive re-associates it.
func (r *recorder) restoreVSI(v state.VEth) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v.Bound = false
	r.veths[v.ID] = &v
	r.log.Info("VSI vEth restored, waiting for its station", "veth", v.ID, "interface", v.Port, "vsiid", uuidString(v.Instance))
}

// vsiOf returns the id of the vEth of VSI (f, id).
func (r *recorder) vsiOf(f uint8, id [16]byte) (uint32, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.veths {
		if v.VSI != nil && v.VSI.IDFormat == f && v.Instance == id {
			return v.ID, true
		}
	}
	return 0, false
}
