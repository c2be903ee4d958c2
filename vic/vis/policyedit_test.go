package vis_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// learned returns the table's addresses as "VLAN/last byte@vEth" (vEth 0:
// the uplink), sorted as MACs sorts them.
func learned(v *vis.VIS, now int64) []string {
	var out []string
	for _, m := range v.MACs(now) {
		out = append(out, fmt.Sprintf("%d/%02x@%d", m.VLAN, m.Addr[5], m.VEth))
	}
	return out
}

// TestBatchEditFlushesItsVEths: one edit that changes the VLAN of two
// profiles' vEths forgets exactly the MACs learned on those vEths, in the
// same batch, and keeps those of the vEth whose profile did not change
// and those behind the uplink; a later edit that changes nothing a vEth
// forwards by (its description) forgets nothing.
func TestBatchEditFlushesItsVEths(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	_, err := l.store.Update(func(tx *profile.Txn) error {
		return tx.Configure("port-profile trunk\n  description spare\n")
	})
	require.NoError(t, err)
	// vEth 1 has two MACs (A and 0x1a), vEths 2-4 one each, the uplink X.
	macA2 := mac(0x1a)
	l.from(0, 5, frame(bcast, macA, 1))
	l.from(0, 5, frame(bcast, macA2, 1))
	l.from(0, 6, frame(bcast, macB, 1))
	l.from(0, 7, frame(bcast, macC, 1))
	l.from(1, 5, frame(bcast, macD, 1))
	l.send(l.uplink, dot1q(frame(bcast, macX, 1), 10))
	assert.Equal(t, []string{"10/0a@1", "10/0b@2", "10/0d@4", "10/1a@1", "10/ee@0", "20/0c@3"}, learned(l.vis, l.now))

	// web (vEths 1, 2, 4) moves to VLAN 30; vEth 3 (db) stays.
	_, err = l.store.Update(func(tx *profile.Txn) error {
		return tx.Configure("port-profile web\n  switchport access vlan 30\n")
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"10/ee@0", "20/0c@3"}, learned(l.vis, l.now), "web's vEths forgot their MACs, db's and the uplink's kept")

	// Learned again, in VLAN 30; then web and db change in one edit: every
	// vEth's MACs go.
	l.from(0, 5, frame(bcast, macA, 1))
	l.from(1, 5, frame(bcast, macD, 1))
	assert.Equal(t, []string{"10/ee@0", "20/0c@3", "30/0a@1", "30/0d@4"}, learned(l.vis, l.now))
	_, err = l.store.Update(func(tx *profile.Txn) error {
		return tx.Configure("port-profile web\n  switchport access vlan 31\nport-profile db\n  switchport access vlan 21\n")
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"10/ee@0"}, learned(l.vis, l.now))

	// An edit that changes no VLAN forgets nothing.
	l.from(0, 7, frame(bcast, macC, 1))
	_, err = l.store.Update(func(tx *profile.Txn) error {
		return tx.Configure("port-profile db\n  description the database\n")
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"10/ee@0", "21/0c@3"}, learned(l.vis, l.now))
}

// BenchmarkPolicyEdit is one profile edit that moves every vEth of a VIS
// to another access VLAN, each vEth with one learned MAC, in a MAC table
// of the default size (65,536 addresses, 131,072 slots of 32 bytes; the
// vEths spread over leaf profiles that inherit the edited one); the
// MACs are learned again, untimed, before each edit.
func BenchmarkPolicyEdit_1k(b *testing.B)  { benchPolicyEdit(b, 1_000) }
func BenchmarkPolicyEdit_10k(b *testing.B) { benchPolicyEdit(b, 10_000) }

func benchPolicyEdit(b *testing.B, n int) {
	store := profile.NewMemStore()
	var conf strings.Builder
	conf.WriteString("port-profile base\n  switchport mode access\n  switchport access vlan 100\n  state enabled\n")
	leaves := (n + 1023) / 1024 // max-ports is at most 1024
	for l := range leaves {
		fmt.Fprintf(&conf, "port-profile leaf%d\n  inherit port-profile base\n  max-ports 1024\n  state enabled\n", l)
	}
	_, err := store.Update(func(tx *profile.Txn) error {
		if err := tx.Configure(conf.String()); err != nil {
			return err
		}
		for i := 1; i <= n; i++ {
			tx.Bind(profile.VEthID(i), fmt.Sprintf("leaf%d", i%leaves))
		}
		return nil
	})
	require.NoError(b, err)
	v, err := vis.New(vis.Config{Store: store})
	require.NoError(b, err)
	defer v.Close()
	var ports []int
	for p := range (n + 3999) / 4000 {
		cp, err := v.AddIVPort(fmt.Sprintf("iv%d", p), vntag.ModeVNTag, iv.New(iv.Config{}))
		require.NoError(b, err)
		ports = append(ports, cp)
	}
	learn := make([][][]byte, len(ports)) // per port
	for i := range n {
		p, vif := i/4000, vntag.VIF(i%4000+1)
		require.NoError(b, v.AddVEth(profile.VEthID(i+1), ports[p], vif))
		m := [6]byte{0x02, 0, 0, byte(i >> 16), byte(i >> 8), byte(i)}
		learn[p] = append(learn[p], upVNTag(b, frame(bcast, m, 1), uint16(vif)))
	}
	relearn := func() {
		for p, frames := range learn {
			for _, f := range frames {
				sendOne(b, v, ports[p], f)
			}
		}
	}
	vlan := 100
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		relearn()
		vlan = 100 + (vlan-99)%100
		b.StartTimer()
		if _, err := store.Update(func(tx *profile.Txn) error {
			return tx.Configure(fmt.Sprintf("port-profile base\n  switchport access vlan %d\n", vlan))
		}); err != nil {
			b.Fatal(err)
		}
	}
	if got := len(v.MACs(0)); got != 0 {
		b.Fatalf("%d MACs left after the edit", got)
	}
}

// sendOne runs frame f through v as arriving on port in, at time 0.
func sendOne(b *testing.B, v *vis.VIS, in int, f []byte) {
	bt := port.NewBatch(1)
	tx := port.NewTx(64, 1<<20)
	bt.Put(0, f)
	if v.Process(in, bt.Frames, 0, tx) != 1 {
		b.Fatal("frame not taken")
	}
}
