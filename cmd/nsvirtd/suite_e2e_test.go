package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
)

// virshStep is one virsh command of the scripted suite and what its
// output must contain.
type virshStep struct {
	args []string
	want []string
}

// TestVirshSuite runs virsh, as a user would, through the commands nsvirt
// supports, one after another on one container.
func TestVirshSuite(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	file := writeFile(t, d.dir, "vs1.xml", containerSpec{name: "vs1", root: root, markers: markers}.xml())
	steps := []virshStep{
		{[]string{"uri"}, []string{"lxc:///system"}},
		{[]string{"version"}, []string{"Running hypervisor: LXC"}},
		{[]string{"hostname"}, nil},
		{[]string{"nodeinfo"}, []string{"CPU(s):"}},
		{[]string{"capabilities"}, []string{"<os_type>exe</os_type>"}},
		{[]string{"sysinfo"}, []string{"<sysinfo"}},
		{[]string{"nodememstats"}, []string{"total"}},
		{[]string{"nodecpustats"}, []string{"user:"}},
		{[]string{"nodecpumap"}, []string{"CPUs present:"}},
		{[]string{"freecell", "--all"}, []string{"Total:"}},
		{[]string{"define", file}, []string{"Domain 'vs1' defined"}},
		{[]string{"list", "--all"}, []string{"vs1", "shut off"}},
		{[]string{"domstate", "--reason", "vs1"}, []string{"shut off (unknown)"}},
		{[]string{"desc", "vs1", "--config", "a test domain"}, nil},
		{[]string{"desc", "vs1"}, []string{"a test domain"}},
		{[]string{"autostart", "vs1"}, []string{"marked as autostarted"}},
		{[]string{"autostart", "--disable", "vs1"}, []string{"unmarked as autostarted"}},
		{[]string{"setmaxmem", "vs1", "262144", "--config"}, nil},
		{[]string{"setmem", "vs1", "196608", "--config"}, nil},
		{[]string{"schedinfo", "vs1", "--set", "cpu_shares=512"}, []string{"cpu_shares     : 512"}},
		{[]string{"memtune", "vs1", "--hard-limit", "200000", "--config"}, nil},
		{[]string{"start", "vs1"}, []string{"Domain 'vs1' started"}},
		{[]string{"domstate", "--reason", "vs1"}, []string{"running (booted)"}},
		{[]string{"dominfo", "vs1"}, []string{"State:          running", "Max memory:     262144 KiB"}},
		{[]string{"domuuid", "vs1"}, nil},
		{[]string{"dumpxml", "vs1"}, []string{"<domain type='lxc' id=", "<alias name='console0'/>"}},
		{[]string{"memtune", "vs1"}, []string{"hard_limit     : 200000"}},
		{[]string{"setmem", "vs1", "131072", "--live"}, nil},
		{[]string{"schedinfo", "vs1"}, []string{"cpu_shares     : 512"}},
		{[]string{"blkiotune", "vs1"}, []string{"weight"}},
		{[]string{"dommemstat", "vs1"}, []string{"actual 131072", "rss"}},
		{[]string{"domblkstat", "vs1"}, []string{"rd_req"}},
		{[]string{"cpu-stats", "vs1", "--total"}, []string{"cpu_time"}},
		{[]string{"domstats", "vs1"}, []string{"state.state=1", "cpu.time="}},
		{[]string{"lxc-enter-namespace", "vs1", "--noseclabel", "--", "/bin/hostname"}, []string{"vs1"}},
		{[]string{"send-process-signal", "vs1", "1", "SIGCONT"}, nil},
		{[]string{"suspend", "vs1"}, []string{"Domain 'vs1' suspended"}},
		{[]string{"domstate", "--reason", "vs1"}, []string{"paused (user)"}},
		{[]string{"resume", "vs1"}, []string{"Domain 'vs1' resumed"}},
		{[]string{"reboot", "vs1"}, []string{"Domain 'vs1' is being rebooted"}},
		{[]string{"domstate", "--reason", "vs1"}, []string{"running"}},
		{[]string{"shutdown", "vs1"}, []string{"Domain 'vs1' is being shutdown"}},
	}
	for _, st := range steps {
		if st.args[0] == "reboot" {
			os.Remove(filepath.Join(markers, "vs1.ready"))
		}
		if st.args[0] == "shutdown" {
			waitMarker(t, markers, "vs1") // the rebooted init is up
		}
		out := d.virsh(st.args...)
		wantContains(t, out, st.want...)
	}
	waitFor(t, "vs1 to shut down", 15*time.Second, func() bool {
		return strings.Contains(d.virsh("domstate", "--reason", "vs1"), "shut off (shutdown)")
	})
	for _, st := range []virshStep{
		{[]string{"start", "vs1"}, nil},
		{[]string{"destroy", "vs1"}, []string{"Domain 'vs1' destroyed"}},
		{[]string{"domstate", "--reason", "vs1"}, []string{"shut off (destroyed)"}},
		{[]string{"undefine", "vs1"}, []string{"Domain 'vs1' has been undefined"}},
		{[]string{"create", file}, []string{"Domain 'vs1' created"}},
		{[]string{"destroy", "vs1"}, nil},
		{[]string{"list", "--all", "--name"}, nil},
	} {
		wantContains(t, d.virsh(st.args...), st.want...)
	}
	expectClean(t, d, root, markers)
}

