package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/needs"
)

// The example runs to the end and shows what it claims: traffic, the
// vEth kept through the migration, the failover to fabric B.
func TestFabric(t *testing.T) {
	needs.Root(t)
	needs.Tool(t, "ip")
	var out bytes.Buffer
	require.NoError(t, run(&out), out.String())
	s := out.String()
	assert.Contains(t, s, "ping vm1 -> vm3 (across hosts): answered")
	assert.Contains(t, s, `TCP vm2 -> vm4 (across hosts): vm4 read "hello over TCP from vm2 on host 1"`)
	assert.Contains(t, s, "vnic vm1 moved: Vethernet1 now behind")
	assert.Contains(t, s, "Vethernet1 is up\n  Bound Interface is Ethernet1/2")
	assert.Contains(t, s, "vic session to the VIS on fabric b: open")
	assert.Contains(t, s, "ping vm2 -> vm4 through fabric B: answered")
}
