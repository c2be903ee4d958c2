package profile

import (
	"errors"
	"testing"

	"pgregory.net/rapid"
)

// Parse → print → parse is the identity, and printing is stable.
func TestPropertyParsePrintRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		want := genConfig(t)
		text := want.Text()
		got, err := Parse(text)
		if err != nil {
			t.Fatalf("printed config does not parse: %v\n%s", err, text)
		}
		if !got.Equal(want) {
			t.Fatalf("round trip changed the config\nprinted:\n%s\nreprinted:\n%s", text, got.Text())
		}
		if again := got.Text(); again != text {
			t.Fatalf("printing is not stable:\n%s\nvs\n%s", text, again)
		}
	})
}

// modelChain follows inherit links independently of Resolve: the chain, and
// whether it loops or breaks.
func modelChain(c *Config, name string) (chain []string, cycle, missing bool) {
	seen := map[string]bool{}
	for cur := name; cur != ""; cur = c.Profiles[cur].Inherit {
		if seen[cur] {
			return chain, true, false
		}
		if _, ok := c.Profiles[cur]; !ok {
			return chain, false, true
		}
		seen[cur] = true
		chain = append(chain, cur)
	}
	return chain, false, false
}

// Inheritance laws: a profile's own settings win, everything else comes
// from the nearest ancestor that sets it (or the default); resolving is
// idempotent; cycles and chains deeper than MaxInheritDepth are refused.
func TestPropertyInheritanceLaws(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := NewConfig()
		names := rapid.SliceOfNDistinct(genName, 1, 9, rapid.ID).Draw(t, "names")
		for _, n := range names {
			p := genProfile(t, n)
			p.Type = Vethernet
			p.Inherit = ""
			if rapid.IntRange(0, 4).Draw(t, "inherits") > 0 {
				if parent := rapid.SampledFrom(names).Draw(t, "parent"); parent != n {
					p.Inherit = parent
				}
			}
			c.Profiles[n] = p
		}
		name := rapid.SampledFrom(names).Draw(t, "resolve")
		chain, cycle, _ := modelChain(c, name)
		r, err := c.Resolve(name)
		switch {
		case cycle:
			if !errors.Is(err, ErrInheritCycle) {
				t.Fatalf("cycle through %v: got %v, want ErrInheritCycle", chain, err)
			}
			return
		case len(chain)-1 > MaxInheritDepth:
			if !errors.Is(err, ErrInheritDepth) {
				t.Fatalf("chain %v (%d links): got %v, want ErrInheritDepth", chain, len(chain)-1, err)
			}
			return
		case err != nil:
			t.Fatalf("chain %v: unexpected %v", chain, err)
		}
		var defaults Settings
		defaults.applyDefaults()
		for bit := range attrCount {
			a := Attrs(1) << bit
			// The nearest profile in the chain that sets a decides.
			owner := ""
			for _, n := range chain {
				if c.Profiles[n].Set&a != 0 {
					owner = n
					break
				}
			}
			switch {
			case owner == "":
				if !r.Settings.sameAttr(&defaults, a) || r.Source(a) != "" {
					t.Fatalf("attr %#x set nowhere in %v but resolved to non-default (source %q)", a, chain, r.Source(a))
				}
			default:
				own := c.Profiles[owner].Settings
				if !r.Settings.sameAttr(&own, a) || r.Source(a) != owner {
					t.Fatalf("attr %#x: want value of %s (nearest setter in %v), got source %q", a, owner, chain, r.Source(a))
				}
			}
		}
		// Idempotence: a profile that sets exactly the resolved settings,
		// with no parent, resolves to the same settings.
		flat := c.Clone()
		fp := r.Profile
		fp.Name, fp.Inherit, fp.Settings = "flattened", "", r.Settings
		flat.Profiles["flattened"] = fp
		r2, err := flat.Resolve("flattened")
		if err != nil {
			t.Fatal(err)
		}
		if r2.Settings != r.Settings {
			t.Fatalf("resolving the resolved settings changed them")
		}
		r3, _ := c.Resolve(name)
		if r3.Settings != r.Settings {
			t.Fatalf("Resolve is not deterministic")
		}
	})
}

