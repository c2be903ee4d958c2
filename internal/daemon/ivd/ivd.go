// Package ivd is the `niv iv --config FILE` daemon: the host side of
// VN-Link. It runs niv's IV core (vic/iv) between the host's uplinks to
// the VIS and its VMs' vNICs (TAP devices), and the vic control plane that
// gets each vNIC its VIF and vEth from the VIS. vNICs come and go at run
// time (`niv vnic add|delete|move`, a VM powering on, off, migrating); the
// daemon keeps them, with their placement epochs, in a local store, so
// that after a kill -9 it announces the same vNICs again and the VIS gives
// them the same VIFs back.
package ivd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nivkit/niv/internal/daemon/conf"
	"github.com/nivkit/niv/internal/daemon/mgmt"
	"github.com/nivkit/niv/internal/daemon/state"
	"github.com/nivkit/niv/internal/daemon/wire"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/bind"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// Daemon is a running `niv iv`.
type Daemon struct {
	path string
	log  *slog.Logger
	cfg  *conf.IV

	st    state.Store
	core  *iv.IV
	plane atomic.Pointer[plane]
	links [2]port.Port
	macs  [2][6]byte
	vmode vntag.Mode
	board board
	srv   *mgmt.Server

	mu     sync.Mutex
	vnics  map[string]*vnic // active, by name
	byInst map[vic.UUID]*vnic
	gone   map[string]state.VNIC // released

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// plane is the control plane on one uplink: its ECP speaker, vic agent
// and the programmer of the core's vNICs through that uplink's fabric.
// The daemon runs one at a time, on fabric A's uplink, and moves it to
// fabric B's when A's link goes down (failover).
type plane struct {
	up  int
	ivp *bind.IVPlane
}

func (d *Daemon) agent() *vic.IVAgent { return d.plane.Load().ivp.Agent() }

// vnic is one vNIC the daemon serves.
type vnic struct {
	rec  state.VNIC
	tap  *port.TAP
	pn   atomic.Int32 // its core port while bound, else -1
	vif  atomic.Int32
	veth atomic.Uint32
	// status is the last outcome the control plane reported.
	status atomic.Pointer[string]
}

// board is the core's port table as the goroutines that write frames see
// it: port number → port, replaced whole when a vNIC binds or unbinds.
type board struct {
	mu    sync.Mutex
	ports atomic.Pointer[[]port.Port]
}

func (b *board) set(pn int, p port.Port) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var cur []port.Port
	if c := b.ports.Load(); c != nil {
		cur = *c
	}
	next := make([]port.Port, max(len(cur), pn+1))
	copy(next, cur)
	next[pn] = p
	b.ports.Store(&next)
}

func (b *board) load() []port.Port {
	if c := b.ports.Load(); c != nil {
		return *c
	}
	return nil
}

// Options are what the command line sets over the file.
type Options struct {
	// Store replaces the file's "niv store".
	Store string
}

// Start reads the configuration file at path and starts the daemon.
func Start(path string, o Options, log *slog.Logger) (d *Daemon, err error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := conf.ParseIV(string(src))
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	d = &Daemon{path: path, log: log, cfg: cfg, vnics: map[string]*vnic{}, byInst: map[vic.UUID]*vnic{}, gone: map[string]state.VNIC{}}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			d.Close()
			d = nil
		}
	}()
	cfg.Paths("iv")
	if o.Store != "" {
		cfg.Store = o.Store
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
	vmode := vntag.ModeVNTag
	if cfg.Kind == conf.KindETag {
		vmode = vntag.ModeETag
	}
	d.core = iv.New(iv.Config{Mode: vmode})
	for i := range d.links {
		d.core.SetUplinkUp(i, false)
	}
	for _, u := range cfg.Uplinks {
		link, mac, err := wire.OpenLink(u.Linux, u.XDPTx)
		if err != nil {
			return d, fmt.Errorf("interface %s (%s): %w", u.Name, u.Linux, err)
		}
		d.links[u.Fabric] = link
		d.board.set(int(u.Fabric), link)
		d.core.SetUplinkUp(int(u.Fabric), true)
		d.macs[u.Fabric] = mac
	}
	d.vmode = vmode
	// The control plane runs on fabric A's uplink, or B's if A has none.
	ctlUp := iv.UplinkA
	if d.links[conf.FabricA] == nil || !linkUp(cfg, conf.FabricA) && d.links[conf.FabricB] != nil {
		ctlUp = iv.UplinkB
	}
	if err := d.startPlane(ctlUp); err != nil {
		return d, err
	}
	for i, l := range d.links {
		if l != nil {
			d.serve(l, func() int { return i })
		}
	}

	// The vNICs: those the store has (with their epochs), then those of
	// the file it does not know.
	known := map[string]bool{}
	for _, n := range snap.VNICs {
		known[n.Name] = true
		if n.Released {
			d.gone[n.Name] = n
			continue
		}
		if err := d.addVNIC(n); err != nil {
			log.Error("vNIC from the store", "vnic", n.Name, "err", err)
		}
	}
	for _, c := range cfg.VNICs {
		if known[c.Name] {
			continue
		}
		if err := d.addVNIC(recOf(c, 1)); err != nil {
			return d, fmt.Errorf("vnic %s: %w", c.Name, err)
		}
	}
	if d.srv, err = mgmt.Listen(cfg.Socket, d.handle, log); err != nil {
		return d, err
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := d.srv.Serve(d.ctx); err != nil {
			log.Error("management socket", "err", err)
		}
	}()
	d.wg.Add(1)
	go func() { defer d.wg.Done(); d.watchUplinks() }()
	log.Info("niv iv running", "hostname", cfg.Hostname, "uplinks", len(cfg.Uplinks), "vnics", len(d.vnics), "socket", cfg.Socket)
	return d, nil
}

