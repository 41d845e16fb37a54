package netns

// Helpers of the root tests. Each test works only on what it makes: a
// "container" is a sleep process in a new network namespace, links and
// bridges are called nsvt-<random>, and addresses come from 10.213.0.0/16
// and fd00:213::/32 and are assigned only inside those namespaces and on
// those links. Traffic is sent only from inside a test's namespace to an
// address the test assigned, so none leaves the machine.

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
)

// pingEnv makes the test binary, started inside a namespace by ping,
// send one echo request to the address it holds and exit.
const pingEnv = "NSVIRT_NETNS_TEST_PING"

func TestMain(m *testing.M) {
	if addr := os.Getenv(pingEnv); addr != "" {
		if err := echo(netip.MustParseAddr(addr), time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// requireRoot skips a test that needs root, or fails it when
// NSVIRT_TEST_STRICT=1 forbids skipping.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("NSVIRT_TEST_STRICT") == "1" {
		t.Fatal("this test needs root to create network namespaces and links, and NSVIRT_TEST_STRICT=1 forbids skipping it")
	}
	t.Skip("needs root: it creates network namespaces and links")
}

// lab is one test's set of namespaces, links and addresses.
type lab struct {
	t     testing.TB
	names []watched // host links the test made or had made
	net   byte      // the test's 10.213.<net>.0/24 and fd00:213:<net>::/64
}

// newLab returns a lab whose cleanup, run after every other of the test,
// fails the test if a link it named is left on the host, and deletes it.
func newLab(t testing.TB) *lab {
	t.Helper()
	requireRoot(t)
	l := &lab{t: t, net: randomBytes(1)[0]}
	t.Cleanup(func() {
		for _, w := range l.names {
			link, err := netlink.LinkByName(w.name)
			if err == nil && (w.index == 0 || link.Attrs().Index == w.index) {
				t.Errorf("link %s is left behind", w.name)
				netlink.LinkDel(link)
			}
		}
	})
	return l
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// name returns a fresh link name nsvt-<kind><random>, and watches it.
func (l *lab) name(kind string) string {
	name := "nsvt-" + kind + hex.EncodeToString(randomBytes(3))
	l.watch(name)
	return name
}

// watched is a host link that must be gone at the end of a test. A name
// the test did not choose may be taken again by another package's test
// running at the same time, so such a link is known by its index too.
type watched struct {
	name  string
	index int // 0 for a name only this test uses
}

// watch adds a host link name to those that must be gone at the end.
func (l *lab) watch(name string) { l.names = append(l.names, watched{name: name}) }

// watchLink adds a host link of a name that Setup chose.
func (l *lab) watchLink(name string, index int) {
	l.names = append(l.names, watched{name: name, index: index})
}

// v4 and v6 return host address n of the test's networks, with prefix
// length bits.
func (l *lab) v4(n byte, bits int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 213, l.net, n}), bits)
}

func (l *lab) v6(n byte, bits int) netip.Prefix {
	a := [16]byte{0xfd, 0x00, 0x02, 0x13, 0, l.net}
	a[15] = n
	return netip.PrefixFrom(netip.AddrFrom16(a), bits)
}

// mac returns 52:54:00:<net>:00:n.
func (l *lab) mac(n byte) net.HardwareAddr { return net.HardwareAddr{0x52, 0x54, 0, l.net, 0, n} }

// bridge makes an up bridge with addrs, removed at cleanup.
func (l *lab) bridge(addrs ...netip.Prefix) string {
	l.t.Helper()
	name := l.name("br")
	created, err := EnsureBridge(name, 0, addrs, true)
	if err != nil || !created {
		l.t.Fatalf("EnsureBridge(%s) = %v, %v", name, created, err)
	}
	l.t.Cleanup(func() {
		if err := DeleteBridge(name); err != nil {
			l.t.Errorf("DeleteBridge(%s): %v", name, err)
		}
	})
	return name
}

// veth makes a veth pair in the host's namespace, removed at cleanup
// wherever its ends went.
func (l *lab) veth() (a, b string) {
	l.t.Helper()
	a, b = l.name("a"), l.name("b")
	v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: a, TxQLen: -1}, PeerName: b, PeerTxQLen: -1}
	if err := netlink.LinkAdd(v); err != nil {
		l.t.Fatalf("create veth %s/%s: %v", a, b, err)
	}
	l.t.Cleanup(func() {
		if link, err := netlink.LinkByName(a); err == nil {
			netlink.LinkDel(link)
		}
	})
	return a, b
}

