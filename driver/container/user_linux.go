package container

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// identity is the user init runs as, resolved inside the container.
type identity struct {
	uid, gid int
	groups   []int
	set      bool // inituser or initgroup was given
}

// resolveIdentity looks user and group (names or numbers) up in the
// container's /etc/passwd and /etc/group, after pivot_root, as libvirt
// does.
func resolveIdentity(user, group string) (identity, error) {
	id := identity{set: user != "" || group != ""}
	if user != "" {
		ent, err := lookup("/etc/passwd", user)
		if err != nil {
			return id, fmt.Errorf("init user %s: %w", user, err)
		}
		id.uid, id.gid = ent.id, ent.gid
	}
	if group != "" {
		ent, err := lookup("/etc/group", group)
		if err != nil {
			return id, fmt.Errorf("init group %s: %w", group, err)
		}
		id.gid = ent.id
	}
	if user != "" {
		id.groups = supplementaryGroups(user, id.gid)
	}
	return id, nil
}

type entry struct {
	name    string
	id, gid int
	members []string
}

// lookup finds name (or a number) in a passwd or group file. A number
// that has no entry is used as it is.
func lookup(file, name string) (entry, error) {
	n, numErr := strconv.Atoi(name)
	entries, err := readEntries(file)
	if err != nil && numErr != nil {
		return entry{}, err
	}
	for _, e := range entries {
		if e.name == name || numErr == nil && e.id == n {
			return e, nil
		}
	}
	if numErr == nil && n >= 0 {
		return entry{name: name, id: n, gid: n}, nil
	}
	return entry{}, fmt.Errorf("not found in the container's %s", file)
}

// readEntries parses passwd (name:x:uid:gid:...) or group
// (name:x:gid:members) lines.
func readEntries(file string) ([]entry, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []entry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 4 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		id, err := strconv.Atoi(fields[2])
		if err != nil {
			continue
		}
		e := entry{name: fields[0], id: id}
		if g, err := strconv.Atoi(fields[3]); err == nil {
			e.gid = g
		} else if fields[3] != "" {
			e.members = strings.Split(fields[3], ",")
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

func supplementaryGroups(user string, primary int) []int {
	groups := []int{primary}
	entries, _ := readEntries("/etc/group")
	for _, g := range entries {
		for _, m := range g.members {
			if m == user && g.id != primary {
				groups = append(groups, g.id)
			}
		}
	}
	return groups
}

// apply hands the consoles to the init user, so that its shell gets job
// control, and takes the identity. Set-ID calls apply to every thread.
func (id identity) apply(consoles []string) error {
	if !id.set {
		return nil
	}
	for i := range consoles {
		for _, p := range []string{"/dev/tty" + strconv.Itoa(i+1), "/dev/console"} {
			_ = os.Chown(p, id.uid, id.gid)
		}
	}
	if err := syscall.Setgroups(id.groups); err != nil {
		return fmt.Errorf("set supplementary groups: %w", err)
	}
	if err := syscall.Setresgid(id.gid, id.gid, id.gid); err != nil {
		return fmt.Errorf("set group %d: %w", id.gid, err)
	}
	if err := syscall.Setresuid(id.uid, id.uid, id.uid); err != nil {
		return fmt.Errorf("set user %d: %w", id.uid, err)
	}
	return nil
}
