package profile_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
)

// newStore commits cfg and the bindings and returns the store.
func newStore(t *testing.T, cfg string, bind map[profile.VEthID]string) *profile.MemStore {
	t.Helper()
	s := profile.NewMemStore()
	_, err := s.Update(func(tx *profile.Txn) error {
		if err := tx.Configure(cfg); err != nil {
			return err
		}
		for v, p := range bind {
			tx.Bind(v, p)
		}
		return nil
	})
	require.NoError(t, err)
	return s
}

func configure(s profile.Store, text string) error {
	_, err := s.Update(func(tx *profile.Txn) error { return tx.Configure(text) })
	return err
}

// TestSpecSemantics pins the rules of spec/profile.md, one row each.
func TestSpecSemantics(t *testing.T) {
	const base = `
port-profile grand
  switchport mode access
  switchport access vlan 10
  state enabled
port-profile parent
  inherit port-profile grand
  switchport access vlan 20
  state enabled
port-profile child
  inherit port-profile parent
  shutdown
  state enabled
`
	tests := []struct {
		name  string
		edit  string
		bind  map[profile.VEthID]string
		want  error  // nil: the edit commits
		msg   string // part of the error text
		check func(t *testing.T, st *profile.State)
	}{
		{
			name: "child settings override the parent's (NXOS)",
			check: func(t *testing.T, st *profile.State) {
				r, err := st.Config.Resolve("parent")
				require.NoError(t, err)
				assert.Equal(t, uint16(20), r.Settings.AccessVLAN)
				assert.Equal(t, "parent", r.Source(profile.AttrAccessVLAN))
				assert.Equal(t, "grand", r.Source(profile.AttrMode))
			},
		},
		{
			name: "a child receives every parent command it does not configure (NXOS)",
			check: func(t *testing.T, st *profile.State) {
				r, err := st.Config.Resolve("child")
				require.NoError(t, err)
				assert.Equal(t, uint16(20), r.Settings.AccessVLAN)
				assert.True(t, r.Settings.Shutdown)
				assert.Equal(t, []string{"child", "parent", "grand"}, r.Chain)
			},
		},
		{
			name: "four levels of inheritance are accepted (NXOS)",
			edit: "port-profile l3\n  inherit port-profile child\nport-profile l4\n  inherit port-profile l3\n",
			check: func(t *testing.T, st *profile.State) {
				r, err := st.Config.Resolve("l4")
				require.NoError(t, err)
				assert.Len(t, r.Chain, 5)
			},
		},
		{
			name: "a fifth level is refused",
			edit: "port-profile l3\n  inherit port-profile child\nport-profile l4\n  inherit port-profile l3\nport-profile l5\n  inherit port-profile l4\n",
			want: profile.ErrInheritDepth, msg: "5 levels deep",
		},
		{
			name: "an inheritance cycle is refused",
			edit: "port-profile grand\n  inherit port-profile child\n",
			want: profile.ErrInheritCycle, msg: "loops back",
		},
		{
			name: "a profile cannot inherit itself",
			edit: "port-profile grand\n  inherit port-profile grand\n",
			want: profile.ErrInheritCycle, msg: "cannot inherit itself",
		},
		{
			name: "deleting a parent other profiles inherit is refused (NXOS)",
			edit: "no port-profile parent\n",
			want: profile.ErrInUse, msg: "port-profile child",
		},
		{
			name: "deleting a profile bound to vEths is refused, naming them (niv)",
			bind: map[profile.VEthID]string{3: "child", 4: "child"},
			edit: "no port-profile child\n",
			want: profile.ErrInUse, msg: "Vethernet3, Vethernet4",
		},
		{
			name: "deleting an unused leaf profile is allowed",
			edit: "no port-profile child\n",
			check: func(t *testing.T, st *profile.State) {
				assert.NotContains(t, st.Config.Profiles, "child")
			},
		},
		{
			name: "disabling a profile in use takes its vEths down with a reason (niv)",
			bind: map[profile.VEthID]string{3: "parent"},
			edit: "port-profile parent\n  no state enabled\n",
			check: func(t *testing.T, st *profile.State) {
				assert.Equal(t, profile.DropProfileDisabled, st.Policy(3).Down())
			},
		},
		{
			name: "a disabled profile may be bound first and enabled later (NXOS)",
			edit: "port-profile late\n  inherit port-profile grand\n",
			bind: map[profile.VEthID]string{9: "late"},
			check: func(t *testing.T, st *profile.State) {
				assert.Equal(t, profile.DropProfileDisabled, st.Policy(9).Down())
			},
		},
		{
			name: "shutdown in a profile shuts every member port (NXOS)",
			bind: map[profile.VEthID]string{1: "child", 2: "child"},
			check: func(t *testing.T, st *profile.State) {
				assert.Equal(t, profile.DropShutdown, st.Policy(1).Down())
				assert.Equal(t, profile.DropShutdown, st.Policy(2).Down())
			},
		},
		{
			name: "state enabled is the profile's own, not inherited",
			edit: "port-profile grand\n  no state enabled\n",
			bind: map[profile.VEthID]string{1: "parent"},
			check: func(t *testing.T, st *profile.State) {
				assert.Equal(t, profile.DropNone, st.Policy(1).Down())
			},
		},
		{
			name: "an ethernet profile cannot inherit a vethernet one",
			edit: "port-profile type ethernet up\n  inherit port-profile grand\n",
			want: profile.ErrTypeMismatch, msg: "cannot inherit vethernet",
		},
		{
			name: "a vEth cannot bind to an ethernet (uplink) profile",
			edit: "port-profile type ethernet up\n  switchport mode trunk\n",
			bind: map[profile.VEthID]string{5: "up"},
			want: profile.ErrTypeMismatch, msg: "uplink",
		},
		{
			name: "binding to an undefined profile is refused",
			bind: map[profile.VEthID]string{5: "nosuch"},
			want: profile.ErrUndefined, msg: "Vethernet5",
		},
		{
			name: "max-ports limits the vEths bound to a profile",
			edit: "port-profile parent\n  max-ports 2\n",
			bind: map[profile.VEthID]string{1: "parent", 2: "parent", 3: "parent"},
			want: profile.ErrMaxPorts, msg: "3 vEths are bound but max-ports is 2",
		},
		{
			name: "max-ports defaults to 32",
			bind: func() map[profile.VEthID]string {
				m := map[profile.VEthID]string{}
				for i := range 33 {
					m[profile.VEthID(i)] = "parent"
				}
				return m
			}(),
			want: profile.ErrMaxPorts, msg: "max-ports is 32",
		},
		{
			name: "a trunk command inherited into access mode is refused",
			edit: "port-profile t\n  switchport mode trunk\n  switchport trunk allowed vlan 10-20\nport-profile a\n  inherit port-profile t\n  switchport mode access\n",
			want: profile.ErrModeConflict, msg: "(inherited from port-profile t)",
		},
		{
			name: "system VLANs must be allowed on the trunk",
			edit: "port-profile t\n  switchport mode trunk\n  switchport trunk allowed vlan 10-20\n  system vlan 30\n",
			want: profile.ErrModeConflict, msg: "system vlan 30",
		},
		{
			name: "trunk allowed vlan add starts from the default, all VLANs",
			edit: "port-profile t\n  switchport mode trunk\n  switchport trunk allowed vlan remove 2-4094\n  switchport trunk allowed vlan add 7\n",
			check: func(t *testing.T, st *profile.State) {
				assert.Equal(t, "1,7", st.Config.Profiles["t"].AllowedVLANs.String())
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, base, nil)
			before := s.Snapshot()
			rev, err := s.Update(func(tx *profile.Txn) error {
				if err := tx.Configure(tc.edit); err != nil {
					return err
				}
				for v, p := range tc.bind {
					tx.Bind(v, p)
				}
				return nil
			})
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				assert.Contains(t, err.Error(), tc.msg)
				assert.Same(t, before, s.Snapshot(), "a refused edit must leave the store unchanged")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, before.Revision+1, rev)
			tc.check(t, s.Snapshot())
		})
	}
}