// TestPythonSuite drives python3-libvirt through what management scripts
// use: lookups, info, XMLDesc, create, statistics, scheduler parameters,
// destroy and lifecycle events.
func TestPythonSuite(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	xml := containerSpec{name: "py1", root: root, markers: markers}.xml()
	out := d.python(`
import libvirt, os, threading, time
libvirt.virEventRegisterDefaultImpl()
c = libvirt.open(os.environ["URI"])
events = []
c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lambda c, d, e, det, o: events.append((d.name(), e, det)), None)
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)], daemon=True).start()
print("type", c.getType(), "lib", c.getLibVersion() >= 9000000, "host", len(c.getHostname()) > 0)
d = c.createXML(os.environ["XML"], 0)
d2 = c.lookupByName("py1")
print("lookup", d2.UUIDString() == d.UUIDString(), c.lookupByUUIDString(d.UUIDString()).name(), c.lookupByID(d.ID()).name())
info = d.info()
print("info", info[0], info[1], info[3])
print("state", d.state())
print("xml", "<name>py1</name>" in d.XMLDesc(0))
ms = d.memoryStats()
print("memstats", sorted(k for k in ms if k in ("actual", "rss", "available", "unused")))
total = d.getCPUStats(True)[0]
print("cpustats", sorted(total.keys()), len(d.getCPUStats(False)) >= 1)
print("sched", d.schedulerType(), d.schedulerParameters())
print("active", d.isActive(), d.isPersistent())
d.destroy()
time.sleep(0.5)
print("events", events)
`, "XML="+xml)
	wantContains(t, out, "type LXC lib True host True", "lookup True py1 py1", "info 1 131072 1", "state [1, 1]",
		"xml True", "memstats ['actual', 'available', 'rss', 'unused']",
		"cpustats ['cpu_time', 'system_time', 'user_time'] True",
		"sched ('posix', 3) {'cpu_shares': 1024, 'vcpu_period': 100000, 'vcpu_quota': -1}", "active 1 0",
		"events [('py1', 2, 0), ('py1', 5, 1)]")
	expectClean(t, d, root, markers)
}

// TestGoLibvirtSuite drives go-libvirt's client: define, start, lifecycle
// events, and the console stream.
func TestGoLibvirtSuite(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	l := goClient(t, d.socket)
	defer l.Disconnect()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := l.LifecycleEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dom, err := l.DomainDefineXMLFlags(containerSpec{name: "go1", root: root, markers: markers}.xml(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.DomainCreate(dom); err != nil {
		t.Fatal(err)
	}
	waitMarker(t, markers, "go1")
	// go-libvirt's event channel must be drained, or its client stalls.
	seen := make(chan int32, 16)
	go func() {
		for ev := range events {
			if ev.Dom.Name == "go1" {
				seen <- ev.Event
			}
		}
	}()
	expectEvent := func(want libvirt.DomainEventType) {
		t.Helper()
		select {
		case got := <-seen:
			if got != int32(want) {
				t.Errorf("event %d, want %d", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event %d", want)
		}
	}
	expectEvent(libvirt.DomainEventDefined)
	expectEvent(libvirt.DomainEventStarted)
	// The console: a command's output arrives on the stream, which ends
	// when the domain is destroyed.
	// The input side stays open: go-libvirt finishes the stream when its
	// reader ends.
	cons := &lockedBuffer{}
	input, typing := io.Pipe()
	defer typing.Close()
	streamDone := make(chan error, 1)
	go func() {
		streamDone <- l.DomainOpenConsoleBidirectional(dom, nil, input, cons, 0)
	}()
	go typing.Write([]byte("echo go-$((40+2))\r"))
	waitFor(t, "the command's output on the console stream", 10*time.Second, func() bool {
		return strings.Contains(cons.String(), "go-42")
	})
	if err := l.DomainDestroy(dom); err != nil {
		t.Fatal(err)
	}
	expectEvent(libvirt.DomainEventStopped)
	select {
	case err := <-streamDone:
		if err != nil {
			t.Errorf("console stream: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the console stream did not end with the domain")
	}
	if err := l.DomainUndefine(dom); err != nil {
		t.Fatal(err)
	}
	expectClean(t, d, root, markers)
}
