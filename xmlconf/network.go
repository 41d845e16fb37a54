package xmlconf

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"libvirt.org/go/libvirtxml"
)

// networkURL names network documents in parser messages, as libvirt does.
const networkURL = "(network_definition)"

// DnsmasqNamespace is the URI of libvirt's dnsmasq network XML extension
// (<dnsmasq:options>), which nsvirt does not support.
const DnsmasqNamespace = "http://libvirt.org/schemas/network/dnsmasq/1.0"

// Network is a checked and completed network definition.
type Network struct {
	// Def is the document model. Code that changes it must keep it valid.
	Def *libvirtxml.Network
	// Title and Description are <title> and <description>, which
	// libvirtxml's Network has no fields for.
	Title, Description string

	// zeroPrefix holds the routes that gave prefix='0', which libvirtxml
	// cannot tell from routes without a prefix.
	zeroPrefix map[netRouteKey]bool
}

// netRouteKey identifies a network <route>.
type netRouteKey struct{ family, address, gateway string }

func newNetRouteKey(r libvirtxml.NetworkRoute) netRouteKey {
	return netRouteKey{r.Family, canonicalIP(r.Address), canonicalIP(r.Gateway)}
}

// RouteHasPrefix reports whether route r of n has a prefix, prefix='0'
// included.
func (n *Network) RouteHasPrefix(r libvirtxml.NetworkRoute) bool {
	return r.Prefix > 0 || n.zeroPrefix[newNetRouteKey(r)]
}

// SetRoutePrefix sets the prefix of route r of n, zero included; use it
// when building or changing routes in code.
func (n *Network) SetRoutePrefix(r *libvirtxml.NetworkRoute, prefix uint) {
	r.Prefix = prefix
	if prefix > 0 {
		return
	}
	if n.zeroPrefix == nil {
		n.zeroPrefix = map[netRouteKey]bool{}
	}
	n.zeroPrefix[newNetRouteKey(*r)] = true
}

// Clone returns an independent deep copy of n.
func (n *Network) Clone() *Network {
	out := &Network{Title: n.Title, Description: n.Description}
	if n.Def != nil {
		out.Def = deepCopy(reflect.ValueOf(n.Def)).Interface().(*libvirtxml.Network)
	}
	if n.zeroPrefix != nil {
		out.zeroPrefix = make(map[netRouteKey]bool, len(n.zeroPrefix))
		for k, v := range n.zeroPrefix {
			out.zeroPrefix[k] = v
		}
	}
	return out
}

// NetworkParseOptions control how a network document is read.
type NetworkParseOptions struct {
	// Validate rejects elements and attributes that libvirt's schema does
	// not know (VIR_NETWORK_DEFINE_VALIDATE, VIR_NETWORK_CREATE_VALIDATE)
	// instead of dropping them.
	Validate bool
	// UsedBridges are the bridge names other networks use and the
	// interfaces that exist on the host. A network that needs a bridge of
	// its own (nat, route, open, isolated) and names none, or names a
	// template such as 'br%d', gets the first name from the template
	// (virbr%d by default) that is not among them.
	UsedBridges []string
	// Rand is the random source for a generated UUID and bridge MAC
	// address; nil means crypto/rand.
	Rand io.Reader
}

// ParseNetwork reads, checks and completes a network definition as
// libvirt's network driver does on define and create (virNetworkDefParse
// then networkValidate): a UUID, a bridge name (see UsedBridges) and a
// bridge MAC address are generated when absent, <forward/> means NAT.
// nsvirt supports forward modes nat, route, open, bridge (onto an existing
// host bridge named by <bridge name>) and none (isolated); others are an
// ErrConfigUnsupported error. It returns, as warnings, the elements and
// attributes it dropped because the schema does not know them or libvirt
// ignores them (with Validate set, the schema ones are an error instead).
func ParseNetwork(doc []byte, opts NetworkParseOptions) (*Network, []string, error) {
	root, err := readNetworkTree(doc)
	if err != nil {
		return nil, nil, err
	}
	n, dropped, err := decodeNetworkChecked(root)
	if err != nil {
		return nil, nil, err
	}
	dropped.schema = capItems(dropped.schema)
	dropped.silent = capItems(dropped.silent)
	if opts.Validate && len(dropped.schema) > 0 {
		return nil, nil, schemaError(dropped.schema)
	}
	if err := completeNetwork(n, opts); err != nil {
		return nil, nil, err
	}
	return n, append(dropped.schema, dropped.silent...), nil
}

