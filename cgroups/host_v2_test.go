package cgroups

import (
	"os"
	"path/filepath"
	"testing"
)

// TestHostGroupV2 creates a group on a pure cgroup v2 host and checks
// that cpu.weight holds the shares unchanged and memory.max the limit.
// Other hosts skip it, even under NSVIRT_TEST_STRICT=1: a v1 or hybrid
// host cannot run it.
func TestHostGroupV2(t *testing.T) {
	l, err := Detect()
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	if l.Mode != V2 {
		t.Skipf("skipped: the host's cgroup layout is %s, not pure cgroup v2 (%s)", l.Mode, l.Describe())
	}
	requireRoot(t)
	l = hostLayout(t)
	r := Resources{CPUShares: 512, MemoryLimit: 64 * mib}
	g := newHostGroup(t, l, testPath(t), r)
	c := startChild(t, "")
	if err := g.Create(c.cmd.Process.Pid); err != nil {
		t.Fatalf("Create: %v", err)
	}
	c.run(t)
	for file, want := range map[string]string{"cpu.weight": "512", "memory.max": "67108864"} {
		if got := readHost(t, filepath.Join(g.Dir(""), file)); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	u, err := g.Usage()
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	if u.CPUTime == 0 || u.MemoryLimit != 64*mib || u.PerCPU != nil {
		t.Errorf("usage %+v: want CPU time, the memory limit and no per-CPU times", u)
	}
	checkFreeze(t, g)
	checkKill(t, g, c)
	if err := g.Destroy(); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if _, err := os.Stat(g.Dir("")); err == nil {
		t.Errorf("%s still exists after Destroy", g.Dir(""))
	}
}
