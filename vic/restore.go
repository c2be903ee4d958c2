package vic

import "time"

// Restore puts vEth v back into t, as a store that kept it across a
// restart of the VIS gives it back: same id, configuration and binding. A
// VIS machine started over t then treats it as it treats every vEth it
// had (bound: stale until its IV announces it again; unbound: kept for
// Timing.Retention from now). Restore replaces a vEth of the same
// instance; ids given out later are above every restored one.
func (t *Table) Restore(v VEthRecord, now time.Time) {
	r := &VEthRecord{ID: v.ID, VNIC: v.VNIC, Port: v.Port, VIF: v.VIF, Bound: v.Bound, Unbound: v.Unbound}
	if !r.Bound && r.Unbound.IsZero() {
		r.Unbound = now
	}
	if _, ok := t.veths[v.VNIC.Instance]; !ok {
		t.order = append(t.order, v.VNIC.Instance)
	}
	t.veths[v.VNIC.Instance] = r
	t.next = max(t.next, v.ID)
}

// Next returns the last vEth id given out; SetNext raises it (ids of
// deleted vEths are not given out again if a store keeps it).
func (t *Table) Next() uint32 { return t.next }

// SetNext makes id the last vEth id given out, unless it is lower.
func (t *Table) SetNext(id uint32) { t.next = max(t.next, id) }