// NetworkFormatOptions control how a network is written.
type NetworkFormatOptions struct {
	// Inactive writes the persistent form (VIR_NETWORK_XML_INACTIVE):
	// without the connection count.
	Inactive bool
	// Connections is the number of guest interfaces using a running
	// network, written as <network connections='N'> unless Inactive is set
	// or N is 0.
	Connections int
}

// FormatNetwork writes n as libvirt formats it (virsh net-dumpxml), byte
// for byte: libvirt's element and attribute order (name, uuid, title,
// description, metadata, forward, bridge, mtu, mac, domain, dns, ip,
// route), two-space indentation, single quotes, <x/> for empty elements,
// an <ip> always written with an end tag, its netmask or prefix as given.
func FormatNetwork(n *Network, opts NetworkFormatOptions) (string, error) {
	if n == nil || n.Def == nil {
		return "", errf(ErrInternal, "no network definition to format")
	}
	return formatNetwork(n, opts, false)
}

// Started returns the definition of n as libvirt holds it while the
// network runs: a copy in which a NAT network without a port range has
// libvirt's masquerading range, <nat><port start='1024' end='65535'/>.
// libvirt's firewall setup fills it into the running definition (it is
// not part of the persistent one), so net-dumpxml of a running NAT
// network shows it and net-dumpxml --inactive does not.
func (n *Network) Started() *Network {
	out := n.Clone()
	fwd := out.Def.Forward
	if fwd == nil || fwd.Mode != "nat" {
		return out
	}
	if fwd.NAT == nil {
		fwd.NAT = &libvirtxml.NetworkForwardNAT{}
	}
	if len(fwd.NAT.Ports) == 0 || fwd.NAT.Ports[0].Start == 0 && fwd.NAT.Ports[0].End == 0 {
		fwd.NAT.Ports = []libvirtxml.NetworkForwardNATPort{{Start: 1024, End: 65535}}
	}
	return out
}

// Subnets returns the IP subnets of n's <ip> elements, masked (an <ip
// address='192.168.122.1' netmask='255.255.255.0'> gives 192.168.122.0/24),
// with libvirt's default prefixes when neither prefix nor netmask is given
// (the address class for IPv4, 64 for IPv6). Elements whose prefix cannot
// be worked out are left out. The driver uses it to refuse networks whose
// subnets overlap.
func Subnets(n *Network) []netip.Prefix {
	var out []netip.Prefix
	if n == nil || n.Def == nil {
		return nil
	}
	for _, ip := range n.Def.IPs {
		if p, ok := ipSubnet(ip); ok {
			out = append(out, p.Masked())
		}
	}
	return out
}

