package profile_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
)

const evalConfig = `
ip access-list web
  10 permit tcp any any eq 80
  20 permit udp any any eq 53
mac access-list nobcast
  10 deny any host ffff.ffff.ffff
  20 permit any any
policy-map type qos gold
  set cos 5
  set dscp 46
policy-map type qos slow
  police cir 1 mbps bc 3 kbytes
port-profile acc
  switchport mode access
  switchport access vlan 10
  ip access-group web in
  mac access-group nobcast in
  service-policy type qos input gold
  state enabled
port-profile trk
  switchport mode trunk
  switchport trunk allowed vlan 10-20
  switchport trunk native vlan 15
  state enabled
port-profile policed
  service-policy type qos output slow
  state enabled
port-profile secure
  switchport port-security
  switchport port-security maximum 2
  switchport port-security violation restrict
  state enabled
`

var (
	vmMAC    = [6]byte{0x00, 0x50, 0x56, 0x00, 0x00, 0x01}
	peerMAC  = [6]byte{0x00, 0x50, 0x56, 0x00, 0x00, 0x02}
	bcastMAC = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

func tcpFrame(dir profile.Direction, vlan, dport uint16) profile.Frame {
	return profile.Frame{Dir: dir, Src: vmMAC, Dst: peerMAC, VLAN: vlan, EtherType: 0x0800,
		SrcIP: netip.MustParseAddr("10.0.0.1"), DstIP: netip.MustParseAddr("10.0.0.2"),
		Protocol: 6, SrcPort: 33000, DstPort: dport, Len: 64}
}

// policyFor compiles one profile of evalConfig onto a fresh VEth.
func policyFor(t testing.TB, name string) *profile.VEth {
	t.Helper()
	cfg, err := profile.Parse(evalConfig)
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	p, err := profile.Compile(cfg, name)
	require.NoError(t, err)
	v := &profile.VEth{}
	v.SetPolicy(p)
	return v
}

func TestEvaluate(t *testing.T) {
	arp := profile.Frame{Dir: profile.In, Src: vmMAC, Dst: peerMAC, EtherType: 0x0806, Len: 60}
	bcast := arp
	bcast.Dst = bcastMAC
	udp53 := tcpFrame(profile.In, 0, 53)
	udp53.Protocol = 17
	gold := profile.Marking{SetCoS: true, CoS: 5, SetDSCP: true, DSCP: 46}
	tests := []struct {
		name    string
		profile string
		frame   profile.Frame
		want    profile.Verdict
	}{
		{"access: untagged in joins the access VLAN and is marked", "acc", tcpFrame(profile.In, 0, 80), profile.Verdict{VLAN: 10, Mark: gold}},
		{"access: a frame tagged with the access VLAN is taken", "acc", tcpFrame(profile.In, 10, 80), profile.Verdict{VLAN: 10, Mark: gold}},
		{"access: another VLAN tag is dropped", "acc", tcpFrame(profile.In, 11, 80), profile.Verdict{Drop: profile.DropVLAN, VLAN: 11}},
		{"access: out in the access VLAN leaves untagged, unmarked (policy is input only)", "acc", tcpFrame(profile.Out, 10, 22), profile.Verdict{VLAN: 10, Untagged: true}},
		{"access: out in another VLAN is dropped", "acc", tcpFrame(profile.Out, 12, 80), profile.Verdict{Drop: profile.DropVLAN, VLAN: 12}},
		{"ip access-group: tcp/22 hits the implicit deny", "acc", tcpFrame(profile.In, 0, 22), profile.Verdict{Drop: profile.DropIPACL, VLAN: 10}},
		{"ip access-group: udp/53 is permitted by entry 20", "acc", udp53, profile.Verdict{VLAN: 10, Mark: gold}},
		{"ip access-group does not apply to non-IP frames", "acc", arp, profile.Verdict{VLAN: 10, Mark: gold}},
		{"mac access-group: broadcast destination denied", "acc", bcast, profile.Verdict{Drop: profile.DropMACACL, VLAN: 10}},
		{"trunk: untagged in joins the native VLAN", "trk", tcpFrame(profile.In, 0, 22), profile.Verdict{VLAN: 15}},
		{"trunk: allowed tag kept", "trk", tcpFrame(profile.In, 12, 22), profile.Verdict{VLAN: 12}},
		{"trunk: VLAN outside the allowed list dropped", "trk", tcpFrame(profile.In, 21, 22), profile.Verdict{Drop: profile.DropVLAN, VLAN: 21}},
		{"trunk: native VLAN leaves untagged", "trk", tcpFrame(profile.Out, 15, 22), profile.Verdict{VLAN: 15, Untagged: true}},
		{"trunk: other allowed VLAN leaves tagged", "trk", tcpFrame(profile.Out, 11, 22), profile.Verdict{VLAN: 11}},
		{"defaults: access VLAN 1", "policed", tcpFrame(profile.In, 0, 1), profile.Verdict{VLAN: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := policyFor(t, tc.profile)
			assert.Equal(t, tc.want, v.Evaluate(&tc.frame, 0))
		})
	}
}

func TestEvaluateWithoutPolicy(t *testing.T) {
	var v profile.VEth
	f := tcpFrame(profile.In, 0, 80)
	assert.Equal(t, profile.DropNoPolicy, v.Evaluate(&f, 0).Drop)
	v = *policyFor(t, "acc")
	v.SetPolicy(nil)
	assert.Equal(t, profile.DropNoPolicy, v.Evaluate(&f, 0).Drop)
}

func TestPolicer(t *testing.T) {
	// cir 1 mbps, bc 3000 bytes: two 1500-byte frames fill the burst; the
	// bucket regains 1500 bytes in 12 ms.
	v := policyFor(t, "policed")
	f := tcpFrame(profile.Out, 1, 80)
	f.Len = 1500
	const ms = int64(1_000_000)
	assert.True(t, v.Evaluate(&f, 0).Admitted())
	assert.True(t, v.Evaluate(&f, 0).Admitted())
	assert.Equal(t, profile.DropPolicer, v.Evaluate(&f, 0).Drop)
	assert.Equal(t, profile.DropPolicer, v.Evaluate(&f, 11*ms).Drop)
	assert.True(t, v.Evaluate(&f, 12*ms).Admitted())
	assert.Equal(t, profile.DropPolicer, v.Evaluate(&f, 12*ms).Drop)
	in := f
	in.Dir = profile.In
	assert.True(t, v.Evaluate(&in, 12*ms).Admitted(), "the policy only polices output")
	big := f
	big.Len = 3001
	assert.Equal(t, profile.DropPolicer, v.Evaluate(&big, 1000*ms).Drop, "a frame over the burst never passes")
}

func TestPortSecurityViolations(t *testing.T) {
	mac := func(i byte) [6]byte { return [6]byte{0, 0x50, 0x56, 0, 0, i} }
	for _, tc := range []struct {
		violation string
		third     profile.DropReason
		after     profile.DropReason // a known MAC after the violation
	}{
		{"restrict", profile.DropPortSecurity, profile.DropNone},
		{"protect", profile.DropPortSecurityProtect, profile.DropNone},
		{"shutdown", profile.DropErrDisabled, profile.DropErrDisabled},
	} {
		t.Run(tc.violation, func(t *testing.T) {
			s := newStore(t, evalConfig+"port-profile secure\n  switchport port-security violation "+tc.violation+"\n",
				map[profile.VEthID]string{1: "secure"})
			var v profile.VEth
			v.SetPolicy(s.Snapshot().Policy(1))
			f := tcpFrame(profile.In, 0, 80)
			for i := byte(1); i <= 2; i++ {
				f.Src = mac(i)
				require.True(t, v.Evaluate(&f, 0).Admitted())
			}
			assert.Equal(t, 2, v.LearnedMACs())
			f.Src = mac(3)
			assert.Equal(t, tc.third, v.Evaluate(&f, 0).Drop)
			f.Src = mac(1)
			assert.Equal(t, tc.after, v.Evaluate(&f, 0).Drop)
			out := tcpFrame(profile.Out, 1, 80)
			out.Src = mac(9)
			assert.Equal(t, tc.after, v.Evaluate(&out, 0).Drop, "port security learns on input only")

			// Recovery: shut and unshut the profile, as on a switch.
			for _, edit := range []string{"port-profile secure\n  shutdown\n", "port-profile secure\n  no shutdown\n"} {
				require.NoError(t, configure(s, edit))
				v.SetPolicy(s.Snapshot().Policy(1))
				v.Evaluate(&f, 0)
			}
			f.Src = mac(3)
			assert.True(t, v.Evaluate(&f, 0).Admitted(), "after shut/no shut the vEth learns again")
		})
	}
}

func TestRecover(t *testing.T) {
	s := newStore(t, evalConfig+"port-profile secure\n  switchport port-security violation shutdown\n", map[profile.VEthID]string{1: "secure"})
	var v profile.VEth
	v.SetPolicy(s.Snapshot().Policy(1))
	f := tcpFrame(profile.In, 0, 80)
	for i := byte(1); i <= 3; i++ {
		f.Src[5] = i
		v.Evaluate(&f, 0)
	}
	require.Equal(t, profile.DropErrDisabled, v.Evaluate(&f, 0).Drop)
	v.Recover()
	assert.True(t, v.Evaluate(&f, 0).Admitted())
	assert.Equal(t, 1, v.LearnedMACs())
}

// An edit that leaves the policer alone must not refill its bucket (or an
// admin's unrelated change would let a burst through); changing the policer
// starts a fresh bucket.
func TestPolicySwapKeepsPolicerState(t *testing.T) {
	s := newStore(t, evalConfig, map[profile.VEthID]string{1: "policed"})
	var v profile.VEth
	v.SetPolicy(s.Snapshot().Policy(1))
	f := tcpFrame(profile.Out, 1, 80)
	f.Len = 1500
	v.Evaluate(&f, 0)
	v.Evaluate(&f, 0)
	require.Equal(t, profile.DropPolicer, v.Evaluate(&f, 0).Drop)

	require.NoError(t, configure(s, "port-profile policed\n  description edited\n  switchport access vlan 1\n"))
	p := s.Snapshot().Policy(1)
	require.NotSame(t, v.Policy(), p, "the edit must deliver a new policy")
	v.SetPolicy(p)
	assert.Equal(t, profile.DropPolicer, v.Evaluate(&f, 0).Drop, "bucket kept across an unrelated edit")

	require.NoError(t, configure(s, "policy-map type qos slow\n  police cir 2 mbps bc 3 kbytes\n"))
	v.SetPolicy(s.Snapshot().Policy(1))
	assert.True(t, v.Evaluate(&f, 0).Admitted(), "new policer, new full bucket")
}

func TestFrameLoad(t *testing.T) {
	b := []byte{
		0x00, 0x50, 0x56, 0, 0, 2, 0x00, 0x50, 0x56, 0, 0, 1, // dst, src
		0x81, 0x00, 0x60, 0x0a, 0x08, 0x00, // 802.1Q PCP 3 VID 10, IPv4
		0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4, DF, TCP
		0x80, 0xe8, 0x00, 0x50, // ports 33000 -> 80
	}
	var f profile.Frame
	require.True(t, f.Load(profile.In, b))
	want := tcpFrame(profile.In, 10, 80)
	want.Len = uint32(len(b))
	assert.Equal(t, want, f)
	assert.False(t, f.Load(profile.In, b[:13]))
	require.True(t, f.Load(profile.In, b[:30]))
	assert.False(t, f.SrcIP.IsValid(), "truncated IPv4 header leaves the IP fields zero")
}

// TestNoAllocs: per-frame work allocates nothing, through the whole
// pipeline (VLAN, port security, both access lists, policer, marking).
func TestNoAllocs(t *testing.T) {
	cfg := evalConfig + `
policy-map type qos both
  set cos 3
  police cir 100 gbps bc 1000 mbytes
port-profile full
  switchport mode trunk
  switchport trunk allowed vlan 1-100
  ip access-group web in
  ip access-group web out
  mac access-group nobcast in
  mac access-group nobcast out
  service-policy type qos input both
  service-policy type qos output both
  switchport port-security
  switchport port-security maximum 100
  state enabled
`
	s := newStore(t, cfg, map[profile.VEthID]string{1: "full"})
	var v profile.VEth
	v.SetPolicy(s.Snapshot().Policy(1))
	in, out := tcpFrame(profile.In, 10, 80), tcpFrame(profile.Out, 10, 22)
	var frame profile.Frame
	raw := make([]byte, 64)
	copy(raw, []byte{0, 0x50, 0x56, 0, 0, 2, 0, 0x50, 0x56, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0, 40})
	now := int64(0)
	v.Evaluate(&in, now) // the first frame after a policy change sets up state
	for name, f := range map[string]func(){
		"Evaluate in":  func() { now++; sinkVerdict = v.Evaluate(&in, now) },
		"Evaluate out": func() { now++; sinkVerdict = v.Evaluate(&out, now) },
		"Frame.Load":   func() { frame.Load(profile.In, raw) },
		"SetPolicy":    func() { v.SetPolicy(v.Policy()) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocs per frame, want 0", name, n)
		}
	}
	assert.True(t, v.Evaluate(&in, now).Admitted())
	assert.Equal(t, profile.DropIPACL, v.Evaluate(&out, now).Drop)
}

var sinkVerdict profile.Verdict
