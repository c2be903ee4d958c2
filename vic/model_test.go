package vic_test

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vntag"
)

var modelTiming = vic.Timing{
	Keepalive:      100 * time.Millisecond,
	Hold:           300 * time.Millisecond,
	RequestTimeout: 100 * time.Millisecond, // > 4 × ECP's 10.24 ms acknowledgement timer
	ResyncHold:     time.Second,
	Retention:      3 * time.Second,
}

// intent is what the model wants for one instance UUID.
type intent struct {
	owner    int
	epoch    uint32
	up       bool
	vlan     uint16
	desired  bool
	veth     uint32 // vEth id first seen, 0 before
	counters uint64 // traffic the model sent through the vEth
}

type model struct {
	s       *sim
	nIV     int
	uuids   []vic.UUID
	want    map[vic.UUID]*intent
	lists   map[vic.PortID]map[uint32][]vntag.VIF
	loss    int
	dup     int
	delay   time.Duration
	healed  bool
	restart int
}

func newModel(t *rapid.T, nIV int) *model {
	m := &model{nIV: nIV, want: map[vic.UUID]*intent{}, lists: map[vic.PortID]map[uint32][]vntag.VIF{}}
	m.loss = rapid.IntRange(0, 30).Draw(t, "loss%")
	m.dup = rapid.IntRange(0, 30).Draw(t, "dup%")
	m.delay = time.Duration(rapid.IntRange(0, 5000).Draw(t, "maxDelayµs")) * time.Microsecond
	f := func() (int, [2]time.Duration) {
		if m.healed {
			return 1, [2]time.Duration{}
		}
		if rapid.IntRange(0, 99).Draw(t, "drop") < m.loss {
			return 0, [2]time.Duration{}
		}
		n := 1
		if rapid.IntRange(0, 99).Draw(t, "dup") < m.dup {
			n = 2
		}
		var d [2]time.Duration
		for i := 0; i < n; i++ {
			d[i] = time.Duration(rapid.Int64Range(0, int64(m.delay)).Draw(t, "delay"))
		}
		return n, d
	}
	m.s = newSim(nIV, modelTiming, f, nil, t.Fatalf)
	if os.Getenv("VIC_TRACE") != "" {
		m.s.trace = t.Logf
	}
	for i := 0; i < 6; i++ {
		m.uuids = append(m.uuids, vic.UUID{0xa1, 0x41, byte(i), 15: byte(i + 1)})
	}
	return m
}

func (m *model) vnic(u vic.UUID, in *intent) vic.VNIC {
	return vic.VNIC{Instance: u, MAC: [6]byte{0x52, 0x54, 0, 0, 0, u[15]}, Profile: "web", VLAN: in.vlan, Epoch: in.epoch, Up: in.up}
}

func (m *model) pick(t *rapid.T, desired bool) (vic.UUID, *intent) {
	var c []vic.UUID
	for _, u := range m.uuids {
		in := m.want[u]
		if (in != nil && in.desired) == desired {
			c = append(c, u)
		}
	}
	if len(c) == 0 {
		t.Skip("no candidate")
	}
	u := rapid.SampledFrom(c).Draw(t, "uuid")
	return u, m.want[u]
}

