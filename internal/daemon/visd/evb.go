package visd

import (
	"context"
	"errors"
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
	"github.com/nivkit/niv/vic/registry"
	"github.com/nivkit/niv/vic/vis"
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
//
// On a fleet store (niv vis --store etcd://...) a VSI's vEth is the
// fleet's, as a vic vNIC's is: its id comes from the fleet's registry,
// keyed by registry.VSIInstance (a UUID VSIID, libvirt's instanceid, is
// the key itself), created if absent with the VSI's profile, which counts
// against the profile's fleet-wide max-ports, off the bridge machine
// (fleetVSIVEthID, resolveVSI, EVBPlane.IDReady); Bound
// queues its bind with its configuration on the registry's pipeline,
// the checkpoints add its counts, Unbound releases it with the last of
// them. A VSI associated here that another VIS holds (its VM moved to a
// host behind this VIS) is bound one placement epoch above: that VIS is
// told (registry.Taken), its EVB plane ends the VSI with an unsolicited
// De-Associate to the old host's station (bind.EVBPlane.Taken) and
// checkpoints what it counted since its last checkpoint, so the vEth
// keeps its id, configuration and counters. A VIS that dies loses its
// lease; its VSIs' vEths are held by no VIS once it expires, and the
// station that associates a VSI on another VIS gets it there, the same.
// The profiles are the fleet's shared ones (the plane admits by them).

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
	ec := bind.EVBConfig{
		Timers:  evbTimers(cfg.EVB),
		Control: d.plane.Core(),
		VEthID:  d.vsiVEthID,
		Bound:   func(v bind.EVBVEth) { d.rec.putVSI(vsiRecord(v, d.evbPorts[v.Port].cfg.Name)) },
		Unbound: func(v bind.EVBVEth) { d.rec.dropVSI(uint32(v.VEth), "VSI ended ("+v.Reason.String()+")") },
	}
	if d.fleet != nil {
		d.vsiEpochs, d.vsiIDs = map[vic.UUID]uint32{}, map[vic.UUID]*vsiResult{}
		d.vsiCtx, d.vsiStop = context.WithCancel(context.Background())
		ec.VEthID = d.fleetVSIVEthID
		ec.Bound = func(v bind.EVBVEth) {
			r := vsiRecord(v, d.evbPorts[v.Port].cfg.Name)
			r.Epoch = d.vsiEpoch(registry.VSIInstance(v.IDFormat, v.ID), uint32(v.VEth))
			d.rec.putVSI(r)
			d.rec.bindVSI(r)
		}
		ec.Unbound = func(v bind.EVBVEth) {
			d.rec.releaseVSI(uint32(v.VEth), v.Counters)
			d.rec.dropVSI(uint32(v.VEth), "VSI ended ("+v.Reason.String()+")")
		}
	}
	var err error
	d.evb, err = bind.NewEVBPlane(d.core, d.store, ec, ports...)
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

// vsiRegistryTimeout bounds the registry round trips that give a VSI new
// to this VIS its vEth id (resolveVSI): inside the resource wait delay
// after which the bridge machine answers the station "unable to contact
// the VSI manager" (10·2^RWD µs, 10.5 s at lldpad's default RWD 20).
const vsiRegistryTimeout = 5 * time.Second

// vsiResult is what resolveVSI found for a VSI.
type vsiResult struct {
	done  bool
	id    profile.VEthID
	epoch uint32
	err   error
}

// vsiVEthID is the EVB plane's VEthID: the vEth id the store has for the
// VSIID, else a new one.
func (d *Daemon) vsiVEthID(c bind.EVBVEth) (profile.VEthID, error) {
	f, id := c.IDFormat, c.ID
	if v, ok := d.rec.vsiOf(uint8(f), id); ok {
		return profile.VEthID(v), nil
	}
	n, _ := d.localID(vic.VNIC{})
	return profile.VEthID(n), nil
}

// fleetVSIVEthID is the EVB plane's VEthID on a fleet store. A VSI this
// VIS has in its store (the station's keep-alive after a restart) gets
// its stored id at once: ids are the fleet's, and the store has the
// registry's. Any other is looked up in the fleet's registry without
// making the bridge machine wait, as the vic machine's ids are
// (allocator): the first ask answers vic.ErrIDPending and resolveVSI does
// the round trips, then tells the plane (EVBPlane.IDReady), which asks
// again and gets the id, or the error that refuses the VSI.
func (d *Daemon) fleetVSIVEthID(c bind.EVBVEth) (profile.VEthID, error) {
	if v, ok := d.rec.vsiOf(uint8(c.IDFormat), c.ID); ok {
		return profile.VEthID(v), nil
	}
	u := registry.VSIInstance(c.IDFormat, c.ID)
	d.idMu.Lock()
	defer d.idMu.Unlock()
	if r, ok := d.vsiIDs[u]; ok {
		if !r.done {
			return 0, vic.ErrIDPending
		}
		delete(d.vsiIDs, u)
		if r.err == nil {
			d.vsiEpochs[u] = r.epoch
		}
		return r.id, r.err
	}
	if d.vsiCtx.Err() != nil {
		return 0, registry.ErrClosed
	}
	d.vsiIDs[u] = &vsiResult{}
	d.vsiWG.Add(1)
	go func() {
		defer d.vsiWG.Done()
		id, epoch, err := d.resolveVSI(u, c)
		d.idMu.Lock()
		d.vsiIDs[u] = &vsiResult{done: true, id: id, epoch: epoch, err: err}
		d.idMu.Unlock()
		if d.vsiCtx.Err() == nil {
			d.evb.IDReady(c.IDFormat, c.ID)
		}
	}()
	return 0, vic.ErrIDPending
}

// resolveVSI gives VSI c (registry key u) its vEth in the fleet's
// registry, created if absent with the VSI's port-profile, MAC and VLAN —
// which takes one of the profile's max-ports across the fleet
// (registry.ErrProfileFull refuses the VSI: Insufficient Resources) — so
// that a VSI associated here after its VM moved from a host behind
// another VIS, or after that VIS died, keeps its vEth id (and, through
// the registry, its configuration and counters); and the placement epoch
// to bind it at. The epoch is what lets the bind take the vEth from a VIS
// that still holds it: a station that associates a VSI here is its newest
// placement, so a vEth another VIS holds is bound one epoch above that
// VIS's; one this VIS holds already keeps its epoch. A registry that
// cannot be reached refuses the VSI.
func (d *Daemon) resolveVSI(u vic.UUID, c bind.EVBVEth) (profile.VEthID, uint32, error) {
	n := vic.VNIC{Instance: u, Profile: c.Profile, VLAN: c.VID, Up: true, Epoch: 1}
	if len(c.MACs) > 0 {
		n.MAC = c.MACs[0]
	}
	ctx, cancel := context.WithTimeout(d.vsiCtx, vsiRegistryTimeout)
	defer cancel()
	reg := d.fleet.Registry
	rec, err := reg.Allocate(ctx, u, n)
	var cur registry.Record
	if err == nil {
		cur, err = reg.Get(ctx, u)
	}
	if err != nil {
		d.log.Error("vEth registry: no vEth id for the VSI; refused (insufficient resources)", "vsiid", uuidString(c.ID), "err", err)
		return 0, 0, err
	}
	epoch := max(cur.Config.Epoch, 1)
	switch {
	case cur.Held && cur.Binding.VIS == reg.VIS():
		epoch = max(epoch, cur.Binding.Epoch)
	case cur.Held:
		epoch = max(epoch, cur.Binding.Epoch) + 1
		d.log.Info("VSI associated here is held by another VIS: taking it (its VM moved)", "veth", uint32(rec.ID), "vis", cur.Binding.VIS,
			"interface", cur.Binding.Port, "vsiid", uuidString(c.ID))
	default:
		epoch++
	}
	return rec.ID, epoch, nil
}

// vsiEpoch returns the placement epoch of VSI instance u's vEth id as
// it is bound: the one fleetVSIVEthID chose when it gave the id (taken
// out: the record has it from then on), else the record's, else 1.
func (d *Daemon) vsiEpoch(u vic.UUID, id uint32) uint32 {
	d.idMu.Lock()
	e, ok := d.vsiEpochs[u]
	delete(d.vsiEpochs, u)
	d.idMu.Unlock()
	if ok {
		return e
	}
	if v, ok := d.rec.get(id); ok && v.VSI != nil {
		return max(v.Epoch, 1)
	}
	return 1
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

// bindVSI binds VSI vEth v at this VIS in the fleet's registry, with its
// configuration. A vEth that another VIS holds at the same or a newer
// epoch (ErrHeld: the two raced) is bound when it is orphaned
// (onRegistry), as a vic vEth is.
func (r *recorder) bindVSI(v state.VEth) {
	if r.reg == nil {
		return
	}
	n := vnicOf(v)
	n.Instance = regKey(&v)
	b := registry.Binding{Port: v.Port, Epoch: v.Epoch}
	r.fleet(registry.Op{Kind: registry.OpBind, Instance: n.Instance, Binding: b, Config: &n}, "bind VSI", v.ID, func(err error) error {
		if errors.Is(err, registry.ErrHeld) {
			r.log.Warn("vEth registry: VSI's vEth held by another VIS; bound here when it lets go", "veth", v.ID)
			return nil
		}
		return err
	})
}

// releaseVSI gives up VSI vEth id in the fleet's registry with final,
// what the core had counted on it when it was removed: the counts since
// its last checkpoint go in, and the binding goes unless another VIS took
// it meanwhile (its VM moved there), when they go in as a checkpoint.
func (r *recorder) releaseVSI(id uint32, final vis.Counters) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.veths[id]
	if r.reg == nil || v == nil || v.VSI == nil {
		return
	}
	d := registry.SubCounters(final, r.last[id])
	r.last[id] = final
	r.releaseFleet(regKey(v), id, d)
}

// regKey is vEth v's instance key in the fleet's registry: a vic vEth's
// instance UUID, a VSI's registry.VSIInstance.
func regKey(v *state.VEth) vic.UUID {
	if v.VSI != nil {
		return registry.VSIInstance(vdp.VSIIDFormat(v.VSI.IDFormat), vdp.VSIID(v.Instance))
	}
	return v.Instance
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
