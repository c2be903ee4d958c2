package vis_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// TestFastPathsMatchGeneralPath drives two VISes with the same random
// stream of frames, profile edits, admin state changes, recoveries, vEths
// moved, removed and added, and clock steps: one as it is, one with every frame on the general path
// (pop, profile Load and Evaluate, forward, emit; vis.SetSlowOnly). Every
// frame they send — port and bytes — and every counter, MAC table entry
// and move must be the same: the fast paths (VLAN classification without
// Evaluate, the in-place tag rewrite of a hairpin) change nothing but the
// time taken.
func TestFastPathsMatchGeneralPath(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) { checkFastPaths(t, rt, mode) })
		})
	}
}

// Profile edits the stream applies, to both stores.
var fastPathEdits = []string{
	"port-profile web\n  switchport access vlan 10\n",
	"port-profile web\n  switchport access vlan 20\n",
	"port-profile web\n  ip access-group no-dns in\n",
	"port-profile web\n  no ip access-group no-dns in\n",
	"port-profile web\n  ip access-group no-dns out\n",
	"port-profile web\n  no ip access-group no-dns out\n",
	"port-profile web\n  service-policy type qos input gold\n",
	"port-profile web\n  no service-policy type qos input gold\n",
	"port-profile web\n  switchport port-security\n  switchport port-security maximum 2\n",
	"port-profile web\n  switchport port-security violation restrict\n",
	"port-profile web\n  no switchport port-security\n",
	"port-profile web\n  shutdown\n",
	"port-profile web\n  no shutdown\n",
	"port-profile db\n  ip access-group no-dns out\n",
	"port-profile db\n  no ip access-group no-dns out\n",
	"port-profile trunk\n  switchport trunk allowed vlan 10,20,30\n",
	"port-profile trunk\n  switchport trunk native vlan 10\n",
	"port-profile trunk\n  switchport trunk native vlan 20\n",
}

func checkFastPaths(t *testing.T, rt *rapid.T, mode vntag.Mode) {
	cfg := vis.Config{
		MACTableSize: rapid.SampledFrom([]int{0, 8, 64}).Draw(rt, "table"),
		MACLimit:     rapid.IntRange(0, 3).Draw(rt, "limit"),
		AgingTime:    time.Second,
		// Untagged frames from the uplink in a VLAN no vEth has, in the
		// access VLAN of "web", or in one "trunk" allows.
		UplinkNativeVLAN: rapid.SampledFrom([]uint16{1, 10, 30}).Draw(rt, "native"),
	}
	fast, slow := newLab(t, mode, cfg), newLab(t, mode, cfg)
	vis.SetSlowOnly(slow.vis, true)
	labs := []*lab{fast, slow}
	macs := [][6]byte{macA, macB, macC, macD, macX, mac(0x99),
		{0x01, 0, 0x5e, 0, 0, 1}, bcast}
	steps := rapid.IntRange(1, 60).Draw(rt, "steps")
	for step := range steps {
		switch op := rapid.IntRange(0, 9).Draw(rt, "op"); op {
		case 0: // a profile edit or binding change
			if rapid.Bool().Draw(rt, "rebind") {
				id := profile.VEthID(rapid.IntRange(1, 4).Draw(rt, "veth"))
				name := rapid.SampledFrom([]string{"web", "db", "trunk"}).Draw(rt, "profile")
				for _, l := range labs {
					_, err := l.store.Update(func(tx *profile.Txn) error { tx.Bind(id, name); return nil })
					if err != nil {
						rt.Fatal(err)
					}
				}
			} else {
				edit := rapid.SampledFrom(fastPathEdits).Draw(rt, "edit")
				// Some edits fail (removing what is not there): in both
				// stores alike.
				for _, l := range labs {
					_, _ = l.store.Update(func(tx *profile.Txn) error { return tx.Configure(edit) })
				}
			}
		case 1: // admin state, err-disable recovery
			id := profile.VEthID(rapid.IntRange(1, 4).Draw(rt, "veth"))
			up := rapid.Bool().Draw(rt, "up")
			recover := rapid.Bool().Draw(rt, "recover")
			for _, l := range labs {
				if recover {
					_ = l.vis.Recover(id)
				} else {
					_ = l.vis.SetAdminUp(id, up)
				}
			}
		case 3: // a vEth moves to another VIF or IV port, or is removed and added again
			id := profile.VEthID(rapid.IntRange(1, 4).Draw(rt, "veth"))
			p := rapid.IntRange(0, 1).Draw(rt, "port")
			vif := vntag.VIF(rapid.SampledFrom([]int{5, 6, 7, 8}).Draw(rt, "to"))
			readd := rapid.Bool().Draw(rt, "readd")
			for _, l := range labs {
				if readd {
					_ = l.vis.RemoveVEth(id)
					_ = l.vis.AddVEth(id, p, vif)
				} else {
					_ = l.vis.MoveVEth(id, p, vif)
				}
			}
		case 2: // the clock moves, sometimes past the aging time
			d := rapid.SampledFrom([]int64{1e6, 1e8, 2e9}).Draw(rt, "dt")
			age := rapid.Bool().Draw(rt, "age")
			for _, l := range labs {
				l.now += d
				if age {
					l.vis.Age(l.now)
				}
			}
		default: // a batch of frames
			in := rapid.IntRange(0, 2).Draw(rt, "in")
			n := rapid.IntRange(1, 8).Draw(rt, "n")
			frames := make([][]byte, n)
			for i := range frames {
				frames[i] = drawFrame(rt, fast, in, macs)
			}
			// A small Tx makes both paths stop mid-batch and go on in the
			// next call: what comes out must not depend on where.
			txCap := rapid.SampledFrom([]int{1024, 1024, 3, 8}).Draw(rt, "tx")
			compareOuts(rt, step, sendDirty(fast, in, frames, txCap), sendDirty(slow, in, frames, txCap))
		}
		compareState(rt, fast, slow, step)
	}
}