// ipSubnet returns the address and prefix of an <ip> element.
func ipSubnet(ip libvirtxml.NetworkIP) (netip.Prefix, bool) {
	addr, err := netip.ParseAddr(ip.Address)
	if err != nil || addr.Zone() != "" {
		return netip.Prefix{}, false
	}
	bits := ipPrefixLen(addr, ip.Netmask, ip.Prefix)
	if bits < 0 {
		return netip.Prefix{}, false
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(addr, p.Bits()), true
}

// ipPrefixLen is libvirt's virSocketAddrGetIPPrefix: the prefix, else the
// length of the netmask, else the address's natural prefix; -1 when there
// is none (a netmask that is not contiguous, a class D or E address).
func ipPrefixLen(addr netip.Addr, netmask string, prefix uint) int {
	switch {
	case prefix > 0:
		return int(prefix)
	case netmask != "":
		m, err := netip.ParseAddr(netmask)
		if err != nil {
			return -1
		}
		return netmaskBits(m)
	case addr.Is4():
		b := addr.As4()
		switch {
		case b == [4]byte{}:
			return 0
		case b[0]&0x80 == 0:
			return 8
		case b[0]&0xc0 == 0x80:
			return 16
		case b[0]&0xe0 == 0xc0:
			return 24
		}
		return -1
	case addr.IsUnspecified():
		return 0
	}
	return 64
}

// netmaskBits returns the number of leading one bits of a contiguous
// netmask, or -1.
func netmaskBits(m netip.Addr) int {
	bits := 0
	raw := m.AsSlice()
	for i, b := range raw {
		if b == 0xff {
			bits += 8
			continue
		}
		for b&0x80 != 0 {
			bits++
			b <<= 1
		}
		if b != 0 {
			return -1
		}
		for _, rest := range raw[i+1:] {
			if rest != 0 {
				return -1
			}
		}
		break
	}
	return bits
}

// NextBridgeName returns the first name virbr0, virbr1, ... not in used,
// as libvirt chooses the bridge of a network that names none, or "" when
// virbr0 to virbr256 are all used.
func NextBridgeName(used []string) string {
	name, _ := nextBridgeName("virbr%d", used)
	return name
}

// maxBridgeID is libvirt's MAX_BRIDGE_ID.
const maxBridgeID = 256

// nextBridgeName returns the first name from template (one %d) that is
// not in used.
func nextBridgeName(template string, used []string) (string, bool) {
	inUse := make(map[string]bool, len(used))
	for _, u := range used {
		inUse[u] = true
	}
	before, after, _ := strings.Cut(template, "%d")
	for id := 0; id <= maxBridgeID; id++ {
		name := before + strconv.Itoa(id) + after
		if !inUse[name] {
			return name, true
		}
	}
	return "", false
}

// newUUIDFrom returns a random (version 4) UUID read from rnd.
func newUUIDFrom(rnd io.Reader) string {
	var u [16]byte
	readRandom(rnd, u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return formatUUID(u)
}

// readNetworkTree reads a network document and makes the checks libvirt
// makes before it builds its model.
func readNetworkTree(doc []byte) (*xnode, error) {
	root, err := parseTree(doc, networkURL)
	if err != nil {
		return nil, err
	}
	if root.local != "network" {
		return nil, errf(ErrXML, "unexpected root element <%s>, expecting <network>", root.local)
	}
	name, err := checkNetworkHeader(root)
	if err != nil {
		return nil, err
	}
	if err := checkForwardMode(root, name); err != nil {
		return nil, err
	}
	if err := refuseUnsupportedNetwork(root, name); err != nil {
		return nil, err
	}
	dropSilently(root)
	if err := normaliseNetworkNumbers(root, name); err != nil {
		return nil, err
	}
	return root, nil
}

// decodeNetworkChecked decodes root and works out what the model (and
// libvirt's formatter) dropped, as decodeChecked does for domains: the
// dropped parts are removed and the document decoded again, so that of
// repeated single elements the first counts.
func decodeNetworkChecked(root *xnode) (*Network, droppedItems, error) {
	var dropped droppedItems
	dropped.schema = removeForeign(root, nil)
	n, err := decodeNetwork(root, &dropped)
	if err != nil {
		return nil, dropped, err
	}
	text, err := formatNetwork(n, NetworkFormatOptions{Inactive: true}, true)
	if err != nil {
		return nil, dropped, err
	}
	out, err := parseTree([]byte(text), "(model)")
	if err != nil {
		return nil, dropped, errf(ErrInternal, "reread the network model: %v", err)
	}
	if !dropped.dropLost(root, compareNetworkNode(root, out, []*xnode{root})) {
		return n, dropped, nil
	}
	n, err = decodeNetwork(root, &dropped)
	return n, dropped, err
}

// decodeNetwork decodes root with libvirtxml, then takes what the model
// lacks from the tree: title, description, routes with prefix='0'; the
// metadata is cleaned as libvirt cleans it.
func decodeNetwork(root *xnode, dropped *droppedItems) (*Network, error) {
	var def libvirtxml.Network
	if err := xml.Unmarshal(root.xmlText(), &def); err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) {
			if msg, ok := findValue(root, nil, ne.Num); ok {
				return nil, errf(ErrXML, "%s", msg)
			}
		}
		return nil, errf(ErrXML, "cannot parse the network definition: %v", err)
	}
	n := &Network{Def: &def}
	if t := root.child("title"); t != nil {
		n.Title = xpathString(t)
	}
	if d := root.child("description"); d != nil {
		n.Description = xpathString(d)
	}
	def.Metadata = nil
	if meta := root.child("metadata"); meta != nil {
		text, silent := canonicalMetadata(meta)
		for i, s := range silent {
			silent[i] = strings.Replace(s, "/domain/metadata", "/network/metadata", 1)
		}
		def.Metadata = &libvirtxml.NetworkMetadata{XML: text}
		dropped.silent = append(dropped.silent, silent...)
	}
	for _, r := range namedChildren(root, "route") {
		if p, ok := r.attr("prefix"); ok && p == "0" {
			family, _ := r.attr("family")
			address, _ := r.attr("address")
			gateway, _ := r.attr("gateway")
			n.SetRoutePrefix(&libvirtxml.NetworkRoute{Family: family, Address: address, Gateway: gateway}, 0)
		}
	}
	normaliseForward(&def)
	return n, nil
}