// startPlane starts the control plane on uplink up: bind.IVPlane, the one
// wiring of control plane to core.
func (d *Daemon) startPlane(up int) error {
	ivp, err := bind.NewIVPlaneWith(d.core, vic.IVConfig{Session: wire.Session(), Mode: d.vmode, Timing: timing(d.cfg.Daemon)},
		iv.Fabric(up), bind.Writer{Port: d.links[up]}, ecp.DefaultConfig(d.macs[up]), d.onBind, d.status)
	if err != nil {
		return err
	}
	d.plane.Store(&plane{up: up, ivp: ivp})
	return nil
}

// failover moves the control plane to uplink to: the vNICs are detached
// from the old fabric and asked for again on the new one, whose VIS gives
// them vEths there (fabric B's VIS shares the profiles through its
// configuration file).
func (d *Daemon) failover(to int) {
	old := d.plane.Load()
	if old.up == to || d.links[to] == nil {
		return
	}
	d.log.Warn("fabric failover: the control plane moves", "from", conf.Fabric(old.up).String(), "to", conf.Fabric(to).String())
	old.ivp.Close()
	d.mu.Lock()
	vs := make([]*vnic, 0, len(d.vnics))
	for _, v := range d.vnics {
		if pn := v.pn.Load(); pn >= 0 {
			d.board.set(int(pn), nil)
			v.pn.Store(-1)
		}
		if vif := v.vif.Load(); vif > 0 {
			old.ivp.Programmer().UnbindVIF(vntag.VIF(vif))
		}
		v.vif.Store(0)
		v.veth.Store(0)
		s := "pending"
		v.status.Store(&s)
		vs = append(vs, v)
	}
	d.mu.Unlock()
	if err := d.startPlane(to); err != nil {
		d.log.Error("fabric failover", "err", err)
		return
	}
	for _, v := range vs {
		r := v.rec
		d.agent().Request(vic.VNIC{Instance: r.Instance, MAC: r.MAC, Profile: r.Profile, Epoch: r.Epoch, Up: !r.Shutdown})
	}
}

func linkUp(cfg *conf.IV, f conf.Fabric) bool {
	for _, u := range cfg.Uplinks {
		if u.Fabric == f {
			ifi, err := net.InterfaceByName(u.Linux)
			return err == nil && ifi.Flags&net.FlagRunning != 0
		}
	}
	return false
}

func timing(c conf.Daemon) vic.Timing {
	return vic.Timing{Keepalive: c.Keepalive, RequestTimeout: c.RequestTimeout, ResyncHold: c.ResyncHold, Retention: c.Retention}
}

func recOf(c conf.VNIC, epoch uint32) state.VNIC {
	return state.VNIC{Name: c.Name, TAP: c.TAP, Existing: c.Existing, Netns: c.Netns, MAC: c.MAC, Profile: c.Profile,
		Instance: c.Instance, Fabric: uint8(c.Fabric), Shutdown: c.Shutdown, Epoch: epoch}
}