// sendDirty runs frames through l's VIS as arriving on port in, each in a
// buffer whose headroom and tailroom hold garbage, as reused buffers do,
// with a Tx of txCap frames: written out, as port.Run does, whenever the
// VIS stops for lack of room.
func sendDirty(l *lab, in int, frames [][]byte, txCap int) []out {
	fs := make([]port.Frame, len(frames))
	for i, b := range frames {
		buf := bytes.Repeat([]byte{0xa5}, port.Headroom+len(b)+port.Tailroom)
		copy(buf[port.Headroom:], b)
		fs[i] = port.Frame{Buf: buf[:port.Headroom+len(b)], Off: port.Headroom}
	}
	tx := port.NewTx(txCap, 1<<20)
	var outs []out
	for done := 0; done < len(fs); {
		n := l.vis.Process(in, fs[done:], l.now, tx)
		if n == 0 {
			l.t.Fatalf("no progress after %d of %d frames with an empty Tx of %d", done, len(fs), txCap)
		}
		done += n
		for i, f := range tx.Frames {
			outs = append(outs, out{tx.Ports[i], append([]byte(nil), f.Bytes()...)})
		}
		tx.Reset()
	}
	return outs
}

// drawFrame draws a frame arriving on port in: on an IV port mostly a
// valid upstream tag of one of the lab's VIFs (or of an unbound one),
// sometimes a bad tag, no tag or a frame cut short; untagged, priority-
// tagged or 802.1Q-tagged inside; shorter than 60 bytes after the tag is
// popped, 60 bytes, or longer.
func drawFrame(rt *rapid.T, l *lab, in int, macs [][6]byte) []byte {
	dst := rapid.SampledFrom(macs).Draw(rt, "dst")
	src := rapid.SampledFrom(macs).Draw(rt, "src")
	b := frame(dst, src, rapid.SampledFrom([]uint16{53, 80}).Draw(rt, "dport"))
	switch rapid.IntRange(0, 3).Draw(rt, "len") {
	case 0:
		b = b[:rapid.IntRange(14, 59).Draw(rt, "short")]
	case 1:
		b = append(b, make([]byte, rapid.IntRange(1, 40).Draw(rt, "extra"))...)
	}
	if vid := rapid.SampledFrom([]int{-1, -1, 0, 10, 20, 30}).Draw(rt, "vid"); vid >= 0 {
		pcp := uint16(rapid.IntRange(0, 7).Draw(rt, "pcp"))
		b = dot1q(b, pcp<<13|uint16(vid))
	}
	if in == l.uplink {
		return b
	}
	vif := vntag.VIF(rapid.SampledFrom([]int{5, 6, 7, 8}).Draw(rt, "vif"))
	b = l.tag(b, vif)
	if l.mode == vntag.ModeETag {
		// E-PCP and E-DEI: the frame's priority.
		b[14] |= byte(rapid.IntRange(0, 15).Draw(rt, "eprio")) << 4
	}
	switch rapid.IntRange(0, 9).Draw(rt, "damage") {
	case 0: // a downstream or pointer tag: bad tag
		b[14] |= rapid.SampledFrom([]byte{0x80, 0x40, 0x10}).Draw(rt, "bit")
	case 1: // cut short
		b = b[:rapid.IntRange(0, len(b)).Draw(rt, "cut")]
	case 2: // no NIV tag
		binary.BigEndian.PutUint16(b[12:], 0x0800)
	}
	return b
}