// normaliseForward stores <forward dev='x'> and a first <interface
// dev='x'/> as one, as libvirt does (its formatter writes both), and
// <forward mode='none'> as no forwarding.
func normaliseForward(def *libvirtxml.Network) {
	fwd := def.Forward
	if fwd == nil {
		return
	}
	if fwd.Mode == "none" {
		def.Forward = nil
		return
	}
	switch {
	case fwd.Dev != "" && len(fwd.Interfaces) == 0:
		fwd.Interfaces = []libvirtxml.NetworkForwardInterface{{Dev: fwd.Dev}}
	case fwd.Dev == "" && len(fwd.Interfaces) > 0 && len(fwd.PFs) == 0:
		fwd.Dev = fwd.Interfaces[0].Dev
	}
}

// checkNetworkHeader makes libvirt's first checks: name, UUID, title and
// the <network> attributes. It returns the name.
func checkNetworkHeader(root *xnode) (string, error) {
	nameNode := root.child("name")
	if nameNode == nil || xpathString(nameNode) == "" {
		return "", errf(ErrNoName, "missing name information")
	}
	name := xpathString(nameNode)
	if err := illegalChars(name, "/"); err != nil {
		return "", err
	}
	if u := root.child("uuid"); u != nil && xpathString(u) != "" {
		if _, ok := parseUUID(xpathString(u)); !ok {
			return "", errf(ErrInternal, "malformed uuid element")
		}
	}
	if t := root.child("title"); t != nil && strings.Contains(xpathString(t), "\n") {
		return "", errf(ErrXML, "Network title can't contain newlines")
	}
	if v, ok := root.attr("ipv6"); ok && v != "yes" && v != "no" {
		return "", errf(ErrXML, "Invalid ipv6 setting '%s' in network '%s'", v, name)
	}
	if err := checkTristate(root, "trustGuestRxFilters"); err != nil {
		return "", err
	}
	return name, nil
}

// illegalChars is libvirt's virXMLCheckIllegalChars for a name.
func illegalChars(name, illegal string) error {
	if i := strings.IndexAny(name, illegal); i >= 0 {
		return errf(ErrXMLDetail, "invalid char in name: 0x%02x", name[i])
	}
	return nil
}

// checkTristate checks an attribute that must be yes or no
// (virXMLPropTristateBool).
func checkTristate(n *xnode, attr string) error {
	if n == nil {
		return nil
	}
	if v, ok := n.attr(attr); ok && v != "yes" && v != "no" {
		return invalidAttr(n, attr, v)
	}
	return nil
}

// unsupportedNetworkParts are elements libvirt accepts in a network but
// nsvirt cannot apply; a definition with them is refused rather than
// accepted and not honoured.
var unsupportedNetworkParts = []struct{ path []string }{
	{[]string{"vlan"}}, {[]string{"bandwidth"}}, {[]string{"port"}}, {[]string{"virtualport"}},
	{[]string{"portgroup"}}, {[]string{"forward", "pf"}}, {[]string{"forward", "address"}},
	{[]string{"forward", "driver"}},
}

// refuseUnsupportedNetwork refuses the parts of libvirt's network format
// nsvirt does not implement: VLANs, bandwidth limits, port isolation,
// virtual ports and port groups, SR-IOV pools and dnsmasq options.
func refuseUnsupportedNetwork(root *xnode, name string) error {
	for _, p := range unsupportedNetworkParts {
		if firstPath(root, p.path) != nil {
			return errf(ErrConfigUnsupported, "unsupported configuration: <%s> in network '%s' is not supported by this driver",
				strings.Join(p.path, "><"), name)
		}
	}
	for _, c := range root.elements() {
		if c.space == DnsmasqNamespace {
			return errf(ErrConfigUnsupported, "unsupported configuration: dnsmasq options in network '%s' are not supported by this driver", name)
		}
	}
	return nil
}

