package xmlconf

import (
	"testing"

	"libvirt.org/go/libvirtxml"
)

func TestNativeConsolesAndArch(t *testing.T) {
	ports := func(n int) func(*testing.T, *libvirtxml.Domain, []string) {
		return func(t *testing.T, def *libvirtxml.Domain, w []string) {
			cs := def.Devices.Consoles
			nativeWantEqual(t, "consoles", len(cs), n)
			for i, c := range cs {
				nativeWantEqual(t, "port", *c.Target.Port, uint(i))
			}
		}
	}
	arch := func(want string) func(*testing.T, *libvirtxml.Domain, []string) {
		return func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "arch", def.OS.Type.Arch, want)
		}
	}
	runNativeCases(t, []nativeCase{
		{name: "ttys", config: "lxc.tty.max = 3\n", check: ports(3)},
		{name: "legacy ttys", config: "lxc.tty = 2\n", check: ports(2)},
		{name: "no ttys still one console", config: "lxc.tty.max = 0\n", check: ports(1)},
		{name: "bad tty count", config: "lxc.tty.max = -1\n", wantErr: "tty count"},
		{name: "too many ttys", config: "lxc.tty.max = 100000\n", wantErr: "at most"},
		{name: "x86", config: "lxc.arch = x86\n", check: arch("i686")},
		{name: "i386", config: "lxc.arch = i386\n", check: arch("i686")},
		{name: "amd64", config: "lxc.arch = amd64\n", check: arch("x86_64")},
		{name: "linux64", config: "lxc.arch = linux64\n", check: arch("x86_64")},
		{name: "foreign 64-bit arch is the personality", config: "lxc.arch = arm64\n", check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			arch("x86_64")(t, def, w)
			nativeWantWarning(t, w, "lxc.arch", "64-bit personality")
		}},
		{name: "unknown arch", config: "lxc.arch = vax\n", wantErr: "unknown architecture"},
	})
}

func TestNativeArchHosts(t *testing.T) {
	for _, c := range []struct {
		host, lxcArch, want string
		warns               bool
	}{
		{"", "armhf", "armv7l", false},
		{"", "x86", "i686", false},
		{"", "linux32", "", true},
		{"i686", "x86", "i686", false},
		{"i686", "amd64", "i686", true},
		{"aarch64", "armhf", "armv7l", false},
		{"aarch64", "i386", "armv7l", true},
		{"riscv64", "x86", "riscv64", true},
	} {
		d, w, err := FromNative([]byte(nativeBase+"lxc.arch = "+c.lxcArch+"\n"), NativeOptions{HostArch: c.host})
		if err != nil {
			// Complete may refuse an architecture the host cannot run.
			t.Logf("host %q, lxc.arch %s: %v", c.host, c.lxcArch, err)
			continue
		}
		if d.Def.OS.Type.Arch != c.want || (len(w) > 0) != c.warns {
			t.Errorf("host %q, lxc.arch %s: arch %q, warnings %q; want %q, warnings %v", c.host, c.lxcArch, d.Def.OS.Type.Arch, w, c.want, c.warns)
		}
	}
}

func TestNativeIDMap(t *testing.T) {
	runNativeCases(t, []nativeCase{{
		name:   "LXC order: type nsid hostid range",
		config: "lxc.idmap = u 0 100000 65536\nlxc.id_map = g 0 200000 1000\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "idmap", *def.IDMap, libvirtxml.DomainIDMap{
				UIDs: []libvirtxml.DomainIDMapRange{{Start: 0, Target: 100000, Count: 65536}},
				GIDs: []libvirtxml.DomainIDMapRange{{Start: 0, Target: 200000, Count: 1000}},
			})
		},
	}, {
		name:   "empty value clears",
		config: "lxc.idmap = u 0 100000 65536\nlxc.idmap =\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "idmap", def.IDMap == nil, true)
		},
	}, {
		name:    "bad type",
		config:  "lxc.idmap = b 0 100000 65536\n",
		wantErr: "u|g NSID HOSTID RANGE",
	}, {
		name:    "bad number",
		config:  "lxc.idmap = u 0 -1 65536\n",
		wantErr: "invalid id",
	}})
}