// serve reads p and hands its frames to the core as the port at(),
// writing what the core sends to the board's ports; at() < 0 drops them
// (a vNIC not bound yet).
func (d *Daemon) serve(p port.Port, at func() int) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		b := port.NewBatch(64)
		tx := port.NewTx(4096, 4<<20)
		for {
			if err := p.Read(b); err != nil {
				if d.ctx.Err() == nil && !errors.Is(err, port.ErrClosed) {
					d.log.Error("port read", "port", p.Name(), "err", err)
				}
				return
			}
			in := at()
			if in < 0 {
				continue
			}
			frames := b.Valid()
			for len(frames) > 0 {
				n := d.plane.Load().ivp.Core().Process(in, frames, time.Now().UnixNano(), tx)
				frames = frames[n:]
				tx.WriteTo(d.board.load())
				if n == 0 && len(frames) > 0 {
					frames = frames[1:]
				}
			}
		}
	}()
}

// watchUplinks follows the uplinks' carrier: a fabric whose link is down
// is not used, its vNICs fail over to the other.
func (d *Daemon) watchUplinks() {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	last := map[string]bool{}
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
		}
		for _, u := range d.cfg.Uplinks {
			up := linkUp(d.cfg, u.Fabric)
			if prev, ok := last[u.Name]; !ok || prev != up {
				last[u.Name] = up
				d.core.SetUplinkUp(int(u.Fabric), up)
				if ok {
					d.log.Warn("uplink state", "uplink", u.Name, "fabric", u.Fabric.String(), "up", up)
				}
			}
		}
		// The control plane follows the data: off a dead uplink onto a
		// live one.
		if pl := d.plane.Load(); !last[d.uplinkName(pl.up)] {
			for _, u := range d.cfg.Uplinks {
				if int(u.Fabric) != pl.up && last[u.Name] {
					d.failover(int(u.Fabric))
					break
				}
			}
		}
	}
}

func (d *Daemon) status(a vic.Action) {
	switch a.Kind {
	case vic.ActPeerUp:
		d.log.Info("VIS session up")
		return
	case vic.ActPeerDown:
		d.log.Warn("VIS session down")
		return
	}
	d.mu.Lock()
	v := d.byInst[a.VNIC.Instance]
	d.mu.Unlock()
	if v == nil {
		return
	}
	s := "bound"
	if a.Result != vic.ResultSuccess {
		s = fmt.Sprintf("refused (%v)", a.Reason)
		d.log.Warn("vNIC refused by the VIS", "vnic", v.rec.Name, "reason", a.Reason.String())
	} else {
		v.vif.Store(int32(a.VIF))
		v.veth.Store(a.VEth)
		d.log.Info("vNIC bound", "vnic", v.rec.Name, "vif", a.VIF, "veth", a.VEth)
	}
	v.status.Store(&s)
}

func (d *Daemon) uplinkName(fabric int) string {
	for _, u := range d.cfg.Uplinks {
		if int(u.Fabric) == fabric {
			return u.Name
		}
	}
	return ""
}

// onBind runs when bind.IV attached VIF vif as core port pn: from now the
// vNIC's TAP is that port.
func (d *Daemon) onBind(n vic.VNIC, vif vntag.VIF, pn int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v := d.byInst[n.Instance]
	if v == nil {
		return
	}
	v.vif.Store(int32(vif))
	d.board.set(pn, v.tap)
	v.pn.Store(int32(pn))
}

