package vis

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vntag"
)

// rebuild recomputes the vif lists of IV port pi from its vEths' VLANs and
// states, programs the new ones into the IV, switches the data path to
// them and deletes the lists no longer used. Lists with the same members
// and tagging are shared between VLANs (a trunk vEth in 4094 VLANs does not
// cost 4094 lists). On an error from the IV the port keeps its previous
// lists.
func (s *VIS) rebuild(pi int) error {
	vp := s.ports[pi]
	if vp.kind != ivPort {
		return nil
	}
	var union profile.VLANSet
	for _, i := range vp.veths {
		v := s.veths[i]
		if !v.member() {
			continue
		}
		if v.access {
			union.Add(v.vlan)
		} else {
			union.Union(&v.allowed)
		}
	}
	flood, on := vp.spare, vp.spareOn[:0]
	if flood == nil {
		flood = make([][]floodSet, 4096)
	}
	for _, vlan := range vp.spareOn {
		flood[vlan] = nil
	}
	used := map[string]uint32{}
	fresh := map[uint32][]vntag.VIF{} // new lists to program
	for vlan := uint16(profile.MinVLAN); vlan <= profile.MaxVLAN; vlan++ {
		if !union.Contains(vlan) {
			continue
		}
		var sets [2]floodSet // untagged, tagged
		for _, i := range vp.veths {
			v := s.veths[i]
			if !v.member() {
				continue
			}
			in, untagged := v.carries(vlan)
			if !in {
				continue
			}
			g := &sets[0]
			if !untagged {
				g = &sets[1]
			}
			g.members = append(g.members, i)
			g.vifs = append(g.vifs, v.vif)
		}
		for t := range sets {
			set := sets[t]
			if len(set.members) == 0 {
				continue
			}
			set.tagged = t == 1
			key := listKey(set.tagged, set.vifs)
			id, ok := used[key]
			if !ok {
				if id, ok = vp.listByID[key]; !ok {
					var err error
					if id, err = s.allocList(vp, used); err != nil {
						vp.spareOn = on // what the spare table now holds
						return err
					}
					fresh[id] = set.vifs
				}
				used[key] = id
			}
			set.list = id
			if len(flood[vlan]) == 0 {
				on = append(on, vlan)
			}
			flood[vlan] = append(flood[vlan], set)
		}
	}
	for id, vifs := range fresh {
		if err := vp.lists.SetVIFList(id, vifs); err != nil {
			vp.spareOn = on
			return fmt.Errorf("%w: port %d (%s): list %d: %w", ErrLists, pi, vp.name, id, err)
		}
	}
	for key, id := range vp.listByID {
		if _, ok := used[key]; !ok {
			// The IV may already have forgotten it; nothing depends on the
			// answer.
			_ = vp.lists.DeleteVIFList(id)
		}
	}
	s.foldFloodCounters(vp)
	s.dropSubLists(vp)
	vp.listByID = used
	vp.spare, vp.spareOn = vp.flood, vp.floodOn
	vp.flood, vp.floodOn = flood, on
	return nil
}

// subList returns the list of port vp that floods to exactly members (a
// part of set, in its order, with its tagging), programming it into the
// IV the first time, or nil when the port has no free list id or the IV
// refuses the list (vp.subFull: not tried again until the next rebuild).
// Such lists last until the port's lists are rebuilt. Finding one that
// exists does not allocate.
func (s *VIS) subList(vp *vport, set *floodSet, members []int32) *floodSet {
	key := s.subKey[:0]
	if set.tagged {
		key = append(key, 1)
	} else {
		key = append(key, 0)
	}
	for _, m := range members {
		key = binary.BigEndian.AppendUint32(key, uint32(s.veths[m].vif))
	}
	s.subKey = key
	if sub, ok := vp.sub[string(key)]; ok {
		return sub
	}
	if vp.subFull {
		return nil
	}
	used := make(map[string]uint32, len(vp.sub))
	for k, sub := range vp.sub {
		used[k] = sub.list
	}
	id, err := s.allocList(vp, used)
	if err != nil {
		vp.subFull = true
		return nil
	}
	sub := &floodSet{list: id, tagged: set.tagged, members: slices.Clone(members)}
	for _, m := range members {
		sub.vifs = append(sub.vifs, s.veths[m].vif)
	}
	if err := vp.lists.SetVIFList(id, sub.vifs); err != nil {
		vp.subFull = true
		return nil
	}
	if vp.sub == nil {
		vp.sub = map[string]*floodSet{}
	}
	vp.sub[string(key)] = sub
	return sub
}