// TestSeedParsesAsWritten is the example, verbatim.
func TestSeedParsesAsWritten(t *testing.T) {
	cfg, err := profile.Parse("port-profile webservers\n  switchport access vlan 10\n  ip access-group 500 in\n  inherit port-profile server\n")
	require.NoError(t, err)
	p := cfg.Profiles["webservers"]
	assert.Equal(t, profile.Vethernet, p.Type)
	assert.Equal(t, uint16(10), p.AccessVLAN)
	assert.Equal(t, "500", p.IPAccessGroup[profile.In])
	assert.Equal(t, "server", p.Inherit)
	assert.Equal(t, profile.AttrAccessVLAN|profile.AttrIPACLIn, p.Set)
	// Validation wants server and access list 500 to exist.
	require.ErrorIs(t, cfg.Validate(), profile.ErrUndefined)
}

// TestParseErrors checks position, wording, sentinel and suggestion.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		src        string
		line, col  int
		want       error
		msg        string
		suggestion string
	}{
		{"port-profile p\n  switchprot access vlan 10\n", 2, 3, profile.ErrUnknownCommand, `"switchprot" is not a port-profile command`, "switchport access vlan 10"},
		{"port-profile p\n  swithcport mode trunk\n", 2, 3, profile.ErrUnknownCommand, "not a port-profile command", "switchport mode trunk"},
		{"port-profile p\n  switchport mode acess\n", 2, 19, profile.ErrSyntax, "expected {access|trunk}", "switchport mode access"},
		{"port-profile p\n  sw acc vl 10\n", 2, 3, profile.ErrUnknownCommand, "", "switchport access vlan 10"},
		{"port-profile p\n  switchport access vlan 0\n", 2, 26, profile.ErrVLANRange, "VLAN 0 means untagged", ""},
		{"port-profile p\n  switchport access vlan 4095\n", 2, 26, profile.ErrVLANRange, "reserved by IEEE 802.1Q", ""},
		{"port-profile p\n  switchport trunk allowed vlan 1-10,5000\n", 2, 33, profile.ErrVLANRange, "VLAN 5000 is out of range", ""},
		{"port-profile p\n  switchport trunk allowed vlan 20-10\n", 2, 33, profile.ErrVLANRange, "runs backwards", ""},
		{"port-profile p\n  switchport access vlan\n", 2, 25, profile.ErrSyntax, "incomplete command", "switchport access vlan <1-4094>"},
		{"port-profile p\n  max-ports 5000\n", 2, 13, profile.ErrValueRange, "max-ports 5000 is out of range; use 1-1024", ""},
		{"port-profile p\n  shutdown now\n", 2, 12, profile.ErrSyntax, `unexpected "now"`, ""},
		{"switchport access vlan 10\n", 1, 1, profile.ErrUnknownCommand, "indent it under the port-profile", ""},
		{"  switchport access vlan 10\n", 1, 3, profile.ErrUnknownCommand, "no port-profile, access-list or policy-map is open", ""},
		{"port-profile p\n  inherit port-profile bad!\n", 2, 24, profile.ErrSyntax, `name "bad!" is not valid`, ""},
		{"port-profile p\n  description \x01\n", 2, 15, profile.ErrSyntax, "control character", ""},
		{"ip access-list a\n  permitt tcp any any\n", 2, 3, profile.ErrUnknownCommand, "not an access-list command", "permit tcp any any"},
		{"ip access-list a\n  permit tcp any 1.2.3.4 eq 80\n", 2, 18, profile.ErrSyntax, "bare address is ambiguous", "host 1.2.3.4"},
		{"ip access-list a\n  permit icmp any any eq 80\n", 2, 23, profile.ErrSyntax, "need protocol tcp or udp", ""},
		{"ip access-list a\n  permit tcp any any range 90 80\n", 2, 22, profile.ErrValueRange, "runs backwards", ""},
		{"ip access-list a\n  10 permit ip any any\n  10 deny ip any any\n", 3, 3, profile.ErrDuplicate, "sequence number 10 is already used", ""},
		{"ip access-list a\n  permit tcp any\n", 2, 17, profile.ErrSyntax, "incomplete access-list entry: expected a destination", ""},
		{"mac access-list m\n  permit 0050.56zz.0000 any\n", 2, 10, profile.ErrSyntax, "not a MAC address", ""},
		{"mac access-list m\n  permit any any vlan 4095\n", 2, 23, profile.ErrVLANRange, "reserved", ""},
		{"policy-map type qos q\n  set cos 8\n", 2, 11, profile.ErrValueRange, "set cos 8 is out of range; use 0-7", ""},
		{"policy-map type qos q\n  police cir 10 mbps bc 100 bytes\n", 2, 25, profile.ErrValueRange, "one full-size frame", ""},
		{"no port-profile ghost\n", 1, 17, profile.ErrNotFound, "does not exist", ""},
		{"port-profile p\n  no ip access-group 500 in\n", 2, 22, profile.ErrNotFound, "is not configured", ""},
		{"port-profile p\n  vdp vsi-type 16777216 version 1\n", 2, 16, profile.ErrValueRange, "vdp vsi-type 16777216 is out of range; use 0-16777215", ""},
		{"port-profile p\n  vdp vsi-type 5 version 256\n", 2, 26, profile.ErrValueRange, "version 256 is out of range; use 0-255", ""},
		{"port-profile p\n  vdp vsi-type 5\n", 2, 17, profile.ErrSyntax, "expected version", ""},
		{"port-profile p\n  vdp vsi-typ 5 version 1\n", 2, 7, profile.ErrUnknownCommand, "", "vdp vsi-type 5 version 1"},
		{"port-profile p\n  vdp vsi-type 5 version 1\nport-profile q\n  vdp vsi-type 5 version 1\n", 4, 16, profile.ErrDuplicate, "already mapped by port-profile p", ""},
		{"port-profile p\n  vdp vsi-type 5 version 1\n  no vdp vsi-type 5 version 2\n", 3, 19, profile.ErrNotFound, "is not configured on port-profile p", ""},
	}
	for _, tc := range tests {
		t.Run(strings.ReplaceAll(tc.src, "\n", `\n`), func(t *testing.T) {
			_, err := profile.Parse(tc.src)
			require.ErrorIs(t, err, tc.want)
			var pe *profile.ParseError
			require.True(t, errors.As(err, &pe), "%T is not a *ParseError", err)
			assert.Equal(t, tc.line, pe.Line, "line")
			assert.Equal(t, tc.col, pe.Column, "column")
			assert.Contains(t, pe.Msg, tc.msg)
			if tc.suggestion != "" {
				assert.Equal(t, tc.suggestion, pe.Suggestion)
			}
			assert.Contains(t, err.Error(), fmt.Sprintf("line %d, column %d", tc.line, tc.col))
		})
	}
}
