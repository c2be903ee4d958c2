// Package visd is the `niv vis --config FILE` daemon: the switch side of
// VN-Link. It runs niv's VIS core (vic/vis) on the Linux interfaces its
// configuration binds ethernet ports to, the vic control plane on every
// vntag and etag port, IEEE 802.1Qbg EVB (LLDP with the EVB TLV, ECP,
// VDP) on every evb port (evb.go), keeps its vEth table and counters in a local store
// (package state) so that a kill -9 loses nothing but the counts of the
// last checkpoint interval, and answers `niv show` and `niv configure` on
// its management socket.
package visd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nivkit/niv/internal/daemon/conf"
	"github.com/nivkit/niv/internal/daemon/mgmt"
	"github.com/nivkit/niv/internal/daemon/state"
	"github.com/nivkit/niv/internal/daemon/wire"
	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/bind"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/registry"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// Daemon is a running `niv vis`.
type Daemon struct {
	path string
	log  *slog.Logger

	mu  sync.Mutex // cfg, base
	cfg *conf.VIS
	// base is the profile text of the file the running profiles grew from.
	base string

	st state.Store
	// store is the port-profile store: a local one, or the fleet's shared
	// configuration (fleet != nil).
	store profile.Store
	fleet *Fleet
	// unsubReg stops the fleet registry's events.
	unsubReg func()
	// alloc and pipe take the fleet registry's round trips off the vic
	// machine: vEth ids, and every other registry call.
	alloc *allocator
	pipe  *registry.Pipeline
	core  *vis.VIS
	plane *bind.VISPlane
	// evb is the EVB plane of the evb ports (nil: none), evbPorts its
	// ports by the machine's port number.
	evb      *bind.EVBPlane
	evbPorts []*visPort
	// idMu and nextID number the vEths of both control planes when the
	// VIS has evb ports (localID).
	idMu   sync.Mutex
	nextID uint32
	// vsiIDs are the registry look-ups of the VSIs new to this VIS, under
	// way or done (fleetVSIVEthID); vsiEpochs the placement epochs of
	// those given their ids, until they are bound (fleet store only; both
	// under idMu). vsiCtx ends at Close, and vsiWG waits for the
	// look-ups.
	vsiIDs    map[vic.UUID]*vsiResult
	vsiEpochs map[vic.UUID]uint32
	vsiCtx    context.Context
	vsiStop   context.CancelFunc
	vsiWG     sync.WaitGroup
	stale     *time.Timer
	rec       *recorder
	ports     []*visPort // as configured
	links     []port.Port
	srv       *mgmt.Server
	started   time.Time

	cancel context.CancelFunc
	wg     sync.WaitGroup
	runErr chan error
}

// visPort is one configured ethernet port.
type visPort struct {
	cfg  conf.Port
	core int        // core port number
	id   vic.PortID // vic port, for vntag and etag ports
	vic  bool       // vic runs on it
}

// Options are what the command line sets over the file.
type Options struct {
	// Store replaces the file's "niv store".
	Store string
}