// addVNIC opens the vNIC's TAP and asks the VIS for its vEth.
func (d *Daemon) addVNIC(r state.VNIC) error {
	d.mu.Lock()
	if _, ok := d.vnics[r.Name]; ok {
		d.mu.Unlock()
		return fmt.Errorf("vnic %s exists", r.Name)
	}
	for _, v := range d.vnics {
		if v.rec.Instance == r.Instance || v.rec.TAP == r.TAP && v.rec.Netns == r.Netns {
			d.mu.Unlock()
			return fmt.Errorf("vnic %s has the same instance or TAP", v.rec.Name)
		}
	}
	d.mu.Unlock()
	if r.Existing {
		if err := wire.InNetns(nsOr(r.Netns), func() error {
			_, err := net.InterfaceByName(r.TAP)
			return err
		}); err != nil {
			return fmt.Errorf("tap %s is to exist already: %w", r.TAP, err)
		}
	}
	tap, err := wire.OpenTAP(r.TAP, r.Netns)
	if err != nil {
		return err
	}
	r.Released = false
	if err := d.st.PutVNIC(r); err != nil {
		tap.Close()
		return err
	}
	v := &vnic{rec: r, tap: tap}
	v.pn.Store(-1)
	s := "pending"
	v.status.Store(&s)
	d.mu.Lock()
	d.vnics[r.Name] = v
	d.byInst[r.Instance] = v
	delete(d.gone, r.Name)
	d.mu.Unlock()
	d.serve(tap, func() int { return int(v.pn.Load()) })
	d.agent().Request(vic.VNIC{Instance: r.Instance, MAC: r.MAC, Profile: r.Profile, Epoch: r.Epoch, Up: !r.Shutdown})
	d.log.Info("vNIC added", "vnic", r.Name, "tap", r.TAP, "netns", r.Netns, "mac", conf.FormatMAC(r.MAC),
		"profile", r.Profile, "instance", conf.FormatUUID(r.Instance), "epoch", r.Epoch)
	return nil
}

func nsOr(ns string) string {
	if ns == "" {
		return "/proc/self/ns/net"
	}
	return ns
}

// removeVNIC deletes the vNIC (its vEth too) or, with release, lets go of
// it after a migration (its vEth stays, bound behind the other host).
func (d *Daemon) removeVNIC(name string, release bool) error {
	d.mu.Lock()
	v := d.vnics[name]
	if v == nil {
		d.mu.Unlock()
		return fmt.Errorf("vnic %s: no such vNIC", name)
	}
	delete(d.vnics, name)
	delete(d.byInst, v.rec.Instance)
	if pn := v.pn.Load(); pn >= 0 {
		d.board.set(int(pn), nil)
		v.pn.Store(-1)
	}
	r := v.rec
	r.Released = true
	d.gone[name] = r
	d.mu.Unlock()
	if release {
		d.agent().Release(r.Instance)
	} else {
		d.agent().Delete(r.Instance)
	}
	v.tap.Close()
	d.log.Info("vNIC removed", "vnic", name, "release", release)
	return d.st.PutVNIC(r)
}

// Reload reads the file again: vNICs added to it are added, vNICs removed
// from it are deleted. Uplink changes take effect at the next start.
func (d *Daemon) Reload() error {
	src, err := os.ReadFile(d.path)
	if err != nil {
		return err
	}
	cfg, err := conf.ParseIV(string(src))
	if err != nil {
		d.log.Error("reload refused: the configuration has errors; running configuration unchanged", "err", err)
		return err
	}
	old := map[string]bool{}
	for _, n := range d.cfg.VNICs {
		old[n.Name] = true
	}
	now := map[string]bool{}
	var errs []error
	for _, n := range cfg.VNICs {
		now[n.Name] = true
		if !old[n.Name] {
			errs = append(errs, d.addVNIC(recOf(n, d.epochFor(n))))
		}
	}
	for name := range old {
		if !now[name] {
			errs = append(errs, d.removeVNIC(name, false))
		}
	}
	d.cfg.VNICs = cfg.VNICs
	d.log.Info("configuration reloaded")
	return errors.Join(errs...)
}

// epochFor returns the placement epoch of vNIC c placed here now: one
// above the one it had when it last left this host, or 1.
func (d *Daemon) epochFor(c conf.VNIC) uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if g, ok := d.gone[c.Name]; ok && g.Instance == c.Instance {
		return g.Epoch + 1
	}
	return 1
}

// Close stops the daemon. The vNICs' vEths stay on the VIS: a clean
// shutdown is a restart to come, not a power-off of the VMs.
func (d *Daemon) Close() error {
	if pl := d.plane.Load(); pl != nil {
		pl.ivp.Close()
	}
	d.cancel()
	d.mu.Lock()
	for _, v := range d.vnics {
		v.tap.Close()
	}
	d.mu.Unlock()
	for _, l := range d.links {
		if l != nil {
			l.Close()
		}
	}
	if d.srv != nil {
		d.srv.Close()
	}
	d.wg.Wait()
	if d.st != nil {
		return d.st.Close()
	}
	return nil
}

func (d *Daemon) sortedVNICs() []*vnic {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]*vnic, 0, len(d.vnics))
	for _, v := range d.vnics {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rec.Name < out[j].rec.Name })
	return out
}
