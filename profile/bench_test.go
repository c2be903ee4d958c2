package profile

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// benchACL builds an ip access-list of n distinct entries (a /24 source and
// a destination port each, like per-tenant rules) and a frame that matches
// only the last one: the worst case for a first-match scan.
func benchACL(n int) (*IPACL, Frame) {
	a := &IPACL{Name: "bench"}
	for i := range n {
		a.Entries = append(a.Entries, IPEntry{
			Seq: uint32(10 * (i + 1)), Action: Permit, Protocol: ProtoTCP,
			Source:          netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24),
			Destination:     netip.PrefixFrom(netip.IPv4Unspecified(), 0),
			DestinationPort: PortMatch{Op: PortEq, Port: uint16(1000 + i%500)},
		})
	}
	last := max(n-1, 0)
	f := Frame{Dir: In, EtherType: 0x0800, Protocol: uint8(ProtoTCP), Len: 64,
		SrcIP: netip.AddrFrom4([4]byte{10, byte(last >> 8), byte(last), 9}), DstIP: netip.MustParseAddr("192.0.2.1"),
		SrcPort: 40000, DstPort: uint16(1000 + last%500)}
	return a, f
}

var sinkInt int

// BenchmarkACLLookup: the compiled classifier against the naive first-match
// scan it replaces, as the ACL grows.
func BenchmarkACLLookup(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 4096} {
		a, f := benchACL(n)
		c := compileIPACL(a)
		var k keyVector
		b.Run(fmt.Sprintf("compiled/entries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ipKeys(&f, &k)
				sinkInt = c.cls.lookup(&k)
			}
			if sinkInt != n-1 {
				b.Fatalf("lookup = %d, want %d", sinkInt, n-1)
			}
		})
		b.Run(fmt.Sprintf("naive/entries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkInt = a.FirstMatch(&f)
			}
			if sinkInt != n-1 {
				b.Fatalf("first match = %d, want %d", sinkInt, n-1)
			}
		})
	}
}

// BenchmarkVerdict: a whole policy evaluation (access VLAN, ip access-group
// in, marking) with 0, 100 and 1,000 ACL entries.
func BenchmarkVerdict(b *testing.B) {
	for _, n := range []int{0, 100, 1000} {
		a, f := benchACL(n)
		cfg := NewConfig()
		p := Profile{Name: "p", Enabled: true}
		if n > 0 {
			cfg.IPACLs["bench"] = *a
			p.Set |= AttrIPACLIn
			p.IPAccessGroup[In] = "bench"
		}
		cfg.QoSPolicies["gold"] = QoSPolicy{Name: "gold", Mark: Marking{SetCoS: true, CoS: 5}}
		p.Set |= AttrQoSIn | AttrAccessVLAN
		p.ServicePolicy[In], p.AccessVLAN = "gold", 10
		cfg.Profiles["p"] = p
		pol, err := Compile(cfg, "p")
		if err != nil {
			b.Fatal(err)
		}
		var v VEth
		v.SetPolicy(pol)
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var vd Verdict
			now := int64(0)
			for b.Loop() {
				now++
				vd = v.Evaluate(&f, now)
			}
			if !vd.Admitted() || vd.VLAN != 10 || vd.Mark.CoS != 5 {
				b.Fatalf("verdict %+v", vd)
			}
		})
	}
}

// BenchmarkVerdictMACACL: a mac access-group of 1,000 host entries.
func BenchmarkVerdictMACACL(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("mac access-list m\n")
	for i := range 1000 {
		fmt.Fprintf(&sb, "  permit host 0050.56%02x.%04x any 0x0800\n", i>>8, i)
	}
	sb.WriteString("port-profile p\n  mac access-group m in\n  state enabled\n")
	cfg, err := Parse(sb.String())
	if err != nil {
		b.Fatal(err)
	}
	pol, err := Compile(cfg, "p")
	if err != nil {
		b.Fatal(err)
	}
	var v VEth
	v.SetPolicy(pol)
	f := Frame{Dir: In, Src: [6]byte{0, 0x50, 0x56, 3, 0x03, 0xe7}, EtherType: 0x0800, Len: 64}
	b.ReportAllocs()
	var vd Verdict
	for b.Loop() {
		vd = v.Evaluate(&f, 0)
	}
	if !vd.Admitted() {
		b.Fatalf("verdict %+v", vd)
	}
}

// BenchmarkPropagationEdit: one edit of the grandparent of 1,000 vEths
// (two-level chain, four leaf profiles): validate, recompile, commit and
// deliver the batch to 1,000 VEths.
func BenchmarkPropagationEdit(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("ip access-list web\n  10 permit tcp any any eq 80\n")
	sb.WriteString("port-profile base\n  switchport access vlan 10\n  state enabled\n")
	sb.WriteString("port-profile mid\n  inherit port-profile base\n  ip access-group web in\n  state enabled\n")
	for i := range 4 {
		fmt.Fprintf(&sb, "port-profile leaf%d\n  inherit port-profile mid\n  max-ports 256\n  state enabled\n", i)
	}
	s := NewMemStore()
	if _, err := s.Update(func(tx *Txn) error {
		for i := range 1000 {
			tx.Bind(VEthID(i+1), fmt.Sprintf("leaf%d", i%4))
		}
		return tx.Configure(sb.String())
	}); err != nil {
		b.Fatal(err)
	}
	veths := make(map[VEthID]*VEth, 1000)
	delivered := 0
	s.Subscribe(func(batch Batch) {
		for _, u := range batch.Updates {
			v := veths[u.VEth]
			if v == nil {
				v = &VEth{}
				veths[u.VEth] = v
			}
			v.SetPolicy(u.Policy)
		}
		delivered = len(batch.Updates)
	})
	edits := []string{"port-profile base\n  switchport access vlan 20\n", "port-profile base\n  switchport access vlan 21\n"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Update(func(tx *Txn) error { return tx.Configure(edits[i%2]) }); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if delivered != 1000 {
		b.Fatalf("last edit reached %d vEths, want 1000", delivered)
	}
}