// Start reads the configuration file at path and starts the daemon. A
// file with errors is refused whole (conf.Errors).
func Start(path string, o Options, log *slog.Logger) (d *Daemon, err error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := conf.ParseVIS(string(src))
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	d = &Daemon{path: path, log: log, cfg: cfg, started: time.Now(), runErr: make(chan error, 1)}
	defer func() {
		if err != nil {
			d.Close()
			d = nil
		}
	}()
	name := cfg.Paths("vis")
	if o.Store != "" {
		if open := fleetOpener(o.Store); open != nil {
			// The fleet's store keeps the profiles and the vEth registry;
			// the file's "niv store" stays this VIS's local record of the
			// vEths it serves.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			d.fleet, err = open(ctx, o.Store, name, log)
			cancel()
			if err != nil {
				return d, fmt.Errorf("store %s: %w", o.Store, err)
			}
		} else if strings.HasPrefix(o.Store, "etcd://") {
			return d, fmt.Errorf("store %s: this niv has no etcd store; build the one of the nested module etcdstore (cd etcdstore && go build ./cmd/niv)", o.Store)
		} else {
			cfg.Store = o.Store
		}
	}
	if err := cfg.MakeDirs(); err != nil {
		return d, err
	}
	if d.st, err = state.Open(cfg.Store); err != nil {
		return d, err
	}
	snap, err := d.st.Load()
	if err != nil {
		return d, err
	}
	// The VSIs' vEths are the EVB plane's; the rest are vic's.
	var vsiVEths []state.VEth
	vicVEths := snap.VEths[:0:0]
	for _, v := range snap.VEths {
		d.nextID = max(d.nextID, v.ID)
		if v.VSI != nil {
			vsiVEths = append(vsiVEths, v)
		} else {
			vicVEths = append(vicVEths, v)
		}
	}
	d.nextID = max(d.nextID, snap.Next)
	snap.VEths = vicVEths
	if d.fleet != nil {
		if err := d.fleetProfiles(cfg); err != nil {
			return d, err
		}
	} else if err := d.localProfiles(cfg, snap); err != nil {
		return d, err
	}
	if d.core, err = vis.New(vis.Config{Store: d.store}); err != nil {
		return d, err
	}
	// The vic table as the store kept it. vic port ids are the ports'
	// places in the file; a vEth of a port no longer there is unbound.
	now := time.Now()
	tab := vic.NewTable()
	ids := map[string]vic.PortID{}
	for i, pc := range cfg.Ports {
		if pc.Control == conf.ControlVIC {
			ids[pc.Name] = vic.PortID(i)
		}
	}
	if d.fleet != nil {
		d.fleetRestore(snap)
	}
	for _, v := range snap.VEths {
		pid, known := ids[v.Port]
		tab.Restore(vic.VEthRecord{ID: v.ID, VNIC: vnicOf(v), Port: pid, VIF: vntag.VIF(v.VIF), Bound: v.Bound && known}, now)
	}
	tab.SetNext(snap.Next)
	// The one wiring of control plane to core (bind.VISPlane), its
	// programmer wrapped by the recorder that writes every change to the
	// store.
	d.plane, err = bind.NewVISPlaneWith(d.core, d.store,
		d.visConfig(cfg),
		bind.VISPlaneOptions{Table: tab, Status: d.status, Program: func(p *bind.VISProgrammer) vic.VISProgrammer {
			d.rec = newRecorder(p, d.st, snap, log)
			d.rec.core = d.core
			if d.fleet != nil {
				d.rec.reg = d.fleet.Registry
				d.pipe = registry.NewPipeline(d.fleet.Registry, registry.PipelineOptions{})
				d.rec.pipe = d.pipe
				d.rec.base = map[uint32]state.Counters{} // the registry's are the record
			}
			return d.rec
		}})
	if err != nil {
		return d, err
	}
	if d.alloc != nil {
		d.alloc.start(d.plane.Agent().IDReady)
	}
	d.links = []port.Port{nil} // core port 0: the parking port
	for i, pc := range cfg.Ports {
		if pc.Kind == conf.KindEVB {
			continue // addEVBPorts, all at once
		}
		if err := d.addPort(vic.PortID(i), pc); err != nil {
			return d, fmt.Errorf("interface %s (%s): %w", pc.Name, pc.Linux, err)
		}
	}
	for _, v := range vsiVEths {
		d.rec.restoreVSI(v)
	}
	if err := d.addEVBPorts(cfg); err != nil {
		return d, err
	}
	if len(vsiVEths) > 0 {
		d.stale = time.AfterFunc(staleAfter(cfg.EVB, vsiVEths), d.dropStale)
	}
	// The core programmed as before the restart, counters aside: the
	// profile bindings first, in one transaction (one per vEth costs a
	// commit each); if that fails, vEth by vEth below says which.
	if _, err := d.store.Update(func(tx *profile.Txn) error {
		for _, v := range snap.VEths {
			tx.Bind(profile.VEthID(v.ID), v.Profile)
		}
		return nil
	}); err != nil {
		log.Warn("restoring the vEths' profile bindings at once failed; one by one", "err", err)
	}
	d.rec.restoring = true
	for _, v := range snap.VEths {
		pid, known := ids[v.Port]
		bound := v.Bound && known
		if err := d.rec.SetVEth(v.ID, vnicOf(v)); err != nil {
			log.Error("restoring vEth", "veth", v.ID, "err", err)
			continue
		}
		if bound {
			if err := d.rec.BindVIF(pid, vntag.VIF(v.VIF), v.ID); err != nil {
				log.Error("restoring vEth binding", "veth", v.ID, "port", v.Port, "err", err)
			}
		} else if v.Bound {
			log.Warn("vEth bound to a port no longer configured: unbound", "veth", v.ID, "port", v.Port)
		}
	}
	d.rec.restoring = false
	// vEth blocks in the file (as "show running-config" prints them) are
	// checked against the store, which is the record: the control plane
	// makes vEths when VMs ask.
	for _, cv := range cfg.VEths {
		v, ok := d.rec.get(cv.ID)
		switch {
		case !ok:
			log.Warn("the file has a vEth the store does not: ignored (vEths are made when a VM's vNIC asks)", "veth", cv.ID)
		case cv.Profile != "" && cv.Profile != v.Profile, cv.Port != "" && (cv.Port != v.Port || uint32(cv.Channel) != v.VIF):
			log.Warn("the file's vEth differs from the store's; the store's is kept", "veth", cv.ID,
				"file", fmt.Sprintf("%s %s/%d", cv.Profile, cv.Port, cv.Channel), "store", fmt.Sprintf("%s %s/%d", v.Profile, v.Port, v.VIF))
		}
	}
	if d.fleet != nil {
		d.unsubReg = d.fleet.Registry.Subscribe(d.onRegistry)
	}
	log.Info("state loaded", "store", cfg.Store, "veths", len(snap.VEths), "next", snap.Next)
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	links := d.links
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.runErr <- port.Run(ctx, d.plane.Core(), links, port.RunConfig{})
	}()
	d.wg.Add(1)
	go func() { defer d.wg.Done(); d.checkpoints(ctx) }()
	if d.srv, err = mgmt.Listen(cfg.Socket, d.handle, log); err != nil {
		return d, err
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := d.srv.Serve(ctx); err != nil {
			log.Error("management socket", "err", err)
		}
	}()
	if cfg.Metrics != "" {
		if err := d.serveMetrics(ctx, cfg.Metrics); err != nil {
			return d, err
		}
	}
	log.Info("niv vis running", "hostname", cfg.Hostname, "ports", len(cfg.Ports), "socket", cfg.Socket,
		"checkpoint", cfg.Checkpoint)
	return d, nil
}