func (m *model) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"request": func(t *rapid.T) {
			u, in := m.pick(t, false)
			if in == nil {
				in = &intent{}
				m.want[u] = in
			}
			in.owner = rapid.IntRange(0, m.nIV-1).Draw(t, "iv")
			in.epoch++
			in.up = rapid.Bool().Draw(t, "up")
			in.vlan = uint16(rapid.SampledFrom([]int{0, 10, 20}).Draw(t, "vlan"))
			in.desired, in.veth, in.counters = true, 0, 0
			m.s.ivHandle(in.owner, vic.IVEvent{Kind: vic.IVRequest, VNIC: m.vnic(u, in)})
		},
		"link": func(t *rapid.T) {
			u, in := m.pick(t, true)
			in.up = !in.up
			m.s.ivHandle(in.owner, vic.IVEvent{Kind: vic.IVSetLink, VNIC: m.vnic(u, in)})
		},
		"delete": func(t *rapid.T) {
			u, in := m.pick(t, true)
			in.desired = false
			m.s.ivHandle(in.owner, vic.IVEvent{Kind: vic.IVDelete, VNIC: vic.VNIC{Instance: u}})
		},
		"migrate": func(t *rapid.T) {
			if m.nIV < 2 {
				t.Skip("one IV")
			}
			u, in := m.pick(t, true)
			from := in.owner
			to := (in.owner + rapid.IntRange(1, m.nIV-1).Draw(t, "to")) % m.nIV
			in.owner = to
			in.epoch++
			// The destination asks first; the source lets go (its order at
			// the VIS is up to the links).
			m.s.ivHandle(to, vic.IVEvent{Kind: vic.IVRequest, VNIC: m.vnic(u, in)})
			m.s.ivHandle(from, vic.IVEvent{Kind: vic.IVRelease, VNIC: vic.VNIC{Instance: u}})
		},
		"restartIV": func(t *rapid.T) {
			i := rapid.IntRange(0, m.nIV-1).Draw(t, "iv")
			m.restart++
			// A delete the IV had not finished is lost with it; ResyncDone
			// and Retention clean up after it.
			m.s.startIV(i)
			// The hypervisor still has its vNICs and asks again.
			for _, u := range m.uuids {
				if in := m.want[u]; in != nil && in.desired && in.owner == i {
					m.s.ivHandle(i, vic.IVEvent{Kind: vic.IVRequest, VNIC: m.vnic(u, in)})
				}
			}
		},
		"restartVIS": func(t *rapid.T) {
			m.restart++
			m.s.restartVIS()
		},
		"vifList": func(t *rapid.T) {
			p := vic.PortID(rapid.IntRange(0, m.nIV-1).Draw(t, "port"))
			list := uint32(rapid.IntRange(1, 2).Draw(t, "list"))
			members := rapid.SliceOfNDistinct(rapid.Custom(func(t *rapid.T) vntag.VIF { return vntag.VIF(rapid.Uint16Range(1, 64).Draw(t, "vif")) }), 0, 5, rapid.ID[vntag.VIF]).Draw(t, "members")
			if m.lists[p] == nil {
				m.lists[p] = map[uint32][]vntag.VIF{}
			}
			m.lists[p][list] = members
			m.s.visHandle(vic.VISEvent{Kind: vic.VISSetVIFList, Port: p, ListID: list, Members: members})
		},
		"traffic": func(t *rapid.T) {
			u, in := m.pick(t, true)
			v, ok := m.s.table.Get(u)
			if !ok || !v.Bound || v.ID != in.veth || m.s.visCore.veths[v.ID] == nil {
				t.Skip("not bound yet")
			}
			n := uint64(rapid.IntRange(1, 1000).Draw(t, "frames"))
			m.s.visCore.veths[v.ID].counters += n
			in.counters += n
		},
		"tick": func(t *rapid.T) {
			d := time.Duration(rapid.Int64Range(0, int64(400*time.Millisecond)).Draw(t, "dt"))
			m.s.run(m.s.now.Add(d))
		},
		"": func(t *rapid.T) { m.always(t) },
	}
}

// always holds after every step: a vEth id, once given to an instance,
// never changes while the instance is wanted, and its counters never go
// back.
func (m *model) always(t *rapid.T) {
	for i, iv := range m.s.ivs {
		if n := iv.EncodeFailures(); n != 0 {
			t.Fatalf("IV %d: %d messages failed to encode", i, n)
		}
	}
	if n := m.s.vis.EncodeFailures(); n != 0 {
		t.Fatalf("VIS: %d messages failed to encode", n)
	}
	for _, u := range m.uuids {
		in := m.want[u]
		if in == nil {
			continue
		}
		v, ok := m.s.table.Get(u)
		if !ok {
			if in.desired && in.veth != 0 {
				t.Fatalf("%v: wanted, but its vEth %d is gone", u, in.veth)
			}
			continue
		}
		if !in.desired {
			continue
		}
		if v.VNIC.Epoch != in.epoch {
			continue // an older life's vEth, its delete still on the way, or not yet asked
		}
		if in.veth == 0 {
			in.veth = v.ID
		} else if v.ID != in.veth {
			t.Fatalf("%v: vEth id changed from %d to %d", u, in.veth, v.ID)
		}
		if c := m.s.visCore.veths[v.ID]; c == nil || c.counters < in.counters {
			t.Fatalf("%v: vEth %d lost counters (want ≥ %d)", u, v.ID, in.counters)
		}
	}
}

