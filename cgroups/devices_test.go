package cgroups

import (
	"strings"
	"testing"
)

// libvirtDevices is libvirt's allow-list with <mknod state='on'/> and a
// read-write block disk.
var libvirtDevices = []DeviceRule{
	{Type: 'c', Major: 1, Minor: 3, Access: "rwm"}, {Type: 'c', Major: 1, Minor: 5, Access: "rwm"},
	{Type: 'c', Major: 1, Minor: 7, Access: "rwm"}, {Type: 'c', Major: 1, Minor: 8, Access: "rwm"},
	{Type: 'c', Major: 1, Minor: 9, Access: "rwm"}, {Type: 'c', Major: 5, Minor: 0, Access: "rwm"},
	{Type: 'c', Major: 5, Minor: 2, Access: "rwm"}, {Type: 'c', Major: 10, Minor: 229, Access: "rwm"},
	{Type: 'c', Major: 136, Minor: -1, Access: "rwm"},
	{Type: 'a', Major: -1, Minor: -1, Access: "m"},
	{Type: 'b', Major: 7, Minor: 0, Access: "rw"},
}

// libvirtAllows are the rules the library writes to devices.allow for
// libvirtDevices, in its order (by major, minor, type); the mknod rule
// is one for block and one for character devices.
var libvirtAllows = []string{
	"b *:* m", "c *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
	"c 5:0 rwm", "c 5:2 rwm", "b 7:0 rw", "c 10:229 rwm", "c 136:* rwm",
}

// TestDevicesV1 checks the writes of the v1 devices policy: the library
// reads devices.list (a new group allows everything), denies all,
// allows each rule, and reads devices.list again to check the result.
func TestDevicesV1(t *testing.T) {
	for _, mode := range []Mode{V1, Hybrid} {
		t.Run(mode.String(), func(t *testing.T) {
			f := newFakeHost(t, mode)
			list, deny, allow := f.file("devices.list"), f.file("devices.deny"), f.file("devices.allow")
			steps := []access{{file: list, read: true, serve: "a *:* rwm\n"}, {file: deny, write: "a *:* rwm"}}
			for _, a := range libvirtAllows {
				steps = append(steps, access{file: allow, write: a})
			}
			steps = append(steps, access{file: list, read: true, serve: strings.Join(libvirtAllows, "\n") + "\n"})
			r := Resources{MemoryLimit: 256 * mib, Devices: libvirtDevices}
			g := f.group(r)
			s := startScript(t, steps)
			if err := runScripted(t, s, func() error { return g.Create(-1) }); err != nil {
				t.Fatalf("Create: %v", err)
			}
			f.check(map[string]string{"memory.limit_in_bytes": "268435456"})
		})
	}
}

// TestDevicesUnchanged checks that a group whose policy is already the
// one asked for gets no write, and that no policy leaves devices alone.
func TestDevicesUnchanged(t *testing.T) {
	f := newFakeHost(t, V1)
	rules := []DeviceRule{{Type: 'c', Major: 1, Minor: 3, Access: "rwm"}, {Type: 'a', Major: -1, Minor: -1, Access: "m"}}
	f.set("devices.list", "b *:* m\nc *:* m\nc 1:3 rwm\n")
	if err := f.group(Resources{}).Set(Resources{Devices: rules}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	f.absent([]string{"devices.allow", "devices.deny"})

	f.remove("devices.list")
	if err := f.group(Resources{}).Set(Resources{CPUShares: 100}); err != nil {
		t.Fatalf("Set without a policy: %v", err)
	}
	f.absent([]string{"devices.list", "devices.allow", "devices.deny"})
}

func TestDeviceRules(t *testing.T) {
	got := deviceRules([]DeviceRule{{Type: 'a', Major: -1, Minor: -1, Access: "m"}, {Type: 'c', Major: 4, Minor: 1, Access: "r"}})
	var s []string
	for _, r := range got {
		verb := "deny "
		if r.Allow {
			verb = "allow "
		}
		s = append(s, verb+r.CgroupString())
	}
	want := "deny a *:* rwm, allow b *:* m, allow c *:* m, allow c 4:1 r"
	if strings.Join(s, ", ") != want {
		t.Errorf("rules %q, want %q", strings.Join(s, ", "), want)
	}
	if deviceRules(nil) != nil {
		t.Error("no policy gave rules")
	}
}