// container starts a process in a new network namespace and returns the
// namespace and the process, which is killed at cleanup.
func (l *lab) container() (NS, *os.Process) {
	l.t.Helper()
	cmd := exec.Command("sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		l.t.Fatalf("start a process in a new network namespace: %v", err)
	}
	l.t.Cleanup(func() { kill(cmd.Process) })
	return OfPID(cmd.Process.Pid), cmd.Process
}

// kill ends a container process and reaps it; its namespace dies with it.
func kill(p *os.Process) {
	p.Kill()
	p.Wait()
}

// ping sends one echo request from inside ns to addr and waits a second
// for the reply. It runs this test binary there under nsenter, so it
// needs no ping program and moves no thread of the test.
func ping(ns NS, addr netip.Addr) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command("nsenter", "--net="+string(ns), "--", exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), pingEnv+"="+addr.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ping %s from %s: %v: %s", addr, ns, err, out)
	}
	return nil
}

func (l *lab) mustPing(ns NS, addr netip.Addr) {
	l.t.Helper()
	if err := ping(ns, addr); err != nil {
		l.t.Fatal(err)
	}
}

// echo sends an ICMP or ICMPv6 echo request to addr and waits for the
// reply.
func echo(addr netip.Addr, timeout time.Duration) error {
	network, req, rep := "ip4:icmp", byte(8), byte(0)
	if addr.Is6() {
		network, req, rep = "ip6:ipv6-icmp", 128, 129
	}
	c, err := net.ListenPacket(network, "")
	if err != nil {
		return err
	}
	defer c.Close()
	id := uint16(os.Getpid())
	msg := []byte{req, 0, 0, 0, byte(id >> 8), byte(id), 0, 1, 'n', 's', 'v', 't'}
	if addr.Is4() { // the kernel computes ICMPv6 checksums
		binary.BigEndian.PutUint16(msg[2:], checksum(msg))
	}
	if _, err := c.WriteTo(msg, &net.IPAddr{IP: addr.AsSlice()}); err != nil {
		return err
	}
	c.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return fmt.Errorf("no echo reply from %s: %w", addr, err)
		}
		if n >= 8 && buf[0] == rep && binary.BigEndian.Uint16(buf[4:]) == id &&
			from.(*net.IPAddr).IP.Equal(addr.AsSlice()) {
			return nil
		}
	}
}

func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// inside returns a netlink handle in ns, closed at cleanup.
func (l *lab) inside(ns NS) *netlink.Handle {
	l.t.Helper()
	nsh, err := vnetns.GetFromPath(string(ns))
	if err != nil {
		l.t.Fatal(err)
	}
	defer nsh.Close()
	h, err := netlink.NewHandleAt(nsh)
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(h.Close)
	return h
}

// guestLinks returns the names of the links in ns.
func (l *lab) guestLinks(ns NS) []string {
	l.t.Helper()
	links, err := GuestAddrs(ns)
	if err != nil {
		l.t.Fatalf("GuestAddrs: %v", err)
	}
	var names []string
	for _, g := range links {
		names = append(names, g.Name)
	}
	return names
}

// onlyLo fails the test unless ns holds nothing but lo.
func (l *lab) onlyLo(ns NS) {
	l.t.Helper()
	if names := l.guestLinks(ns); !slices.Equal(names, []string{"lo"}) {
		l.t.Errorf("container links %v, want only lo", names)
	}
}

// hostLink returns the host link name, failing the test if there is none.
func (l *lab) hostLink(name string) netlink.Link {
	l.t.Helper()
	link, err := netlink.LinkByName(name)
	if err != nil {
		l.t.Fatalf("host link %s: %v", name, err)
	}
	return link
}

// gone fails the test if any of the host links exist.
func (l *lab) gone(names ...string) {
	l.t.Helper()
	for _, name := range names {
		if _, err := netlink.LinkByName(name); err == nil {
			l.t.Errorf("host link %s still exists", name)
		} else if !errors.As(err, new(netlink.LinkNotFoundError)) {
			l.t.Errorf("look up %s: %v", name, err)
		}
	}
}

// eventuallyGone waits up to ten seconds for the host links to go.
func (l *lab) eventuallyGone(names ...string) {
	l.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !slices.ContainsFunc(names, LinkExists) {
			return
		}
	}
	l.gone(names...)
}

// teardown tears p down at cleanup, for tests that fail before they do.
func (l *lab) teardown(p *Plumbing, ns NS) {
	l.t.Cleanup(func() {
		if err := p.Teardown(ns); err != nil {
			l.t.Errorf("Teardown at cleanup: %v", err)
		}
	})
}
