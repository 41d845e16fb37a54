package nat

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Ruleset returns the nft script that defines network n's table, in the
// syntax of nft -f. n should have passed [Network.Validate].
//
// For every mode but Open the table has:
//
//   - chain input: DHCP (67, and 547 for DHCPv6) and DNS (53) from the
//     bridge are accepted;
//   - chain forward: traffic between guests on the bridge is accepted;
//     for a masqueraded subnet, traffic from it out of the bridge and
//     replies back into it are accepted; for Route, and IPv6 subnets of
//     NAT networks without NAT6 (routed, as libvirt does), any traffic
//     from or to the subnet is; all other forwarding into or out of the
//     bridge is rejected;
//   - chain postrouting (NAT only): traffic from an IPv4 subnet (and IPv6
//     with NAT6) leaving by any interface but the bridge (or by OutDev
//     alone, if set) is masqueraded, TCP and UDP to the port range.
//
// An Open network's table is empty.
func Ruleset(n Network) string {
	var b strings.Builder
	fmt.Fprintf(&b, "table inet %s {\n", Table(n.Name))
	if n.Mode != Open {
		writeChain(&b, "input", "filter hook input priority filter", inputRules(n))
		writeChain(&b, "forward", "filter hook forward priority filter", forwardRules(n))
	}
	if n.Mode == NAT {
		if rules := natRules(n); len(rules) > 0 {
			writeChain(&b, "postrouting", "nat hook postrouting priority srcnat", rules)
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// replaceScript is the transaction [Apply] feeds to nft: it creates the
// table if needed, deletes it and defines it again, atomically.
func replaceScript(n Network) string {
	t := Table(n.Name)
	return fmt.Sprintf("table inet %s\ndelete table inet %s\n%s", t, t, Ruleset(n))
}

// deleteScript deletes network name's table, and succeeds when there is
// none (nft 1.0.6 has no "destroy table").
func deleteScript(name string) string {
	t := Table(name)
	return fmt.Sprintf("table inet %s\ndelete table inet %s\n", t, t)
}

func writeChain(b *strings.Builder, name, hook string, rules []string) {
	fmt.Fprintf(b, "\tchain %s {\n\t\ttype %s; policy accept;\n", name, hook)
	for _, r := range rules {
		fmt.Fprintf(b, "\t\t%s\n", r)
	}
	b.WriteString("\t}\n")
}

func inputRules(n Network) []string {
	br := quote(n.Bridge)
	return []string{
		"iifname " + br + " udp dport { 53, 67, 547 } accept",
		"iifname " + br + " tcp dport 53 accept",
	}
}

func forwardRules(n Network) []string {
	br := quote(n.Bridge)
	rules := []string{"iifname " + br + " oifname " + br + " accept"}
	var out, in []string
	if n.OutDev != "" {
		out = []string{"oifname " + quote(n.OutDev)}
		in = []string{"iifname " + quote(n.OutDev)}
	}
	for _, p := range n.Subnets {
		var reply string
		switch {
		case n.masquerades(p):
			reply = "ct state established,related accept"
		case n.Mode == NAT || n.Mode == Route:
			reply = "accept"
		default:
			continue
		}
		from := slices.Concat([]string{"iifname " + br}, out, []string{family(p) + " saddr " + p.String(), "accept"})
		to := slices.Concat(in, []string{"oifname " + br, family(p) + " daddr " + p.String(), reply})
		rules = append(rules, strings.Join(from, " "), strings.Join(to, " "))
	}
	return append(rules, "iifname "+br+" reject", "oifname "+br+" reject")
}

func natRules(n Network) []string {
	out := "oifname != " + quote(n.Bridge)
	if n.OutDev != "" {
		out = "oifname " + quote(n.OutDev)
	}
	ports := n.Ports
	if ports == (PortRange{}) {
		ports = defaultPorts
	}
	var rules []string
	for _, p := range n.Subnets {
		if !n.masquerades(p) {
			continue
		}
		match := family(p) + " saddr " + p.String() + " " + out
		rules = append(rules,
			fmt.Sprintf("%s meta l4proto { tcp, udp } masquerade to :%d-%d", match, ports.Start, ports.End),
			match+" masquerade")
	}
	return rules
}

// masquerades reports whether subnet p of n is translated: IPv4 subnets
// of NAT networks, and IPv6 ones with NAT6. Like libvirt, a NAT network
// routes the IPv6 subnets it does not translate.
func (n Network) masquerades(p netip.Prefix) bool {
	return n.Mode == NAT && (p.Addr().Is4() || n.NAT6)
}

// family is the nft payload protocol matching p's addresses.
func family(p netip.Prefix) string {
	if p.Addr().Is4() {
		return "ip"
	}
	return "ip6"
}

// quote writes an interface name as an nft string; [checkIfname] has
// refused names with quotes or backslashes.
func quote(s string) string { return `"` + s + `"` }
