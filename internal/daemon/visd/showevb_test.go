package visd

import "testing"

// TestLLDPIDString: Chassis ID and Port ID values (subtype byte first,
// 802.1AB 8.5.2.2 and 8.5.3.2) as show evb hosts writes them.
func TestLLDPIDString(t *testing.T) {
	for _, tc := range []struct {
		id      []byte
		chassis bool
		want    string
	}{
		{[]byte{4, 0x52, 0x54, 0, 0xaa, 0xbb, 1}, true, "5254.00aa.bb01"},  // chassis MAC address
		{[]byte{3, 0x52, 0x54, 0, 0xaa, 0xbb, 1}, false, "5254.00aa.bb01"}, // port MAC address
		{[]byte{3, 0x52, 0x54, 0, 0xaa, 0xbb, 1}, true, "525400aabb01"},    // chassis subtype 3: port component, not printable
		{[]byte{5, 'e', 't', 'h', '0'}, false, "eth0"},                     // port interface name
		{[]byte{7, 'k', 'v', 'm', '-', 'a'}, true, "kvm-a"},                // chassis locally assigned
		{[]byte{5, 1, 192, 0, 2, 7}, true, "192.0.2.7"},                    // chassis network address, IPv4
		{[]byte{4, 2, 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, false, "2001:db8::1"},
		{[]byte{5, 1, 192, 0}, true, "01c000"}, // short address: hex
		{[]byte{4}, true, ""},
	} {
		macSub, addrSub := uint8(4), uint8(5)
		if !tc.chassis {
			macSub, addrSub = 3, 4
		}
		if got := lldpIDString(tc.id, macSub, addrSub); got != tc.want {
			t.Errorf("lldpIDString(% x) = %q, want %q", tc.id, got, tc.want)
		}
	}
}
