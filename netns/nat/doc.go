// Package nat holds the host-side firewall and sysctl state of one
// libvirt-style virtual network: an nftables table per network (masquerade,
// forward and isolation rules for the modes nat, route, open and
// isolated), the ip_forward sysctls that NAT and routed networks need,
// reference-counted across networks and restored when the last one stops,
// and the check that refuses a subnet colliding with a host route.
//
// It shells out to nft(8), as libvirt does, and takes its own small
// [Network] type. It must not know libvirt network XML, the RPC protocol or
// the driver; translation from XML happens in the caller. Bridges, veths
// and addresses belong to the netns package, DHCP and DNS to
// netns/dnsmasq.
//
// Every network gets its own table, "table inet nsvirt-<name>", so one
// network's rules can be replaced or deleted alone, and a restarted daemon
// can find what a crashed one left behind with [ListTables].
//
// nftables evaluates every base chain on a hook: an accept in this
// package's tables cannot override a drop in another table (or in
// iptables-legacy rules such as a FORWARD policy of DROP). The accept rules
// here therefore only matter within the network's own table; the reject
// rules always take effect.
package nat
