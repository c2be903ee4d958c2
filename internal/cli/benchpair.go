package cli

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// The bench's two VMs: VIF i+1 on the IV, vEth i+1 on the VIS, both bound
// to port-profile bench (access VLAN 10).
const (
	benchVMs      = 2
	benchProfiles = `
port-profile bench
  switchport mode access
  switchport access vlan 10
  state enabled
`
)

// newBenchIV returns the bench's IV: uplink A only, vNIC i (port
// iv.FirstVNIC+i) with VIF i+1.
func newBenchIV() (*iv.IV, error) {
	v := iv.New(iv.Config{Mode: vntag.ModeVNTag})
	if err := v.SetUplinkUp(iv.UplinkB, false); err != nil {
		return nil, err
	}
	for i := range benchVMs {
		pn, err := v.AddVNIC(iv.VNICConfig{VIF: vntag.VIF(i + 1)})
		if err != nil {
			return nil, err
		}
		if pn != iv.FirstVNIC+i {
			return nil, fmt.Errorf("bench: vNIC %d got port %d", i, pn)
		}
	}
	return v, nil
}

// newBenchVIS returns the bench's VIS with its IV port (port 0), whose
// vif lists go to lists, and a vEth for each VM.
func newBenchVIS(lists vis.ListProgrammer) (*vis.VIS, error) {
	store := profile.NewMemStore()
	_, err := store.Update(func(tx *profile.Txn) error {
		for i := range benchVMs {
			tx.Bind(profile.VEthID(i+1), "bench")
		}
		return tx.Configure(benchProfiles)
	})
	if err != nil {
		return nil, err
	}
	s, err := vis.New(vis.Config{Store: store})
	if err != nil {
		return nil, err
	}
	pn, err := s.AddIVPort("iv0", vntag.ModeVNTag, lists)
	if err != nil {
		s.Close()
		return nil, err
	}
	for i := range benchVMs {
		if err := s.AddVEth(profile.VEthID(i+1), pn, vntag.VIF(i+1)); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// listRecorder is the ListProgrammer of a VIS whose IV runs in another
// process: it keeps the vif lists, which the bench hands to the IV's
// process on its command line (String, parseLists).
type listRecorder struct {
	mu    sync.Mutex
	lists map[uint32][]vntag.VIF
}

func (r *listRecorder) SetVIFList(list uint32, vifs []vntag.VIF) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lists == nil {
		r.lists = map[uint32][]vntag.VIF{}
	}
	r.lists[list] = append([]vntag.VIF(nil), vifs...)
	return nil
}

func (r *listRecorder) DeleteVIFList(list uint32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.lists, list)
	return nil
}

// String renders the lists as LIST=VIF:VIF,... sorted by list.
func (r *listRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]int, 0, len(r.lists))
	for id := range r.lists {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	var parts []string
	for _, id := range ids {
		var vs []string
		for _, v := range r.lists[uint32(id)] {
			vs = append(vs, strconv.Itoa(int(v)))
		}
		parts = append(parts, fmt.Sprintf("%d=%s", id, strings.Join(vs, ":")))
	}
	return strings.Join(parts, ",")
}

// parseLists programs into p the lists String rendered.
func parseLists(s string, p vis.ListProgrammer) error {
	if s == "" {
		return nil
	}
	for _, part := range strings.Split(s, ",") {
		id, vs, ok := strings.Cut(part, "=")
		if !ok {
			return fmt.Errorf("bench: vif list %q: want LIST=VIF:VIF", part)
		}
		list, err := strconv.ParseUint(id, 10, 32)
		if err != nil {
			return fmt.Errorf("bench: vif list %q: %w", part, err)
		}
		var vifs []vntag.VIF
		for _, v := range strings.Split(vs, ":") {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return fmt.Errorf("bench: vif list %q: %w", part, err)
			}
			vifs = append(vifs, vntag.VIF(n))
		}
		if err := p.SetVIFList(uint32(list), vifs); err != nil {
			return err
		}
	}
	return nil
}
