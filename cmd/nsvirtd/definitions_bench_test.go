package main

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
)

// BenchmarkDefinitions defines and undefines 1,000 domains, and compares
// `virsh list --all` over 1,000 defined domains with `virsh uri`, the
// client's own floor. Run it with -benchtime 1x (make bench does).
func BenchmarkDefinitions(b *testing.B) {
	requireTool(b, "virsh", "libvirt-clients")
	d := startDaemon(b)
	l := goClient(b, d.socket)
	defer l.Disconnect()
	const n = 1000
	xml := func(i int) string {
		return fmt.Sprintf("<domain type='lxc'><name>def%04d</name><memory unit='MiB'>64</memory>"+
			"<os><type>exe</type><init>/sbin/init</init></os><devices><console type='pty'/></devices></domain>", i)
	}
	start := time.Now()
	doms := make([]libvirt.Domain, n)
	for i := range doms {
		dom, err := l.DomainDefineXMLFlags(xml(i), 0)
		if err != nil {
			b.Fatal(err)
		}
		doms[i] = dom
	}
	define := time.Since(start)
	start = time.Now()
	for _, dom := range doms {
		if err := l.DomainUndefine(dom); err != nil {
			b.Fatal(err)
		}
	}
	undefine := time.Since(start)
	for i := 0; i < n; i++ {
		if _, err := l.DomainDefineXMLFlags(xml(i), 0); err != nil {
			b.Fatal(err)
		}
	}
	list := make([]time.Duration, benchRuns)
	uri := make([]time.Duration, benchRuns)
	for i := 0; i < benchRuns; i++ {
		uri[i] = timeCmd(b, "virsh", "-c", d.uri(), "uri")
		list[i] = timeCmd(b, "virsh", "-c", d.uri(), "list", "--all")
	}
	out, _ := exec.Command("virsh", "-c", d.uri(), "list", "--all", "--name").Output()
	if got := len(strings.Fields(string(out))); got != n {
		b.Fatalf("virsh lists %d domains, want %d", got, n)
	}
	lm, um := median(list), median(uri)
	b.ReportMetric(float64(define+undefine)/1e6, "define+undefine-ms")
	b.ReportMetric(float64(lm)/float64(um), "list/uri")
	fmt.Printf("\ndefinitions benchmark (%d domains; medians of %d runs)\n", n, benchRuns)
	fmt.Printf("  %-46s %10s  (target < 2000 ms)\n", "define 1,000 + undefine 1,000", ms(define+undefine))
	fmt.Printf("  %-46s %10s  (define %s, undefine %s)\n", "", "", ms(define), ms(undefine))
	fmt.Printf("  %-46s %10s\n", "virsh uri (client floor)", ms(um))
	fmt.Printf("  %-46s %10s  %.2fx virsh uri (target <= 1.5x)\n", "virsh list --all with 1,000 domains", ms(lm), float64(lm)/float64(um))
}

// BenchmarkPythonRPC runs the python3-libvirt loop libvirt's figures come
// from (lookupByName(x).info(), two RPCs per iteration) from one client
// process and from two at once, and reports RPCs per second.
func BenchmarkPythonRPC(b *testing.B) {
	d := startDaemon(b)
	d.virsh("define", writeFile(b, d.dir, "py1.xml", containerSpec{name: "py1", root: "/srv/py1"}.xml()))
	script := `
import os, time, libvirt
c = libvirt.open(os.environ["URI"])
n, end = 0, time.time() + 5
while time.time() < end:
    c.lookupByName("py1").info()
    n += 1
print(n * 2 / 5)
`
	rate := func(clients int) float64 {
		cmds := make([]*exec.Cmd, clients)
		outs := make([]*strings.Builder, clients)
		for i := range cmds {
			cmds[i] = exec.Command("/usr/bin/python3", "-c", script)
			cmds[i].Env = append(cmds[i].Environ(), "URI="+d.uri())
			outs[i] = &strings.Builder{}
			cmds[i].Stdout = outs[i]
			if err := cmds[i].Start(); err != nil {
				b.Fatal(err)
			}
		}
		var total float64
		for i, c := range cmds {
			if err := c.Wait(); err != nil {
				b.Fatal(err)
			}
			v, _ := strconv.ParseFloat(strings.TrimSpace(outs[i].String()), 64)
			total += v
		}
		return total
	}
	d.python("import libvirt") // fails clearly when python3-libvirt is missing
	one, two := rate(1), rate(2)
	b.ReportMetric(one, "rpc/s-1client")
	b.ReportMetric(two, "rpc/s-2clients")
	fmt.Printf("\npython3-libvirt lookupByName(x).info() loop\n")
	fmt.Printf("  %-46s %10.0f RPC/s  (libvirtd 9.0: 6,570; target >= 13,140)\n", "1 client", one)
	fmt.Printf("  %-46s %10.0f RPC/s  (libvirtd 9.0: 11,860; target >= 23,720)\n", "2 clients", two)
}
