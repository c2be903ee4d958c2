package bind

import (
	"errors"
	"fmt"
	"sync"

	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vntag"
)

// IVProgrammer is the vic.IVProgrammer of an iv.IV core: it carries out
// an IV machine's actions on the core. Each bound VIF becomes a vNIC of
// the core; Port says which core port is the vNIC of a VM instance. Safe
// for concurrent use.
type IVProgrammer struct {
	core   *iv.IV
	fabric iv.Fabric
	onBind func(n vic.VNIC, vif vntag.VIF, port int)

	mu    sync.Mutex
	vifs  map[vntag.VIF]*ivVNIC // bound VIF → vNIC
	insts map[vic.UUID]*ivVNIC  // instance → vNIC
	lists map[uint32]struct{}   // vif lists programmed
}

type ivVNIC struct {
	n    vic.VNIC
	vif  vntag.VIF
	veth uint32
	port int
	up   bool
}

// NewIVProgrammer returns the programmer of core. Its vNICs use the
// uplink of fabric while it is up. onBind, if not nil, is called after each VIF is attached
// with the core port number of its vNIC (the port the VM's frames must be
// given to); it must not call back into the IV agent.
func NewIVProgrammer(core *iv.IV, fabric iv.Fabric, onBind func(n vic.VNIC, vif vntag.VIF, port int)) *IVProgrammer {
	return &IVProgrammer{core: core, fabric: fabric, onBind: onBind,
		vifs: map[vntag.VIF]*ivVNIC{}, insts: map[vic.UUID]*ivVNIC{}, lists: map[uint32]struct{}{}}
}

// BindVIF attaches VIF vif to the core as the vNIC of n. Binding the VIF
// a vNIC already has is a no-op; a vNIC that gets another VIF, or a VIF
// that passes to another vNIC, is detached first (its core port number is
// not reused: the vNIC gets a new port).
func (p *IVProgrammer) BindVIF(vif vntag.VIF, n vic.VNIC, veth uint32) error {
	p.mu.Lock()
	if cur, ok := p.vifs[vif]; ok && cur.n.Instance == n.Instance {
		cur.n, cur.veth, cur.up = n, veth, n.Up
		p.mu.Unlock()
		return nil
	}
	var errs []error
	if cur, ok := p.vifs[vif]; ok {
		errs = append(errs, p.detach(cur))
	}
	if cur, ok := p.insts[n.Instance]; ok {
		errs = append(errs, p.detach(cur))
	}
	pn, err := p.core.AddVNIC(iv.VNICConfig{VIF: vif, Fabric: p.fabric})
	if err != nil {
		p.mu.Unlock()
		return errors.Join(append(errs, err)...)
	}
	v := &ivVNIC{n: n, vif: vif, veth: veth, port: pn, up: n.Up}
	p.vifs[vif], p.insts[n.Instance] = v, v
	p.mu.Unlock()
	if p.onBind != nil {
		p.onBind(n, vif, pn)
	}
	return errors.Join(errs...)
}

func (p *IVProgrammer) detach(v *ivVNIC) error {
	delete(p.vifs, v.vif)
	delete(p.insts, v.n.Instance)
	return p.core.RemoveVNIC(v.vif)
}

// UnbindVIF detaches VIF vif from the core. A VIF that is not bound is
// not an error (the machine may unbind twice across a restart).
func (p *IVProgrammer) UnbindVIF(vif vntag.VIF) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.vifs[vif]
	if !ok {
		return nil
	}
	return p.detach(v)
}

// SetVIFLink records a VIF's link state. vic/iv has no per-vNIC link
// state — a disabled vNIC's frames are dropped by its shut vEth on the
// VIS — so the state is only kept for Link.
func (p *IVProgrammer) SetVIFLink(vif vntag.VIF, up bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.vifs[vif]
	if !ok {
		return fmt.Errorf("%w: VIF %d", iv.ErrNotFound, vif)
	}
	v.up = up
	return nil
}

// SetVIFList programs the core's vif list list (a VNTag vif_list_id, or
// an E-channel GRP<<20 | E-CID in E-Tag mode, as the core names it); no
// members deletes it.
func (p *IVProgrammer) SetVIFList(list uint32, members []vntag.VIF) error {
	id := list
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(members) == 0 {
		if _, ok := p.lists[list]; !ok {
			return nil
		}
		delete(p.lists, list)
		return p.core.DeleteVIFList(id)
	}
	if err := p.core.SetVIFList(id, members); err != nil {
		return err
	}
	p.lists[list] = struct{}{}
	return nil
}

// Port returns the core port number of instance u's vNIC, while bound.
func (p *IVProgrammer) Port(u vic.UUID) (port int, vif vntag.VIF, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.insts[u]
	if !ok {
		return 0, 0, false
	}
	return v.port, v.vif, true
}

// Link returns the link state last set for VIF vif.
func (p *IVProgrammer) Link(vif vntag.VIF) (up, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.vifs[vif]
	if !ok {
		return false, false
	}
	return v.up, true
}

var _ vic.IVProgrammer = (*IVProgrammer)(nil)
