package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nsvirt/nsvirt/cgroups"
)

// cgroupDir returns a running domain's directory in the hierarchy of
// controller on this host.
func cgroupDir(t testing.TB, controller string, id int, name string) string {
	t.Helper()
	l, err := cgroups.Detect()
	if err != nil {
		t.Fatal(err)
	}
	g, err := l.Group("/machine/"+cgroups.Name(id, name), cgroups.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	dir := g.Dir(controller)
	if dir == "" {
		t.Fatalf("host has no %s controller", controller)
	}
	return dir
}

// cgread reads a cgroup file of a running domain.
func cgread(t testing.TB, controller string, id int, name, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cgroupDir(t, controller, id, name), file))
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	return strings.TrimSpace(string(b))
}

func wantFile(t *testing.T, controller string, id int, name, file, want string) {
	t.Helper()
	if got := cgread(t, controller, id, name, file); got != want {
		t.Errorf("%s/%s = %q, want %q", controller, file, got, want)
	}
}

// insideCgroup is inside for work that must be charged to the container:
// the shell joins the domain's cgroups before it enters the namespaces.
func insideCgroup(t testing.TB, id int, name, script string) string {
	t.Helper()
	l, err := cgroups.Detect()
	if err != nil {
		t.Fatal(err)
	}
	g, err := l.Group("/machine/"+cgroups.Name(id, name), cgroups.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	var join strings.Builder
	for _, dir := range g.Paths() {
		fmt.Fprintf(&join, "echo $$ > %s/cgroup.procs; ", dir)
	}
	args := []string{"-c", join.String() + "exec nsenter -t " + strconv.Itoa(id) + " -m -u -i -n -p -C -- /bin/sh -c \"$0\"", script}
	out, err := exec.Command("/bin/sh", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s in %s: %v\n%s", script, name, err, out)
	}
	return string(out)
}

// loopDevice attaches a fresh image to a loop device, with the bfq
// scheduler that block I/O weights need, for the length of the test.
func loopDevice(t *testing.T) (dev string, major, minor int) {
	t.Helper()
	img := filepath.Join(t.TempDir(), "blk.raw")
	if err := os.WriteFile(img, make([]byte, 4<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--find", "--show", img).Output()
	if err != nil {
		t.Fatalf("losetup: %v", err)
	}
	dev = strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	os.WriteFile("/sys/block/"+filepath.Base(dev)+"/queue/scheduler", []byte("bfq"), 0o644)
	b, err := os.ReadFile("/sys/block/" + filepath.Base(dev) + "/dev")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Sscanf(strings.TrimSpace(string(b)), "%d:%d", &major, &minor)
	return dev, major, minor
}

// tunedTop is a definition's tuning as the tests use it.
func tunedTop(dev string) string {
	return fmt.Sprintf(`  <metadata><nsvirt:limits xmlns:nsvirt='https://nsvirt.dev/xmlns/domain/1.0'><nsvirt:pids max='300'/></nsvirt:limits></metadata>
  <vcpu cpuset='0'>1</vcpu>
  <memoryBacking><hugepages/></memoryBacking>
  <memtune><hard_limit unit='MiB'>96</hard_limit><soft_limit unit='MiB'>64</soft_limit><swap_hard_limit unit='MiB'>192</swap_hard_limit></memtune>
  <cputune><shares>512</shares><period>50000</period><quota>25000</quota></cputune>
  <numatune><memory mode='strict' nodeset='0'/></numatune>
  <blkiotune><weight>500</weight><device><path>%s</path><weight>300</weight><read_bytes_sec>1048576</read_bytes_sec><write_iops_sec>100</write_iops_sec></device></blkiotune>
`, dev)
}

// TestCgroupSettingsAtStart checks that every tuning element of a
// definition lands in cgroupfs, in the right file with the right unit.
func TestCgroupSettingsAtStart(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	dev, major, minor := loopDevice(t)
	id := d.defineAndStart(containerSpec{name: "tune1", root: root, markers: markers, top: tunedTop(dev)})
	waitMarker(t, markers, "tune1")
	mm := fmt.Sprintf("%d:%d", major, minor)
	wantFile(t, "memory", id, "tune1", "memory.limit_in_bytes", strconv.Itoa(96<<20))
	wantFile(t, "memory", id, "tune1", "memory.soft_limit_in_bytes", strconv.Itoa(64<<20))
	wantFile(t, "memory", id, "tune1", "memory.memsw.limit_in_bytes", strconv.Itoa(192<<20))
	wantFile(t, "cpu", id, "tune1", "cpu.shares", "512")
	wantFile(t, "cpu", id, "tune1", "cpu.cfs_period_us", "50000")
	wantFile(t, "cpu", id, "tune1", "cpu.cfs_quota_us", "25000")
	wantFile(t, "cpuset", id, "tune1", "cpuset.cpus", "0")
	wantFile(t, "cpuset", id, "tune1", "cpuset.mems", "0")
	wantFile(t, "pids", id, "tune1", "pids.max", "300")
	if w := cgread(t, "blkio", id, "tune1", "blkio.bfq.weight"); !strings.Contains(w, "500") {
		t.Errorf("blkio.bfq.weight = %q, want 500", w)
	}
	wantContains(t, cgread(t, "blkio", id, "tune1", "blkio.bfq.weight_device"), mm+" 300")
	wantFile(t, "blkio", id, "tune1", "blkio.throttle.read_bps_device", mm+" 1048576")
	wantFile(t, "blkio", id, "tune1", "blkio.throttle.write_iops_device", mm+" 100")
	// Huge pages are limited to the memory limit, in the hugetlb
	// controller wherever the host has it (the unified hierarchy here).
	huge, _ := filepath.Glob(fmt.Sprintf("/sys/fs/cgroup/*/machine/%s/hugetlb.2MB.*", cgroups.Name(id, "tune1")))
	var limits []string
	for _, f := range huge {
		if strings.HasSuffix(f, ".max") || strings.HasSuffix(f, ".limit_in_bytes") {
			b, _ := os.ReadFile(f)
			limits = append(limits, strings.TrimSpace(string(b)))
		}
	}
	if len(limits) == 0 || limits[0] != strconv.Itoa(96<<20) {
		t.Errorf("2 MB huge page limit %v, want %d", limits, 96<<20)
	}
	devs := cgread(t, "devices", id, "tune1", "devices.list")
	for _, rule := range []string{"c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "c 10:229 rwm", "c 136:* rwm"} {
		if !strings.Contains(devs, rule) {
			t.Errorf("devices.list lacks %q:\n%s", rule, devs)
		}
	}
	if strings.Contains(devs, "a *:* rwm") || strings.Contains(devs, "b *:*") {
		t.Errorf("devices.list allows too much:\n%s", devs)
	}
	// The container sees its own cgroup as the root of its cgroup tree.
	if out := inside(t, id, false, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes"); strings.TrimSpace(out) != strconv.Itoa(96<<20) {
		t.Errorf("memory limit inside: %q", out)
	}
	d.virsh("destroy", "tune1")
	expectClean(t, d, root, markers)
}

// TestLiveTuning drives memtune, setmem, schedinfo and blkiotune through
// virsh on running and inactive domains.
func TestLiveTuning(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	dev, major, minor := loopDevice(t)
	id := d.defineAndStart(containerSpec{name: "live1", root: root, markers: markers})
	waitMarker(t, markers, "live1")

	d.virsh("memtune", "live1", "--hard-limit", "65536", "--live")
	wantFile(t, "memory", id, "live1", "memory.limit_in_bytes", strconv.Itoa(64<<20))
	wantContains(t, d.virsh("memtune", "live1"), "hard_limit     : 65536")
	if strings.Contains(d.virsh("dumpxml", "--inactive", "live1"), "hard_limit") {
		t.Error("a --live memtune reached the persistent definition")
	}
	d.virsh("memtune", "live1", "--soft-limit", "32768", "--config")
	wantContains(t, d.virsh("dumpxml", "--inactive", "live1"), "<soft_limit unit='KiB'>32768</soft_limit>")
	if got := cgread(t, "memory", id, "live1", "memory.soft_limit_in_bytes"); got == strconv.Itoa(32<<20) {
		t.Error("a --config memtune reached the running container")
	}

	// setmem lowers the allocation and the limit in force with it.
	d.virsh("memtune", "live1", "--hard-limit", "-1", "--live")
	d.virsh("setmem", "live1", "49152", "--live")
	wantFile(t, "memory", id, "live1", "memory.limit_in_bytes", strconv.Itoa(48<<20))
	wantContains(t, d.virsh("dominfo", "live1"), "Max memory:     131072 KiB")

	d.virsh("schedinfo", "live1", "--live", "--set", "cpu_shares=2048")
	d.virsh("schedinfo", "live1", "--live", "--set", "vcpu_quota=30000")
	wantFile(t, "cpu", id, "live1", "cpu.shares", "2048")
	wantFile(t, "cpu", id, "live1", "cpu.cfs_quota_us", "30000")
	wantContains(t, d.virsh("schedinfo", "live1"), "Scheduler      : posix", "cpu_shares     : 2048", "vcpu_period    : 100000", "vcpu_quota     : 30000")

	// Bad values are refused and change nothing.
	for _, bad := range [][]string{
		{"schedinfo", "live1", "--live", "--set", "cpu_shares=1"},
		{"schedinfo", "live1", "--live", "--set", "vcpu_period=10"},
		{"memtune", "live1", "--hard-limit", "200000", "--swap-hard-limit", "100000", "--live"},
		{"blkiotune", "live1", "--weight", "50", "--live"},
		{"blkiotune", "live1", "--device-weights", "/nonexistent,200", "--live"},
		{"schedinfo", "live1", "--live", "--set", "no_such_param=1"},
	} {
		if out, errOut, err := d.virshResult(bad...); err == nil {
			t.Errorf("virsh %v succeeded: %s", bad, out)
		} else if !strings.Contains(errOut, "error:") {
			t.Errorf("virsh %v: no libvirt error: %s", bad, errOut)
		}
	}
	wantFile(t, "cpu", id, "live1", "cpu.shares", "2048")
	wantFile(t, "cpu", id, "live1", "cpu.cfs_period_us", "100000")
	wantFile(t, "memory", id, "live1", "memory.limit_in_bytes", strconv.Itoa(48<<20))

	mm := fmt.Sprintf("%d:%d", major, minor)
	// With no group weight set, a device weight set back to 0 must be
	// removed by itself (BFQ refuses "MAJ:MIN 0"; writing the group
	// weight, below, would clear it as a side effect).
	d.virsh("blkiotune", "live1", "--device-weights", dev+",300", "--live")
	wantContains(t, cgread(t, "blkio", id, "live1", "blkio.bfq.weight_device"), mm+" 300")
	d.virsh("blkiotune", "live1", "--device-weights", dev+",0", "--live")
	if got := cgread(t, "blkio", id, "live1", "blkio.bfq.weight_device"); strings.Contains(got, mm) {
		t.Errorf("bfq.weight_device still weighs %s after its weight was set to 0: %q", mm, got)
	}
	d.virsh("blkiotune", "live1", "--weight", "700", "--live")
	d.virsh("blkiotune", "live1", "--device-weights", dev+",250", "--device-read-bytes-sec", dev+",2097152", "--live")
	if w := cgread(t, "blkio", id, "live1", "blkio.bfq.weight"); !strings.Contains(w, "700") {
		t.Errorf("blkio.bfq.weight = %q, want 700", w)
	}
	wantContains(t, cgread(t, "blkio", id, "live1", "blkio.bfq.weight_device"), mm+" 250")
	wantFile(t, "blkio", id, "live1", "blkio.throttle.read_bps_device", mm+" 2097152")
	wantContains(t, d.virsh("blkiotune", "live1"), "weight         : 700", "device_weight  : "+dev+",250", "device_read_bytes_sec: "+dev+",2097152")
	// Zero removes a limit, from the definition and from the cgroup, also
	// when the device has no setting left.
	d.virsh("blkiotune", "live1", "--device-read-bytes-sec", dev+",0", "--device-weights", dev+",0", "--live")
	if got := cgread(t, "blkio", id, "live1", "blkio.throttle.read_bps_device"); strings.Contains(got, mm) {
		t.Errorf("read_bps_device still limits %s: %q", mm, got)
	}
	if got := cgread(t, "blkio", id, "live1", "blkio.bfq.weight_device"); strings.Contains(got, mm) {
		t.Errorf("bfq.weight_device still weighs %s: %q", mm, got)
	}
	if out := d.virsh("blkiotune", "live1"); strings.Contains(out, dev) {
		t.Errorf("the removed limit is still listed:\n%s", out)
	}

	// An inactive domain: schedinfo reads and changes its definition
	// (libvirt's LXC driver crashes here).
	d.virsh("destroy", "live1")
	wantContains(t, d.virsh("schedinfo", "live1"), "cpu_shares     : 1024")
	d.virsh("schedinfo", "live1", "--set", "cpu_shares=4096")
	d.virsh("schedinfo", "live1", "--config", "--set", "vcpu_period=200000")
	wantContains(t, d.virsh("dumpxml", "live1"), "<shares>4096</shares>", "<period>200000</period>")
	if _, errOut, err := d.virshResult("schedinfo", "live1", "--live", "--set", "cpu_shares=10"); err == nil || !strings.Contains(errOut, "domain is not running") {
		t.Errorf("live schedinfo on an inactive domain: %v %s", err, errOut)
	}
	d.virsh("start", "live1")
	id = d.domid("live1")
	wantFile(t, "cpu", id, "live1", "cpu.shares", "4096")
	wantFile(t, "cpu", id, "live1", "cpu.cfs_period_us", "200000")
	d.virsh("destroy", "live1")
	expectClean(t, d, root, markers)
}

// TestStatistics checks dominfo, dommemstat, domblkstat, cpu-stats and
// domstats against a running container.
func TestStatistics(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	work := t.TempDir()
	img := ext4Image(t, work)
	extra := fmt.Sprintf("    <filesystem type='file'><driver type='loop' format='raw'/><source file='%s'/><target dir='/img'/></filesystem>\n", img)
	id := d.defineAndStart(containerSpec{name: "stat1", root: root, markers: markers, extra: extra})
	waitMarker(t, markers, "stat1")
	insideCgroup(t, id, "stat1", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done")
	wantContains(t, d.virsh("dominfo", "stat1"), "State:          running", "Max memory:     131072 KiB")
	info := d.virsh("dominfo", "stat1")
	if m := regexp.MustCompile(`Used memory:\s+(\d+) KiB`).FindStringSubmatch(info); m == nil || m[1] == "131072" || m[1] == "0" {
		t.Errorf("dominfo does not show the cgroup's memory usage:\n%s", info)
	}
	if m := regexp.MustCompile(`CPU time:\s+([\d.]+)s`).FindStringSubmatch(info); m == nil {
		t.Errorf("dominfo shows no CPU time:\n%s", info)
	}
	mem := d.virsh("dommemstat", "stat1")
	wantContains(t, mem, "actual 131072", "rss ", "available 131072", "unused ", "usable ", "disk_caches ", "major_fault ", "minor_fault ")
	if strings.Contains(mem, "swap_in") {
		t.Errorf("dommemstat reports swap usage as swap_in:\n%s", mem)
	}

	// I/O on the image's loop device shows in its counters.
	insideCgroup(t, id, "stat1", "dd if=/dev/zero of=/img/data bs=64k count=16 oflag=direct conv=fsync 2>&1")
	blk := d.virsh("domblkstat", "stat1", "/img")
	if m := regexp.MustCompile(`wr_bytes (\d+)`).FindStringSubmatch(blk); m == nil {
		t.Errorf("domblkstat /img shows no bytes written:\n%s", blk)
	} else if n, _ := strconv.Atoi(m[1]); n < 1<<20 {
		t.Errorf("domblkstat /img shows too few bytes written:\n%s", blk)
	}
	wantContains(t, d.virsh("domblkstat", "stat1"), "rd_req", "wr_bytes")
	if _, errOut, err := d.virshResult("domblkstat", "stat1", "/nope"); err == nil || !strings.Contains(errOut, "invalid path") {
		t.Errorf("domblkstat of an unknown device: %v %s", err, errOut)
	}

	cpu := d.virsh("cpu-stats", "stat1")
	wantContains(t, cpu, "CPU0:", "Total:", "cpu_time", "user_time", "system_time")
	total := d.virsh("cpu-stats", "stat1", "--total")
	if m := regexp.MustCompile(`cpu_time\s+([\d.]+) seconds`).FindStringSubmatch(total); m == nil || m[1] == "0.000000000" {
		t.Errorf("cpu-stats --total:\n%s", total)
	}

	d.virsh("define", writeFile(t, work, "off.xml", containerSpec{name: "off1", root: root}.xml()))
	stats := d.virsh("domstats")
	wantContains(t, stats, "Domain: 'stat1'", "state.state=1", "state.reason=1", "cpu.time=", "cpu.user=", "cpu.system=",
		"balloon.current=131072", "balloon.maximum=131072", "balloon.rss=", "vcpu.current=1", "vcpu.maximum=1",
		"net.count=0", "block.count=1", "block.0.name=/img", "block.0.path="+img, "block.0.wr.bytes=",
		"Domain: 'off1'", "state.state=5")
	only := d.virsh("domstats", "--state", "stat1")
	if strings.Contains(only, "cpu.time") || !strings.Contains(only, "state.state=1") || strings.Contains(only, "off1") {
		t.Errorf("domstats --state stat1:\n%s", only)
	}
	running := d.virsh("domstats", "--list-running", "--cpu-total")
	if strings.Contains(running, "off1") || !strings.Contains(running, "cpu.time=") {
		t.Errorf("domstats --list-running --cpu-total:\n%s", running)
	}
	if _, errOut, err := d.virshResult("domstats", "--perf", "--enforce"); err == nil || !strings.Contains(errOut, "not supported") {
		t.Errorf("domstats --perf --enforce: %v %s", err, errOut)
	}
	d.virsh("destroy", "stat1")
	if _, errOut, err := d.virshResult("dommemstat", "stat1"); err == nil || !strings.Contains(errOut, "not running") {
		t.Errorf("dommemstat of an inactive domain: %v %s", err, errOut)
	}
	expectClean(t, d, root, markers, img)
}

// TestSuspendResume freezes a container that counts, checks that it makes
// no progress while paused, and follows the states and events.
func TestSuspendResume(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	counter := `i=0; while :; do i=$((i+1)); echo $i > /markers/count; sleep 0.02; done`
	d.defineAndStart(containerSpec{name: "frz1", root: root, markers: markers, init: []string{"/bin/sh", "-c", counter}})
	count := func() int {
		b, _ := os.ReadFile(filepath.Join(markers, "count"))
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
	waitFor(t, "the counter to run", 10*time.Second, func() bool { return count() > 2 })
	out := d.python(`
import libvirt, os, threading, time
libvirt.virEventRegisterDefaultImpl()
c = libvirt.open(os.environ["URI"])
events = []
c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lambda c, d, e, det, o: events.append((e, det)), None)
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
d = c.lookupByName("frz1")
d.suspend()
print("state", d.state())
d.suspend()
time.sleep(0.3)
frozen = open(os.environ["MARKERS"] + "/count").read().strip()
time.sleep(0.5)
print("progress", open(os.environ["MARKERS"] + "/count").read().strip() != frozen)
d.resume()
print("state", d.state())
time.sleep(0.5)
print("events", events)
`, "MARKERS="+markers)
	wantContains(t, out, "state [3, 1]", "progress False", "state [1, 5]", "events [(3, 0), (4, 0)]")
	before := count()
	waitFor(t, "the counter to run again", 10*time.Second, func() bool { return count() > before })

	d.virsh("suspend", "frz1")
	wantContains(t, d.virsh("domstate", "--reason", "frz1"), "paused (user)")
	wantContains(t, d.virsh("list", "--state-paused", "--name"), "frz1")
	d.virsh("resume", "frz1")
	wantContains(t, d.virsh("domstate", "--reason", "frz1"), "running (unpaused)")

	// A paused domain can be destroyed, and leaves nothing behind.
	d.virsh("suspend", "frz1")
	d.virsh("destroy", "frz1")
	wantContains(t, d.virsh("domstate", "--reason", "frz1"), "shut off (destroyed)")
	if _, errOut, err := d.virshResult("suspend", "frz1"); err == nil || !strings.Contains(errOut, "not running") {
		t.Errorf("suspend of an inactive domain: %v %s", err, errOut)
	}
	expectClean(t, d, root, markers)
}

// TestEnforcement checks that the limits hold, not only that their files
// are written: a memory hog, a busy loop under a CPU quota, a fork bomb
// and mknod of a block device.
func TestEnforcement(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	t.Run("memory", func(t *testing.T) {
		// The hog offers itself to the OOM killer first (a process may
		// raise its own oom_score_adj): when a kill lags behind the next
		// charge, the killer may pick a second victim, and that must not
		// be the shell, PID 1, that reports the result.
		hog := `(echo 1000 > /proc/self/oom_score_adj; head -c 200m /dev/zero | tail > /dev/null); echo rc=$? > /markers/hog; exec sleep 1000`
		top := "  <memtune><hard_limit unit='MiB'>32</hard_limit><swap_hard_limit unit='MiB'>32</swap_hard_limit></memtune>\n"
		id := d.defineAndStart(containerSpec{name: "hog1", root: root, markers: markers, top: top, init: []string{"/bin/sh", "-c", hog}})
		// The shell creates the file before echo writes to it: wait for
		// the whole line, not for the file.
		var b []byte
		waitFor(t, "the memory hog to end", 30*time.Second, func() bool {
			b, _ = os.ReadFile(filepath.Join(markers, "hog"))
			return strings.HasSuffix(string(b), "\n")
		})
		if strings.TrimSpace(string(b)) != "rc=137" {
			t.Errorf("memory hog ended with %q, want rc=137 (killed)", b)
		}
		peak, _ := strconv.Atoi(cgread(t, "memory", id, "hog1", "memory.max_usage_in_bytes"))
		if peak > 32<<20 || peak < 16<<20 {
			t.Errorf("peak memory %d, want at most the 32 MiB limit", peak)
		}
		if oom := cgread(t, "memory", id, "hog1", "memory.oom_control"); !regexp.MustCompile(`oom_kill [1-9]`).MatchString(oom) {
			t.Errorf("the cgroup's OOM killer never ran:\n%s", oom)
		}
		d.virsh("destroy", "hog1")
	})
	t.Run("cpu", func(t *testing.T) {
		top := "  <cputune><period>100000</period><quota>25000</quota></cputune>\n"
		id := d.defineAndStart(containerSpec{name: "busy1", root: root, markers: markers, top: top,
			init: []string{"/bin/sh", "-c", "while :; do :; done"}})
		usage := func() float64 {
			n, _ := strconv.ParseFloat(cgread(t, "cpuacct", id, "busy1", "cpuacct.usage"), 64)
			return n
		}
		time.Sleep(300 * time.Millisecond)
		u0, t0 := usage(), time.Now()
		time.Sleep(3 * time.Second)
		share := (usage() - u0) / float64(time.Since(t0).Nanoseconds())
		t.Logf("busy loop under quota 25000/100000 used %.1f%% of a CPU", share*100)
		// The upper bound and the throttling are the enforcement; the
		// lower bound leaves room for other test packages loading the
		// host and still catches a quota written several times too small.
		if share < 0.15 || share > 0.30 {
			t.Errorf("busy loop used %.1f%% of a CPU, want about 25%%", share*100)
		}
		if st := cgread(t, "cpu", id, "busy1", "cpu.stat"); !regexp.MustCompile(`nr_throttled [1-9]`).MatchString(st) {
			t.Errorf("the busy loop was never throttled:\n%s", st)
		}
		d.virsh("destroy", "busy1")
	})
	t.Run("pids", func(t *testing.T) {
		top := "  <metadata><nsvirt:limits xmlns:nsvirt='https://nsvirt.dev/xmlns/domain/1.0'><nsvirt:pids max='64'/></nsvirt:limits></metadata>\n"
		bomb := `echo go > /markers/bomb; f() { f | f & }; f; exec sleep 1000`
		id := d.defineAndStart(containerSpec{name: "bomb1", root: root, markers: markers, top: top, init: []string{"/bin/sh", "-c", bomb}})
		waitFor(t, "the fork bomb to hit the limit", 30*time.Second, func() bool {
			return strings.Contains(cgread(t, "pids", id, "bomb1", "pids.events"), "max ") &&
				!strings.HasSuffix(cgread(t, "pids", id, "bomb1", "pids.events"), "max 0")
		})
		if n, _ := strconv.Atoi(cgread(t, "pids", id, "bomb1", "pids.current")); n > 64 {
			t.Errorf("pids.current %d above the limit 64", n)
		}
		start := time.Now()
		if out, err := exec.Command("/bin/sh", "-c", "for i in 1 2 3 4 5; do /bin/true; done; echo ok").Output(); err != nil || string(out) != "ok\n" {
			t.Errorf("the host cannot fork during the bomb: %v %q", err, out)
		}
		t.Logf("host forks took %v during the bomb", time.Since(start))
		d.virsh("destroy", "bomb1")
	})
	t.Run("mknod", func(t *testing.T) {
		top := "  <features><capabilities policy='allow'/></features>\n"
		script := `mknod /tmp/blk b 7 0 2>/markers/mknod.err; echo blk=$? > /markers/mknod; mknod /tmp/null c 1 3; echo chr=$? >> /markers/mknod; exec sleep 1000`
		d.defineAndStart(containerSpec{name: "mknod1", root: root, markers: markers, top: top, init: []string{"/bin/sh", "-c", script}})
		waitFor(t, "the mknod attempts", 15*time.Second, func() bool {
			b, _ := os.ReadFile(filepath.Join(markers, "mknod"))
			return strings.Contains(string(b), "chr=")
		})
		b, _ := os.ReadFile(filepath.Join(markers, "mknod"))
		errText, _ := os.ReadFile(filepath.Join(markers, "mknod.err"))
		if !strings.Contains(string(b), "blk=1") || !strings.Contains(string(errText), "Operation not permitted") {
			t.Errorf("mknod of a block device was not refused: %s %s", b, errText)
		}
		if !strings.Contains(string(b), "chr=0") {
			t.Errorf("mknod of an allowed character device failed: %s", b)
		}
		d.virsh("destroy", "mknod1")
	})
	expectClean(t, d, root, markers)
}

// TestCgroupV2 runs a container with limits on a cgroup v2 host.
func TestCgroupV2(t *testing.T) {
	requireRoot(t)
	l, err := cgroups.Detect()
	if err != nil {
		t.Fatal(err)
	}
	if l.Mode != cgroups.V2 {
		t.Skipf("host is cgroup %s, not cgroup v2: the v2-only checks need a unified-only host", l.Mode)
	}
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	top := "  <memtune><hard_limit unit='MiB'>96</hard_limit></memtune>\n  <cputune><shares>200</shares><period>50000</period><quota>25000</quota></cputune>\n"
	id := d.defineAndStart(containerSpec{name: "v2", root: root, markers: markers, top: top})
	waitMarker(t, markers, "v2")
	wantFile(t, "", id, "v2", "memory.max", strconv.Itoa(96<<20))
	wantFile(t, "", id, "v2", "cpu.weight", "200")
	wantFile(t, "", id, "v2", "cpu.max", "25000 50000")
	d.virsh("suspend", "v2")
	wantFile(t, "", id, "v2", "cgroup.freeze", "1")
	d.virsh("resume", "v2")
	d.virsh("destroy", "v2")
	expectClean(t, d, root, markers)
}