// compareOuts fails unless the frames the fast lab sent (a) are those
// the general-path lab sent (b): the same ports and bytes, in order.
func compareOuts(rt *rapid.T, step int, a, b []out) {
	if len(a) != len(b) {
		rt.Fatalf("step %d: %d frames out, the general path %d", step, len(a), len(b))
	}
	for i := range a {
		if a[i].port != b[i].port || !bytes.Equal(a[i].bytes, b[i].bytes) {
			rt.Fatalf("step %d, frame %d:\n  fast    port %d % x\n  general port %d % x",
				step, i, a[i].port, a[i].bytes, b[i].port, b[i].bytes)
		}
	}
}

// compareState fails when the two labs' counters, MAC tables or moves
// differ.
func compareState(rt *rapid.T, a, b *lab, step int) {
	for id := profile.VEthID(1); id <= 4; id++ {
		ca, _ := a.vis.Counters(id)
		cb, _ := b.vis.Counters(id)
		if ca != cb {
			rt.Fatalf("step %d: %v counters\n  fast    %+v\n  general %+v", step, id, ca, cb)
		}
		sa, _ := a.vis.ShowInterface(id)
		sb, _ := b.vis.ShowInterface(id)
		if sa != sb {
			rt.Fatalf("step %d:\n%s\n%s", step, sa, sb)
		}
	}
	for p := 0; p <= a.uplink; p++ {
		ca, _ := a.vis.PortCounters(p)
		cb, _ := b.vis.PortCounters(p)
		if ca != cb {
			rt.Fatalf("step %d: port %d counters\n  fast    %+v\n  general %+v", step, p, ca, cb)
		}
	}
	if ma, mb := fmt.Sprint(a.vis.MACs(a.now)), fmt.Sprint(b.vis.MACs(b.now)); ma != mb {
		rt.Fatalf("step %d: MAC tables\n  fast    %s\n  general %s", step, ma, mb)
	}
	if a.vis.Moves() != b.vis.Moves() {
		rt.Fatalf("step %d: moves %d and %d", step, a.vis.Moves(), b.vis.Moves())
	}
}

// TestFastPathsLargeBatch is TestFastPathsMatchGeneralPath for batches of
// more frames than lookup takes at a time (64), from an IV port and from
// the uplink, after 96 MACs learned in a table of 512 slots, so that some
// keys sit past their home slot and lookup's second step probes for them.
func TestFastPathsLargeBatch(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) { checkLargeBatch(t, rt, mode) })
		})
	}
}

func checkLargeBatch(t *testing.T, rt *rapid.T, mode vntag.Mode) {
	cfg := vis.Config{MACTableSize: 256, AgingTime: time.Hour, UplinkNativeVLAN: 10}
	fast, slow := newLab(t, mode, cfg), newLab(t, mode, cfg)
	vis.SetSlowOnly(slow.vis, true)
	labs := []*lab{fast, slow}
	// MACs 0-31 behind vEth 1 (VIF 5), 32-63 behind vEth 2 (VIF 6), both
	// web (VLAN 10), and 64-95 behind the uplink.
	vifOf := func(m byte) vntag.VIF { return 5 + vntag.VIF(m/32) }
	for m := byte(0); m < 96; m++ {
		for _, l := range labs {
			b := frame(bcast, mac(m), 80)
			if m < 64 {
				sendDirty(l, 0, [][]byte{l.tag(b, vifOf(m))}, 1024)
			} else {
				sendDirty(l, l.uplink, [][]byte{b}, 1024)
			}
		}
	}
	compareState(rt, fast, slow, 0)
	for step := 1; step <= 3; step++ {
		in := rapid.SampledFrom([]int{0, fast.uplink}).Draw(rt, "in")
		frames := make([][]byte, rapid.IntRange(65, 200).Draw(rt, "n"))
		for i := range frames {
			// Mostly known unicast; now and then to a MAC never learned.
			dst := mac(byte(rapid.IntRange(0, 99).Draw(rt, "dst")))
			if in == fast.uplink {
				src := byte(rapid.IntRange(64, 95).Draw(rt, "src"))
				frames[i] = frame(dst, mac(src), 80)
				continue
			}
			src := byte(rapid.IntRange(0, 63).Draw(rt, "src"))
			frames[i] = fast.tag(frame(dst, mac(src), 80), vifOf(src))
		}
		compareOuts(rt, step, sendDirty(fast, in, frames, 1024), sendDirty(slow, in, frames, 1024))
		compareState(rt, fast, slow, step)
	}
}
