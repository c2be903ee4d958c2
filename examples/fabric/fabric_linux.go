//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nivkit/niv/internal/daemon/netlab"
)

const visConf = `hostname %[2]s
niv store %[1]s/%[2]s.db
niv socket %[1]s/%[2]s.sock
niv checkpoint-interval 1
niv vic keepalive 200
!
interface ethernet1/1
  description host1
  switchport mode vntag
  linux-interface %[3]s
!
interface ethernet1/2
  description host2
  switchport mode vntag
  linux-interface %[4]s
!
port-profile type vethernet web
  switchport mode access
  switchport access vlan 10
  state enabled
`

const ivConf = `hostname %[2]s
niv store %[1]s/%[2]s.db
niv socket %[1]s/%[2]s.sock
niv vic keepalive 200
!
interface uplink1
  fabric a
  switchport mode vntag
  linux-interface %[3]s
interface uplink2
  fabric b
  switchport mode vntag
  linux-interface %[4]s
!
`

const vnicConf = `vnic %s
  tap %s existing netns %s
  mac-address %s
  port-profile web
  instance-uuid 6a1f0c3e-0000-4000-8000-0000000000%02d
`

type vm struct {
	name, ns, tap, mac, ip string
	host                   int
}

func run(w io.Writer) error {
	l, err := netlab.New(fmt.Sprintf("fab%d", os.Getpid()%10000))
	if err != nil {
		return err
	}
	defer l.Close()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-stop
		fmt.Fprintln(os.Stderr, "fabric: interrupted; removing what it made")
		l.Close()
		os.Exit(130)
	}()
	say := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p := l.Prefix
	step := func(format string, a ...any) { fmt.Fprintf(w, "\n== "+format+"\n", a...) }

	step("building: fabric A and B (niv vis), host 1 and 2 (niv iv), four VMs")
	var ns = map[string]string{}
	for _, n := range []string{"visa", "visb", "host1", "host2"} {
		if ns[n], err = l.NS(n); err != nil {
			return err
		}
	}
	// Host h's uplink to fabric f is the veth pair PREFIX{h}{f}i (host
	// end) – PREFIX{h}{f}s (switch end).
	for _, h := range []string{"1", "2"} {
		for _, f := range []string{"a", "b"} {
			if err := l.Link(p+h+f+"i", ns["host"+h], p+h+f+"s", ns["vis"+f]); err != nil {
				return err
			}
		}
	}
	vms := []vm{{"vm1", "", p + "v1", "02:00:00:00:00:01", "10.20.0.1", 1}, {"vm2", "", p + "v2", "02:00:00:00:00:02", "10.20.0.2", 1},
		{"vm3", "", p + "v3", "02:00:00:00:00:03", "10.20.0.3", 2}, {"vm4", "", p + "v4", "02:00:00:00:00:04", "10.20.0.4", 2}}
	for i := range vms {
		if vms[i].ns, err = l.VM(vms[i].name, vms[i].tap, vms[i].mac, vms[i].ip); err != nil {
			return err
		}
		if err := l.Echo(vms[i].ns); err != nil {
			return err
		}
	}
	vis := map[string]*netlab.Daemon{}
	for _, f := range []string{"a", "b"} {
		name := "vis" + f
		path, err := l.Write(name+".conf", fmt.Sprintf(visConf, l.Dir, name, p+"1"+f+"s", p+"2"+f+"s"))
		if err != nil {
			return err
		}
		if vis[f], err = l.Daemon("vis", ns[name], path, l.Dir+"/"+name+".sock"); err != nil {
			return err
		}
		say("fabric %s: niv vis --config %s   (namespace %s)", strings.ToUpper(f), path, ns[name])
	}
	hosts := map[int]*netlab.Daemon{}
	for h := 1; h <= 2; h++ {
		name := fmt.Sprintf("host%d", h)
		text := fmt.Sprintf(ivConf, l.Dir, name, fmt.Sprintf("%s%dai", p, h), fmt.Sprintf("%s%dbi", p, h))
		for i, v := range vms {
			if v.host == h {
				text += fmt.Sprintf(vnicConf, v.name, v.tap, v.ns, strings.ReplaceAll(v.mac, ":", ""), i+1)
			}
		}
		path, err := l.Write(name+".conf", text)
		if err != nil {
			return err
		}
		if hosts[h], err = l.Daemon("iv", ns[name], path, l.Dir+"/"+name+".sock"); err != nil {
			return err
		}
		say("host %d: niv iv --config %s   (namespace %s)", h, path, ns[name])
	}
	if err := waitBound(l, hosts[1], "vm1", "vm2"); err != nil {
		return err
	}
	if err := waitBound(l, hosts[2], "vm3", "vm4"); err != nil {
		return err
	}
	for h := 1; h <= 2; h++ {
		out, _ := l.Niv("show", "vnic", "-s", hosts[h].Sock)
		say("\n$ niv show vnic   (host %d)\n%s", h, out)
	}

	step("traffic")
	for _, pair := range [][2]int{{0, 1}, {0, 2}, {1, 3}} {
		a, b := vms[pair[0]], vms[pair[1]]
		pg, err := l.Pinger(a.ns, b.ip)
		if err != nil {
			return err
		}
		where := "within host 1"
		if a.host != b.host {
			where = "across hosts"
		}
		if !pg.Until(5 * time.Second) {
			return fmt.Errorf("%s cannot reach %s", a.name, b.name)
		}
		var rtts []string
		for i := 0; i < 3; i++ {
			rtts = append(rtts, pg.Ping(time.Second).Round(time.Microsecond).String())
		}
		say("ping %s -> %s (%s): answered, %s", a.name, b.name, where, strings.Join(rtts, " "))
	}
	got, err := l.TCP(vms[1].ns, vms[3].ns, vms[3].ip, "hello over TCP from vm2 on host 1")
	if err != nil {
		return err
	}
	say("TCP vm2 -> vm4 (across hosts): vm4 read %q", got)

	step("migration: vm1 moves from host 1 to host 2 while vm2 pings it")
	veth := vnicVEth(l, hosts[1], "vm1")
	out, _ := l.Niv("show", "interface", "vethernet", fmt.Sprint(veth), "-s", vis["a"].Sock)
	say("$ niv show interface vethernet %d   (before)\n%s", veth, out)
	pg, err := l.Pinger(vms[1].ns, vms[0].ip)
	if err != nil {
		return err
	}
	halt, res := make(chan struct{}), make(chan [2]int)
	go func() {
		var sent, got int
		for {
			select {
			case <-halt:
				res <- [2]int{sent, got}
				return
			case <-time.After(20 * time.Millisecond):
				sent++
				if pg.Ping(50*time.Millisecond) > 0 {
					got++
				}
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	out, err = l.Niv("vnic", "move", "vm1", "-s", hosts[1].Sock, "--to", hosts[2].Sock)
	if err != nil {
		return err
	}
	say("$ niv vnic move vm1 --socket host1.sock --to host2.sock\n%s", out)
	time.Sleep(500 * time.Millisecond)
	close(halt)
	n := <-res
	say("ping vm2 -> vm1 during the move: %d of %d answered", n[1], n[0])
	out, _ = l.Niv("show", "interface", "vethernet", fmt.Sprint(veth), "-s", vis["a"].Sock)
	say("$ niv show interface vethernet %d   (after: same vEth, same profile, counters kept, now behind host 2)\n%s", veth, out)

	step("fabric A fails: its links go down; the hosts fail over to fabric B")
	down := time.Now()
	for _, h := range []string{"1", "2"} {
		if err := l.IP("-n", ns["visa"], "link", "set", p+h+"as", "down"); err != nil {
			return err
		}
	}
	if err := waitBound(l, hosts[2], "vm1", "vm3", "vm4"); err != nil {
		return err
	}
	if err := waitFabric(l, hosts[1], "b"); err != nil {
		return err
	}
	if err := waitFabric(l, hosts[2], "b"); err != nil {
		return err
	}
	if err := waitBound(l, hosts[1], "vm2"); err != nil {
		return err
	}
	say("every vNIC bound on fabric B %v after fabric A's links went down", time.Since(down).Round(time.Millisecond))
	for h := 1; h <= 2; h++ {
		out, _ := l.Niv("show", "vnic", "-s", hosts[h].Sock)
		say("$ niv show vnic   (host %d)\n%s", h, out)
	}
	for _, pair := range [][2]int{{1, 0}, {1, 3}} {
		a, b := vms[pair[0]], vms[pair[1]]
		pg, err := l.Pinger(a.ns, b.ip)
		if err != nil {
			return err
		}
		if !pg.Until(5 * time.Second) {
			return fmt.Errorf("after the failover %s cannot reach %s", a.name, b.name)
		}
		say("ping %s -> %s through fabric B: answered in %v", a.name, b.name, pg.Ping(time.Second).Round(time.Microsecond))
	}
	out, _ = l.Niv("show", "interface", "-s", vis["b"].Sock)
	say("$ niv show interface   (fabric B)\n%s", out)

	step("stopping the daemons (SIGTERM)")
	for _, d := range []*netlab.Daemon{hosts[1], hosts[2], vis["a"], vis["b"]} {
		if err := d.Stop(); err != nil {
			return err
		}
	}
	say("done; removing the namespaces and links")
	return nil
}

type vnicInfo struct {
	Name, State string
	VEth        uint32
}

func vnics(l *netlab.Lab, d *netlab.Daemon) map[string]vnicInfo {
	out, err := l.Niv("show", "vnic", "-s", d.Sock, "--json")
	var list []vnicInfo
	if err != nil || json.Unmarshal([]byte(out), &list) != nil {
		return nil
	}
	m := map[string]vnicInfo{}
	for _, v := range list {
		m[v.Name] = v
	}
	return m
}

func vnicVEth(l *netlab.Lab, d *netlab.Daemon, name string) uint32 { return vnics(l, d)[name].VEth }

func waitBound(l *netlab.Lab, d *netlab.Daemon, names ...string) error {
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		m, ok := vnics(l, d), true
		for _, n := range names {
			ok = ok && m[n].State == "bound"
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("%s: vNICs %v did not bind", d.Config, names)
}

func waitFabric(l *netlab.Lab, d *netlab.Daemon, fabric string) error {
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if out, err := l.Niv("show", "vnic", "-s", d.Sock); err == nil && strings.Contains(out, "on fabric "+fabric+": open") {
			return nil
		}
	}
	return fmt.Errorf("%s did not move to fabric %s", d.Config, fabric)
}