// dropSilently removes what libvirt reads and then drops without a word,
// so that it is not reported as unknown: ipv6='no', the connection counts
// of a running network's XML, a forward's managed attribute (used only by
// hostdev networks), leases without an expiry and <bootp> in IPv6
// addresses.
func dropSilently(root *xnode) {
	if v, ok := root.attr("ipv6"); ok && v == "no" {
		root.removeAttr(xattr{local: "ipv6", value: v})
	}
	removeAttrNamed(root, "connections")
	if fwd := root.child("forward"); fwd != nil {
		removeAttrNamed(fwd, "managed")
		for _, ifc := range namedChildren(fwd, "interface") {
			removeAttrNamed(ifc, "connections")
		}
	}
	for _, ip := range namedChildren(root, "ip") {
		dhcp := ip.child("dhcp")
		if dhcp == nil {
			continue
		}
		family, _ := ip.attr("family")
		addr, _ := ip.attr("address")
		if a, err := netip.ParseAddr(addr); family == "ipv6" || err == nil && a.Is6() {
			removeNamed(dhcp, "bootp")
		}
		for _, c := range dhcp.elements() {
			if lease := c.child("lease"); lease != nil {
				if _, ok := lease.attr("expiry"); !ok {
					removeNamed(c, "lease")
				}
			}
		}
	}
}

// removeAttrNamed removes n's unqualified attribute name.
func removeAttrNamed(n *xnode, name string) {
	if v, ok := n.attr(name); ok {
		n.removeAttr(xattr{local: name, value: v})
	}
}

// removeNamed removes n's element children named local.
func removeNamed(n *xnode, local string) {
	kept := n.children[:0]
	for _, c := range n.children {
		if c.kind == elementNode && c.space == "" && c.local == local {
			continue
		}
		kept = append(kept, c)
	}
	n.children = kept
}

// netModelNames are the element and attribute names of libvirtxml's
// network model; see modelNames.
var netModelNames = sync.OnceValue(func() knownNames {
	// libvirt's network XML has <title> and <description>; libvirtxml's
	// Network model does not.
	k := namesOf(reflect.TypeOf(libvirtxml.Network{}))
	k.elements["title"], k.elements["description"] = true, true
	return k
})

// compareNetworkNode is compareNode for network documents: it reports
// what the document has that the formatted model lacks.
func compareNetworkNode(in, out *xnode, path []*xnode) []lostItem {
	var lost []lostItem
	where := elementPath(path)
	known := netModelNames()
	have := map[[2]string]bool{}
	for _, b := range out.attrs {
		have[[2]string{b.space, b.local}] = true
	}
	for i, a := range in.attrs {
		if a.isDecl() || isZero(a.value) && known.attrs[a.local] || have[[2]string{a.space, a.local}] {
			continue
		}
		attr := &in.attrs[i]
		lost = append(lost, lostItem{
			msg:  fmt.Sprintf("attribute '%s' is not allowed in %s", a.qname(), where),
			mark: func() { attr.dropped = true },
		})
	}
	if strings.TrimSpace(in.content()) != "" && strings.TrimSpace(out.content()) == "" && !isZero(in.content()) {
		n := in
		lost = append(lost, lostItem{
			msg:  fmt.Sprintf("text '%s' is not allowed in %s", shorten(strings.TrimSpace(in.content())), where),
			mark: func() { n.markText() },
		})
	}
	if len(path) == 2 && in.space == "" && in.local == "metadata" {
		return lost
	}
	outGroups := groupElements(out)
	seen := map[string]int{}
	for _, c := range in.elements() {
		key := c.space + " " + c.local
		i := seen[key]
		seen[key]++
		if i < len(outGroups[key]) {
			lost = append(lost, compareNetworkNode(c, outGroups[key][i], append(path, c))...)
			continue
		}
		if isEmptyish(c) && known.elements[c.local] {
			continue
		}
		child := c
		lost = append(lost, lostItem{
			msg:  fmt.Sprintf("element '%s' is not allowed in %s", c.qname(), where),
			mark: func() { child.dropped = true },
		})
	}
	return lost
}