func TestNativeMemory(t *testing.T) {
	limit := func(kib uint64) *libvirtxml.DomainMemoryTuneLimit {
		return &libvirtxml.DomainMemoryTuneLimit{Value: kib, Unit: "KiB"}
	}
	runNativeCases(t, []nativeCase{{
		name: "cgroup v1",
		config: "lxc.cgroup.memory.limit_in_bytes = 1G\nlxc.cgroup.memory.soft_limit_in_bytes = 134217728\n" +
			"lxc.cgroup.memory.memsw.limit_in_bytes = 2147483648\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "memory", def.Memory.Value, uint(1048576))
			nativeWantEqual(t, "current", def.CurrentMemory.Value, uint(1048576))
			nativeWantEqual(t, "memtune", *def.MemoryTune, libvirtxml.DomainMemoryTune{
				HardLimit: limit(1048576), SoftLimit: limit(131072), SwapHardLimit: limit(2097152)})
		},
	}, {
		name:   "cgroup v2",
		config: "lxc.cgroup2.memory.max = 512M\nlxc.cgroup2.memory.high = 256M\nlxc.cgroup2.memory.swap.max = max\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "memory", def.Memory.Value, uint(524288))
			nativeWantEqual(t, "memtune", *def.MemoryTune, libvirtxml.DomainMemoryTune{HardLimit: limit(524288), SoftLimit: limit(262144)})
		},
	}, {
		name:   "unlimited",
		config: "lxc.cgroup.memory.limit_in_bytes = -1\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "memory", def.Memory.Value, uint(65536))
			nativeWantEqual(t, "memtune", def.MemoryTune == nil, true)
		},
	}, {
		name:    "bad size",
		config:  "lxc.cgroup.memory.limit_in_bytes = lots\n",
		wantErr: "failed to convert size",
	}, {
		name:    "below 1 KiB",
		config:  "lxc.cgroup2.memory.max = 100\n",
		wantErr: "below 1 KiB",
	}})
}

func TestNativeCPU(t *testing.T) {
	runNativeCases(t, []nativeCase{{
		name:   "cgroup v1",
		config: "lxc.cgroup.cpu.shares = 1024\nlxc.cgroup.cpu.cfs_quota_us = -1\nlxc.cgroup.cpu.cfs_period_us = 500000\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "cputune", *def.CPUTune, libvirtxml.DomainCPUTune{
				Shares: &libvirtxml.DomainCPUTuneShares{Value: 1024},
				Period: &libvirtxml.DomainCPUTunePeriod{Value: 500000},
				Quota:  &libvirtxml.DomainCPUTuneQuota{Value: -1},
			})
		},
	}, {
		name:   "cgroup v2",
		config: "lxc.cgroup2.cpu.weight = 200\nlxc.cgroup2.cpu.max = 50000 100000\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "cputune", *def.CPUTune, libvirtxml.DomainCPUTune{
				Shares: &libvirtxml.DomainCPUTuneShares{Value: 200},
				Period: &libvirtxml.DomainCPUTunePeriod{Value: 100000},
				Quota:  &libvirtxml.DomainCPUTuneQuota{Value: 50000},
			})
		},
	}, {
		name:   "cgroup v2 unlimited quota",
		config: "lxc.cgroup2.cpu.max = max\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "quota", def.CPUTune.Quota.Value, int64(-1))
		},
	}, {
		name:    "weight out of range",
		config:  "lxc.cgroup2.cpu.weight = 20000\n",
		wantErr: "invalid CPU weight",
	}, {
		name:   "cpuset",
		config: "lxc.cgroup.cpuset.cpus = 1,2,5-7\nlxc.cgroup2.cpuset.mems = 0-3,^2\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "vcpu", *def.VCPU, libvirtxml.DomainVCPU{Placement: "static", CPUSet: "1-2,5-7", Value: 1})
			nativeWantEqual(t, "numatune", *def.NUMATune.Memory, libvirtxml.DomainNUMATuneMemory{Mode: "strict", Nodeset: "0-1,3"})
		},
	}, {
		name:    "bad cpuset",
		config:  "lxc.cgroup.cpuset.cpus = 3-1\n",
		wantErr: "invalid CPU list",
	}})
}