// localProfiles sets up a VIS's own port-profile store.
func (d *Daemon) localProfiles(cfg *conf.VIS, snap *state.Snapshot) error {
	log := d.log
	d.store = profile.NewMemStore()
	// The port-profiles: the file's, unless the store has the running
	// configuration that grew from this very file by live edits (niv
	// configure), which a restart must not lose. A file edited since wins.
	running := cfg.Profiles
	base := cfg.Profiles.Text()
	if snap.Profiles != "" && snap.ProfilesBase == base {
		if kept, perr := profile.Parse(snap.Profiles); perr == nil && kept.Validate() == nil {
			running = kept
			log.Info("port-profiles: the running configuration kept in the store (with its live edits)")
		} else {
			log.Error("port-profiles in the store do not parse; using the file's", "err", perr)
		}
	} else if snap.Profiles != "" {
		log.Info("port-profiles: the configuration file changed since the last run; its profiles replace the running ones")
	}
	if _, err := d.store.Update(func(tx *profile.Txn) error { *tx.Config() = *running.Clone(); return nil }); err != nil {
		return err
	}
	d.base = base
	if err := d.st.PutProfiles(running.Text(), base); err != nil {
		return err
	}
	return nil
}

// fleetProfiles makes the fleet's shared configuration the port-profile
// store: it is the record, and the file's profiles only seed a fleet
// whose configuration was never written.
func (d *Daemon) fleetProfiles(cfg *conf.VIS) error {
	d.store = d.fleet.Profiles
	if rev := d.fleet.Profiles.ConfigRevision(); rev != 0 {
		d.log.Info("port-profiles: the fleet's shared configuration (the file's are not used)", "revision", rev)
		return nil
	}
	seeded := false
	if _, err := d.store.Update(func(tx *profile.Txn) error {
		seeded = false
		if len(tx.Config().Text()) != 0 {
			return nil // another VIS seeded it meanwhile
		}
		*tx.Config() = *cfg.Profiles.Clone()
		seeded = true
		return nil
	}); err != nil {
		return fmt.Errorf("seeding the fleet's port-profiles: %w", err)
	}
	if seeded {
		d.log.Info("port-profiles: the file's seed the fleet's shared configuration")
	}
	return nil
}

