package profile

import "strconv"

// The commands of policy-map type qos mode: marking and policing.

var rateUnits = map[string]uint64{"bps": 1, "kbps": 1e3, "mbps": 1e6, "gbps": 1e9}
var burstUnits = map[string]uint64{"bytes": 1, "kbytes": 1e3, "mbytes": 1e6}

// editQoS applies f to the open policy-map.
func (p *parser) editQoS(f func(*QoSPolicy)) error {
	q := p.cfg.QoSPolicies[p.name]
	f(&q)
	p.cfg.QoSPolicies[p.name] = q
	return nil
}

// scaled multiplies n by unit, reporting false on overflow or if the result
// is outside lo-hi.
func scaled(n, unit, lo, hi uint64) (uint64, bool) {
	if n > hi/unit {
		return 0, false
	}
	v := n * unit
	return v, v >= lo && v <= hi
}

var qosCommands = []command{
	cmd("set cos <0-7>", func(p *parser, c *cmdCtx) error {
		return p.editQoS(func(q *QoSPolicy) { q.Mark.SetCoS, q.Mark.CoS = true, uint8(c.nums[0]) })
	}),
	cmd("no set cos", func(p *parser, c *cmdCtx) error {
		return p.editQoS(func(q *QoSPolicy) { q.Mark.SetCoS, q.Mark.CoS = false, 0 })
	}),
	cmd("set dscp <0-63>", func(p *parser, c *cmdCtx) error {
		return p.editQoS(func(q *QoSPolicy) { q.Mark.SetDSCP, q.Mark.DSCP = true, uint8(c.nums[0]) })
	}),
	cmd("no set dscp", func(p *parser, c *cmdCtx) error {
		return p.editQoS(func(q *QoSPolicy) { q.Mark.SetDSCP, q.Mark.DSCP = false, 0 })
	}),
	cmd("police cir <number> {bps|kbps|mbps|gbps} bc <number> {bytes|kbytes|mbytes}", func(p *parser, c *cmdCtx) error {
		cir, ok := scaled(c.nums[0], rateUnits[c.arg(1)], MinCIR, MaxCIR)
		if !ok {
			return c.fail(0, ErrValueRange, "police cir "+c.arg(0)+" "+c.arg(1)+" is out of range; use 1 kbps to 400 gbps")
		}
		bc, ok := scaled(c.nums[2], burstUnits[c.arg(3)], MinBurst, MaxBurst)
		if !ok {
			return c.fail(2, ErrValueRange, "police bc "+c.arg(2)+" "+c.arg(3)+" is out of range; use "+
				strconv.Itoa(MinBurst)+" bytes (one full-size frame) to 1000 mbytes")
		}
		return p.editQoS(func(q *QoSPolicy) { q.Police = Police{CIR: cir, Burst: bc} })
	}),
	cmd("no police", func(p *parser, c *cmdCtx) error {
		return p.editQoS(func(q *QoSPolicy) { q.Police = Police{} })
	}),
}