// The compiled classifier returns exactly the entry a first-match scan
// finds, for ip and mac access lists of up to 300 entries (several 64-entry
// blocks).
func TestPropertyCompiledACLEqualsFirstMatch(t *testing.T) {
	var ipHits, macHits, big int
	defer func() {
		// The pools are meant to make entries match; a run where nothing
		// ever matched would compare only misses.
		if ipHits == 0 || macHits == 0 || big == 0 {
			t.Errorf("generated cases too weak: %d ip hits, %d mac hits, %d ACLs over 64 entries", ipHits, macHits, big)
		}
	}()
	rapid.Check(t, func(t *rapid.T) {
		ip := IPACL{Name: "a", Entries: genIPEntries(t, 300)}
		mac := MACACL{Name: "m", Entries: genMACEntries(t, 300)}
		cip, cmac := compileIPACL(&ip), compileMACACL(&mac)
		if len(ip.Entries) > 64 || len(mac.Entries) > 64 {
			big++
		}
		for range rapid.IntRange(1, 40).Draw(t, "frames") {
			f := genFrame(t)
			vlan := rapid.SampledFrom([]uint16{1, 10, 4094}).Draw(t, "vlan")
			var k keyVector
			macKeys(&f, vlan, &k)
			got, want := cmac.cls.lookup(&k), mac.FirstMatch(&f, vlan)
			if got != want {
				t.Fatalf("mac lookup = %d, first match = %d\nframe %+v vlan %d", got, want, f, vlan)
			}
			if want >= 0 {
				macHits++
			}
			if f.SrcIP.Is4() {
				ipKeys(&f, &k)
				got, want := cip.cls.lookup(&k), ip.FirstMatch(&f)
				if got != want {
					t.Fatalf("ip lookup = %d, first match = %d\nframe %+v", got, want, f)
				}
				if want >= 0 {
					ipHits++
				}
			}
		}
	})
}

// The policer never admits more than cir·t + burst bytes over any interval
// [t_i, t_j] between two frames, and it does admit a frame that fits the
// burst after the bucket had time to refill completely.
func TestPropertyPolicerBound(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := Police{CIR: rapid.Uint64Range(MinCIR, 10_000_000_000).Draw(t, "cir"), Burst: rapid.Uint64Range(MinBurst, 1_000_000).Draw(t, "bc")}
		var b tokenBucket
		b.configure(p)
		type arrival struct {
			at     int64
			length uint64
		}
		var admitted []arrival
		now := rapid.Int64Range(-1e12, 1e12).Draw(t, "start")
		last := now
		for i := range rapid.IntRange(1, 200).Draw(t, "frames") {
			gap := rapid.Int64Range(0, 10_000_000).Draw(t, "gap")
			now += gap
			length := uint32(rapid.IntRange(64, 9216).Draw(t, "len"))
			ok := b.admit(now, length)
			// Liveness: after a full refill a frame within the burst passes.
			refill := int64(p.Burst*tokensPerByte/p.CIR) + 1
			if i > 0 && now-last >= refill && uint64(length) <= p.Burst && !ok {
				t.Fatalf("frame of %d bytes dropped after %d ns idle (full refill takes %d ns)", length, now-last, refill)
			}
			last = now
			if ok {
				admitted = append(admitted, arrival{now, uint64(length)})
			}
		}
		for i := range admitted {
			var sum uint64
			for j := i; j < len(admitted); j++ {
				sum += admitted[j].length
				elapsed := uint64(admitted[j].at - admitted[i].at)
				if sum*tokensPerByte > p.Burst*tokensPerByte+p.CIR*elapsed {
					t.Fatalf("admitted %d bytes in %d ns with cir %d bps, bc %d bytes", sum, elapsed, p.CIR, p.Burst)
				}
			}
		}
	})
}