func (d *Daemon) visConfig(cfg *conf.VIS) vic.VISConfig {
	c := vic.VISConfig{Session: wire.Session(), Profiles: bind.Profiles{Store: d.store}, Timing: timing(cfg.Daemon)}
	if d.fleet != nil {
		d.alloc = newAllocator(d.fleet.Registry, d.log)
		c.NewVEthID = d.alloc.newVEthID
	} else if hasEVB(cfg) {
		c.NewVEthID = d.localID
	}
	return c
}

// fleetRestore makes snap, the local store's vEths, agree with the
// fleet's registry, which is the record of where a vEth is bound:
//
//   - the vEths the registry says this VIS held on its vic ports when it
//     stopped and that the local store does not have (its file lost, or a new machine
//     under the same name) are added, with their ids, VIFs,
//     configuration and counters, bound (they are bound again in the
//     registry as they are restored, BindVIF), and written to the local
//     store;
//   - those of snap that another VIS holds now (their VMs moved, or this
//     VIS's lease expired and another took them over while it was down)
//     are restored unbound.
//
// A registry that cannot be reached leaves snap as the local store has it.
func (d *Daemon) fleetRestore(snap *state.Snapshot) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mine := map[vic.UUID]bool{}
	if rs, ok := d.fleet.Registry.(registry.Restorer); ok {
		recs, err := rs.Restore(ctx)
		if err != nil {
			d.log.Warn("vEth registry: reading the vEths this VIS held; restoring from the local store only", "err", err)
			return
		}
		have := map[vic.UUID]bool{}
		ids := map[uint32]bool{}
		for _, v := range snap.VEths {
			have[v.Instance], ids[v.ID] = true, true
		}
		evbPorts := map[string]bool{}
		for _, pc := range d.cfg.Ports {
			if pc.Kind == conf.KindEVB {
				evbPorts[pc.Name] = true
			}
		}
		n := 0
		for _, rec := range recs {
			mine[rec.Config.Instance] = true
			if have[rec.Config.Instance] || ids[uint32(rec.ID)] || evbPorts[rec.Binding.Port] {
				// An evb port's vEth is its VSI's: it comes back when the
				// station's keep-alive re-associates it (fleetVSIVEthID
				// finds its id in the registry).
				continue
			}
			c := rec.Config
			v := state.VEth{ID: uint32(rec.ID), Instance: c.Instance, MAC: c.MAC, Profile: c.Profile, VLAN: c.VLAN, Epoch: max(c.Epoch, rec.Binding.Epoch), Up: c.Up,
				Port: rec.Binding.Port, VIF: uint32(rec.Binding.VIF), Bound: true}
			snap.VEths = append(snap.VEths, v)
			if err := d.st.PutVEth(v); err != nil {
				d.log.Error("store: writing vEth", "veth", v.ID, "err", err)
			}
			n++
		}
		sort.Slice(snap.VEths, func(i, j int) bool { return snap.VEths[i].ID < snap.VEths[j].ID })
		if n > 0 {
			d.log.Info("vEths restored from the fleet's registry (the local store did not have them)", "veths", n)
		}
	}
	for i := range snap.VEths {
		v := &snap.VEths[i]
		if !v.Bound || mine[v.Instance] {
			continue
		}
		rec, err := d.fleet.Registry.Get(ctx, v.Instance)
		if err != nil {
			d.log.Warn("vEth registry: reading a vEth to restore", "veth", v.ID, "err", err)
			continue
		}
		if rec.Held && rec.Binding.VIS != d.fleet.Registry.VIS() {
			d.log.Info("vEth restored unbound: another VIS holds it now", "veth", v.ID, "vis", rec.Binding.VIS, "interface", rec.Binding.Port)
			v.Bound = false
		}
	}
}

func hasEVB(cfg *conf.VIS) bool {
	for _, p := range cfg.Ports {
		if p.Kind == conf.KindEVB {
			return true
		}
	}
	return false
}