// converged checks, after the link healed and time passed, that every
// wanted vNIC has exactly one vEth, bound on its IV's port with the same
// VIF id on both sides, and that nothing else is bound anywhere.
func (m *model) converged(t *rapid.T) {
	s := m.s
	wantVIS := map[binding]uint32{}
	for _, u := range m.uuids {
		in := m.want[u]
		if in == nil {
			continue
		}
		v, ok := s.table.Get(u)
		if !in.desired {
			if ok {
				t.Fatalf("%v: deleted, but the VIS still has %+v", u, v)
			}
			for i, iv := range s.ivs {
				if x, ok := iv.VNIC(u); ok && x.State != vic.VIFMoved {
					t.Fatalf("%v: deleted, but IV %d still has it %v", u, i, x.State)
				}
			}
			continue
		}
		if !ok || !v.Bound || v.Port != vic.PortID(in.owner) {
			t.Fatalf("%v: wanted on IV %d; VIS has %+v (found %v)", u, in.owner, v, ok)
		}
		x, ok := s.ivs[in.owner].VNIC(u)
		if !ok || x.State != vic.VIFBound || x.VIF != v.VIF || x.VEth != v.ID || x.LinkUp != in.up {
			t.Fatalf("%v: VIS has VIF %d vEth %d; IV %d has %+v", u, v.VIF, v.ID, in.owner, x)
		}
		if v.ID != in.veth && in.veth != 0 {
			t.Fatalf("%v: vEth id %d, first %d", u, v.ID, in.veth)
		}
		if s.ivCores[in.owner].vifs[v.VIF] != u || s.ivCores[in.owner].link[v.VIF] != in.up {
			t.Fatalf("%v: IV core %d has VIF %d for %v, link %v", u, in.owner, v.VIF, s.ivCores[in.owner].vifs[v.VIF], s.ivCores[in.owner].link[v.VIF])
		}
		c := s.visCore.veths[v.ID]
		if c == nil || c.up != in.up || c.cfg.Instance != u || c.cfg.VLAN != in.vlan || c.counters < in.counters {
			t.Fatalf("%v: VIS core vEth %d is %+v", u, v.ID, c)
		}
		if v.VNIC.Epoch != in.epoch {
			t.Fatalf("%v: epoch %d, want %d", u, v.VNIC.Epoch, in.epoch)
		}
		wantVIS[binding{vic.PortID(in.owner), v.VIF}] = v.ID
		for i, iv := range s.ivs {
			if i == in.owner {
				continue
			}
			if x, ok := iv.VNIC(u); ok && x.State != vic.VIFMoved {
				t.Fatalf("%v: lives on IV %d but IV %d has it %+v", u, in.owner, i, x)
			}
		}
	}
	if fmt.Sprint(wantVIS) != fmt.Sprint(s.visCore.binds) {
		t.Fatalf("VIS core bindings %v, want %v", s.visCore.binds, wantVIS)
	}
	for i, c := range s.ivCores {
		n := 0
		for _, u := range m.uuids {
			if in := m.want[u]; in != nil && in.desired && in.owner == i {
				n++
			}
		}
		if len(c.vifs) != n {
			t.Fatalf("IV core %d has %d VIFs %v, want %d", i, len(c.vifs), c.vifs, n)
		}
		for list, members := range m.lists[vic.PortID(i)] {
			if !slices.Equal(c.lists[list], members) && !(len(members) == 0 && len(c.lists[list]) == 0) {
				t.Fatalf("IV %d VIF list %d is %v, want %v", i, list, c.lists[list], members)
			}
		}
	}
	for i, iv := range s.ivs {
		if st, peer := iv.Session(); st != vic.SessionOpen {
			t.Fatalf("IV %d session %v (peer %x)", i, st, peer)
		}
	}
}

func (m *model) heal() {
	m.healed = true
	// Long enough for dead-peer detection, resync hold, many retries and
	// the retention of unbound vEths.
	for i := 0; i < 60; i++ {
		m.s.run(m.s.now.Add(100 * time.Millisecond))
	}
}

func checkModel(t *rapid.T, nIV int) {
	m := newModel(t, nIV)
	t.Repeat(m.actions())
	m.heal()
	m.always(t)
	m.converged(t)
}

// TestModel: IVs and a VIS over links that drop, duplicate, reorder and
// delay up to 30% of frames, with requests, link changes, deletes,
// migrations, restarts of either side at any step and VIF-list
// programming: after the link heals everything converges — every wanted
// vNIC has exactly one vEth, bound with the same VIF id on the VIS and on
// its IV; no VIF id is bound twice on an IV port (checked at every
// programming call); deletes converge; vEth ids and counters survive
// restarts and migrations.
func TestModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { checkModel(t, 2) })
}

// TestModelThreeIVs: the same with three IVs, so migrations can chain.
func TestModelThreeIVs(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { checkModel(t, 3) })
}