// dropSubLists deletes the lists subList programmed into port vp's IV,
// once foldFloodCounters has counted what they sent.
func (s *VIS) dropSubLists(vp *vport) {
	for _, sub := range vp.sub {
		_ = vp.lists.DeleteVIFList(sub.list) // as for the other lists
	}
	vp.sub, vp.subFull = nil, false
}

// foldFloodCounters moves what the port's current flood sets sent into
// their members' own counters, before the sets are replaced.
func (s *VIS) foldFloodCounters(vp *vport) {
	fold := func(set *floodSet) {
		for _, m := range set.members {
			if v := s.veths[m]; v != nil {
				v.c.TxFrames += set.frames
				v.c.TxBytes += set.bytes
			}
		}
		set.frames, set.bytes = 0, 0
	}
	for _, vlan := range vp.floodOn {
		sets := vp.flood[vlan]
		for i := range sets {
			fold(&sets[i])
		}
	}
	for _, sub := range vp.sub {
		fold(sub)
	}
	for _, i := range vp.veths {
		if v := s.veths[i]; v != nil {
			v.c.TxFrames -= v.prunedFrames
			v.c.TxBytes -= v.prunedBytes
			v.prunedFrames, v.prunedBytes = 0, 0
		}
	}
}

// countersOf returns vEth i's counters with what its port's flood sets
// sent to it added.
func (s *VIS) countersOf(i int32) Counters {
	v := s.veths[i]
	c := v.c
	add := func(set *floodSet) {
		if set.frames != 0 && slices.Contains(set.members, i) {
			c.TxFrames += set.frames
			c.TxBytes += set.bytes
		}
	}
	vp := s.ports[v.port]
	for _, vlan := range vp.floodOn {
		sets := vp.flood[vlan]
		for j := range sets {
			add(&sets[j])
		}
	}
	for _, sub := range vp.sub {
		add(sub)
	}
	c.TxFrames -= v.prunedFrames
	c.TxBytes -= v.prunedBytes
	return c
}

// listKey identifies a list by its tagging and members.
func listKey(tagged bool, vifs []vntag.VIF) string {
	sorted := slices.Clone(vifs)
	slices.Sort(sorted)
	b := make([]byte, 1, 1+4*len(sorted))
	if tagged {
		b[0] = 1
	}
	for _, v := range sorted {
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	}
	return string(b)
}

// allocList returns a list id of port vp not in use now nor in the new
// assignment: a vif_list_id for VNTag, an E-channel with GRP 1 for E-Tag.
func (s *VIS) allocList(vp *vport, used map[string]uint32) (uint32, error) {
	max := uint32(vntag.MaxDVIF)
	if vp.mode == vntag.ModeETag {
		max = vntag.MaxECID
	}
	inUse := make(map[uint32]bool, len(vp.listByID)+len(used))
	for _, id := range vp.listByID {
		inUse[id] = true
	}
	for _, id := range used {
		inUse[id] = true
	}
	for _, sub := range vp.sub {
		inUse[sub.list] = true
	}
	for tries := uint32(0); tries < max; tries++ {
		n := vp.nextList
		vp.nextList++
		if vp.nextList > max {
			vp.nextList = 1
		}
		id := n
		if vp.mode == vntag.ModeETag {
			id = vntag.Channel(1, vntag.VIF(n))
		}
		if !inUse[id] {
			return id, nil
		}
	}
	return 0, fmt.Errorf("%w: port %s: no free vif list id", ErrLists, vp.name)
}

// FloodList returns the vif list that port p uses to flood frames of vlan
// to its vEths that take them untagged (tagged=false) or tagged, with its
// members' VIFs.
func (s *VIS) FloodList(p int, vlan uint16, tagged bool) (list uint32, vifs []vntag.VIF, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p < 0 || p >= len(s.ports) || vlan > profile.MaxVLAN || s.ports[p].kind != ivPort {
		return 0, nil, false
	}
	for _, set := range s.ports[p].flood[vlan] {
		if set.tagged == tagged {
			return set.list, slices.Clone(set.vifs), true
		}
	}
	return 0, nil, false
}