func timing(c conf.Daemon) vic.Timing {
	return vic.Timing{Keepalive: c.Keepalive, RequestTimeout: c.RequestTimeout, ResyncHold: c.ResyncHold, Retention: c.Retention}
}

func vnicOf(v state.VEth) vic.VNIC {
	return vic.VNIC{Instance: v.Instance, MAC: v.MAC, Profile: v.Profile, VLAN: v.VLAN, Epoch: v.Epoch, Up: v.Up}
}

func (d *Daemon) addPort(id vic.PortID, pc conf.Port) error {
	p := &visPort{cfg: pc, id: id}
	switch pc.Kind {
	case conf.KindVNTag, conf.KindETag:
		link, mac, err := wire.OpenLink(pc.Linux, pc.XDPTx)
		if err != nil {
			return err
		}
		d.links = append(d.links, link)
		mode := vntag.ModeVNTag
		if pc.Kind == conf.KindETag {
			mode = vntag.ModeETag
		}
		if pc.Control == conf.ControlVIC {
			p.vic = true
			d.rec.addPort(id, pc.Name)
			p.core, err = d.plane.AddIVPort(pc.Name, mode, id, bind.Writer{Port: link}, ecp.DefaultConfig(mac), nil)
		} else {
			// No control plane: nothing binds vEths here.
			p.core, err = d.core.AddIVPort(pc.Name, mode, noLists{})
		}
		if err != nil {
			return err
		}
	case conf.KindTrunk:
		link, _, err := wire.OpenTrunk(pc.Linux, pc.XDPTx)
		if err != nil {
			return err
		}
		d.links = append(d.links, link)
		p.core = d.core.AddUplink(pc.Name)
	default:
		return fmt.Errorf("%w: %v ports", conf.ErrUnsupported, pc.Kind)
	}
	if p.core != len(d.links)-1 {
		return fmt.Errorf("core port %d is link %d", p.core, len(d.links)-1)
	}
	d.ports = append(d.ports, p)
	return nil
}

// noLists is the vif-list programmer of an IV port without a control
// plane: no vEth is bound there, so no list has members.
type noLists struct{}

func (noLists) SetVIFList(uint32, []vntag.VIF) error { return nil }
func (noLists) DeleteVIFList(uint32) error           { return nil }

func (d *Daemon) status(a vic.Action) {
	name := d.rec.portName(a.Port)
	switch a.Kind {
	case vic.ActPeerUp:
		d.log.Info("IV session up", "port", name)
	case vic.ActPeerDown:
		d.log.Warn("IV session down", "port", name)
	}
}

// checkpoints writes the counters to the store every checkpoint interval,
// and once more when the daemon stops.
func (d *Daemon) checkpoints(ctx context.Context) {
	d.mu.Lock()
	every := d.cfg.Checkpoint
	d.mu.Unlock()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.checkpoint()
		}
	}
}

func (d *Daemon) checkpoint() {
	if d.fleet != nil {
		for _, v := range d.rec.list() {
			if v.Bound {
				d.rec.checkpointFleet(d.core, v.ID)
			}
		}
		return
	}
	c := d.rec.totals(d.core)
	if err := d.st.PutCounters(c); err != nil {
		d.log.Error("counter checkpoint", "err", err)
	}
}