func TestNativeBlkio(t *testing.T) {
	runNativeCases(t, []nativeCase{{
		name: "cgroup v1 devices merged per path",
		config: "lxc.cgroup.blkio.weight = 500\nlxc.cgroup.blkio.device_weight = 8:16\t1000\n" +
			"lxc.cgroup.blkio.throttle.read_bps_device = 8:16 1234\nlxc.cgroup.blkio.device_weight = 8:0 300\n" +
			"lxc.cgroup.blkio.throttle.write_iops_device = 8:16 8765\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "blkiotune", *def.BlockIOTune, libvirtxml.DomainBlockIOTune{Weight: 500, Device: []libvirtxml.DomainBlockIOTuneDevice{
				{Path: "/dev/block/8:16", Weight: 1000, ReadBytesSec: 1234, WriteIopsSec: 8765},
				{Path: "/dev/block/8:0", Weight: 300},
			}})
		},
	}, {
		name:   "cgroup v2",
		config: "lxc.cgroup2.io.weight = default 300\nlxc.cgroup2.io.weight = 8:0 200\nlxc.cgroup2.io.max = 8:0 rbps=1000 wiops=max riops=50\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "blkiotune", *def.BlockIOTune, libvirtxml.DomainBlockIOTune{Weight: 300, Device: []libvirtxml.DomainBlockIOTuneDevice{
				{Path: "/dev/block/8:0", Weight: 200, ReadBytesSec: 1000, ReadIopsSec: 50},
			}})
		},
	}, {
		name:    "bad device",
		config:  "lxc.cgroup.blkio.device_weight = sda 100\n",
		wantErr: "invalid device number",
	}, {
		name:    "bad io.max key",
		config:  "lxc.cgroup2.io.max = 8:0 speed=1\n",
		wantErr: "unknown io.max limit",
	}})
}

func TestNativeCapabilities(t *testing.T) {
	runNativeCases(t, []nativeCase{{
		name:   "drop",
		config: "lxc.cap.drop = sys_module mac_admin\nlxc.cap.drop = CAP_MKNOD 25\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			off := &libvirtxml.DomainFeatureCapability{State: "off"}
			nativeWantEqual(t, "caps", *def.Features.Capabilities, libvirtxml.DomainFeatureCapabilities{
				Policy: "allow", SysModule: off, MACAdmin: off, MkNod: off, SysTime: off})
		},
	}, {
		name:   "keep",
		config: "lxc.cap.keep = chown net_bind_service\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			on := &libvirtxml.DomainFeatureCapability{State: "on"}
			nativeWantEqual(t, "caps", *def.Features.Capabilities, libvirtxml.DomainFeatureCapabilities{
				Policy: "deny", Chown: on, NetBindService: on})
		},
	}, {
		name:   "keep none",
		config: "lxc.cap.keep = none\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "caps", *def.Features.Capabilities, libvirtxml.DomainFeatureCapabilities{Policy: "deny"})
			nativeNoWarnings(t, w)
		},
	}, {
		name:   "empty drop clears",
		config: "lxc.cap.drop = sys_module\nlxc.cap.drop =\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "caps", *def.Features.Capabilities, libvirtxml.DomainFeatureCapabilities{Policy: "allow"})
		},
	}, {
		name:   "unknown and unrepresentable",
		config: "lxc.cap.drop = bogus perfmon\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantWarning(t, w, "unknown capability \"bogus\"")
			nativeWantWarning(t, w, "perfmon cannot be set")
		},
	}, {
		name:    "drop and keep",
		config:  "lxc.cap.drop = sys_module\nlxc.cap.keep = chown\n",
		wantErr: "mutually exclusive",
	}})
}

func TestNativeInit(t *testing.T) {
	runNativeCases(t, []nativeCase{{
		name: "init, arguments, environment, directory, ids",
		config: "lxc.init.cmd = /bin/sh  -c\tx exec\nlxc.environment = FOO=bar=baz\nlxc.environment = LANG=C\n" +
			"lxc.init.cwd = /root\nlxc.init.uid = 1000\nlxc.init.gid = 100\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "init", def.OS.Init, "/bin/sh")
			nativeWantEqual(t, "args", def.OS.InitArgs, []string{"-c\tx", "exec"})
			nativeWantEqual(t, "env", def.OS.InitEnv, []libvirtxml.DomainOSInitEnv{{Name: "FOO", Value: "bar=baz"}, {Name: "LANG", Value: "C"}})
			nativeWantEqual(t, "dir", def.OS.InitDir, "/root")
			nativeWantEqual(t, "user", []string{def.OS.InitUser, def.OS.InitGroup}, []string{"1000", "100"})
			nativeNoWarnings(t, w)
		},
	}, {
		name:   "bad environment entries",
		config: "lxc.environment = HOME\nlxc.environment = 1X=2\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "env", len(def.OS.InitEnv), 0)
			nativeWantWarning(t, w, "\"HOME\" is not NAME=VALUE")
			nativeWantWarning(t, w, "\"1X=2\" is not NAME=VALUE")
		},
	}, {
		name:    "non-numeric uid",
		config:  "lxc.init.uid = root\n",
		wantErr: "numeric id",
	}})
}