// Reload reads the configuration file again and applies what changed: the
// port-profiles as one transaction (only the vEths whose policy changes
// get a new one). A file with errors changes nothing. Port changes need a
// restart; they are reported, not applied.
func (d *Daemon) Reload() error {
	src, err := os.ReadFile(d.path)
	if err != nil {
		return err
	}
	cfg, err := conf.ParseVIS(string(src))
	if err != nil {
		d.log.Error("reload refused: the configuration has errors; running configuration unchanged", "err", err)
		return err
	}
	if d.fleet != nil {
		return d.reloadFleet(cfg)
	}
	affected, first := 0, true
	unsub := d.store.Subscribe(func(b profile.Batch) {
		if !first { // the first batch is the current state
			affected += len(b.Updates)
		}
		first = false
	})
	rev, err := d.store.Update(func(tx *profile.Txn) error { *tx.Config() = *cfg.Profiles.Clone(); return nil })
	unsub()
	if err != nil {
		d.log.Error("reload refused; running configuration unchanged", "err", err)
		return err
	}
	d.mu.Lock()
	d.base = cfg.Profiles.Text()
	d.mu.Unlock()
	d.saveProfiles()
	d.mu.Lock()
	old := d.cfg
	cfg.Store, cfg.Socket, cfg.Metrics, cfg.Checkpoint = old.Store, old.Socket, old.Metrics, old.Checkpoint
	if !samePorts(old.Ports, cfg.Ports) {
		d.log.Warn("reload: interface changes take effect at the next start")
		cfg.Ports = old.Ports
	}
	if cfg.EVB != old.EVB {
		d.log.Warn("reload: evb timer changes take effect at the next start")
		cfg.EVB = old.EVB
	}
	d.cfg = cfg
	d.mu.Unlock()
	d.log.Info("configuration reloaded", "revision", rev, "veths_updated", affected)
	return nil
}

// reloadFleet is Reload with a fleet store: the shared configuration is
// the record of the port-profiles (niv configure edits it), so the file's
// are not applied.
func (d *Daemon) reloadFleet(cfg *conf.VIS) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	old := d.cfg
	if cfg.Profiles.Text() != old.Profiles.Text() {
		d.log.Warn("reload: the port-profiles are the fleet's shared configuration; edit them with niv configure (the file's are not applied)")
	}
	if !samePorts(old.Ports, cfg.Ports) {
		d.log.Warn("reload: interface changes take effect at the next start")
	}
	d.log.Info("configuration reloaded (nothing to apply)")
	return nil
}

func samePorts(a, b []conf.Port) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		x.Line, y.Line, x.Description, y.Description = 0, 0, "", ""
		if x != y {
			return false
		}
	}
	return true
}

// saveProfiles records the running port-profiles in the store.
func (d *Daemon) saveProfiles() {
	if d.fleet != nil {
		return // the fleet's store is the record
	}
	d.mu.Lock()
	base := d.base
	d.mu.Unlock()
	if err := d.st.PutProfiles(d.store.Snapshot().Config.Text(), base); err != nil {
		d.log.Error("store: writing the port-profiles", "err", err)
	}
}

// Wait returns when the data path stops (a read error on a port) or the
// daemon is closed.
func (d *Daemon) Wait() error { return <-d.runErr }

// Close stops the daemon: the control plane, the data path, a last
// counter checkpoint, the store.
func (d *Daemon) Close() error {
	if d.stale != nil {
		d.stale.Stop()
	}
	if d.vsiStop != nil {
		d.vsiStop() // the VSIs' registry look-ups give up
		d.vsiWG.Wait()
	}
	if d.evb != nil {
		d.evb.Close() // first: no more programming from the control planes
	}
	if d.plane != nil {
		d.plane.Close()
	}
	var errs []error
	if d.cancel != nil {
		d.cancel()
		d.wg.Wait()
	}
	if d.cancel == nil {
		for _, l := range d.links {
			if l != nil {
				l.Close()
			}
		}
	}
	if d.core != nil && d.st != nil && d.rec != nil {
		d.checkpoint()
	}
	if d.alloc != nil && d.alloc.ready != nil {
		d.alloc.close()
	}
	if d.pipe != nil {
		d.pipe.Close() // what is queued goes to the registry first
	}
	if d.srv != nil {
		d.srv.Close()
	}
	if d.core != nil {
		d.core.Close()
	}
	if d.unsubReg != nil {
		d.unsubReg()
	}
	if d.fleet != nil {
		// A clean stop lets go of the bindings at once, so that the
		// other fabric's VIS need not wait for the lease to expire.
		ctx, cancel := context.WithTimeout(context.Background(), fleetTimeout)
		if d.fleet.Revoke != nil {
			errs = append(errs, d.fleet.Revoke(ctx))
		}
		cancel()
		errs = append(errs, d.fleet.Close())
	}
	if d.st != nil {
		errs = append(errs, d.st.Close())
	}
	return errors.Join(errs...)
}

// sortedIDs returns the keys of m in order.
func sortedIDs[V any](m map[uint32]V) []uint32 {
	ids := make([]uint32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
