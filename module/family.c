// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - the socket families: their names, which of them number
 * sk_state as TCP does, and the protocol name of any socket.
 *
 * Every family allocates its sockets with sk_alloc() and sets them up with
 * sock_init_data(), where the track probes see them, so the track table
 * holds sockets of every family. The hash walk (walk.c) and the
 * per-protocol teardown steps know TCP, UDP, UDP-Lite and MPTCP only
 * ("followed" protocols: proto.c's rows); a socket of any other
 * protocol is reported with its family's name and its protocol's own name
 * (sk->sk_prot_creator->name, as /proc/net/protocols prints it, in lower
 * case), its state only where the family numbers sk_state as TCP does.
 *
 * The table is also the seam for what a family adds of its own: a row
 * may point to a struct sockleak_family_ops (family.h), defined in the
 * family's file: values its snapshot adds (AF_UNIX: the peer that holds
 * a closed socket; AF_VSOCK, vsock.c: the delayed work that holds one),
 * probes attached while tracking (AF_UNIX: messages in flight). Adding a
 * family is its file and its row here.
 *
 * Locking rules: none; the table is constant. The protocol name is read
 * from a socket the caller holds (the socket pins its protocol's module).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <net/sock.h>

#include "family.h"
#include "proto.h"
#include "snapshot.h"

/* Names as ss and iproute2 spell the families, where they do. */
static const struct family_row {
	const char *name;
	bool tcp_states;	/* sk_state in TCP's numbering (ss names) */
	const struct sockleak_family_ops *ops;	/* NULL: nothing of its own */
} families[AF_MAX] = {
	[AF_UNIX]	= { "unix", true, &sockleak_unix_ops },
	[AF_INET]	= { "inet", true },
	[AF_AX25]	= { "ax25" },
	[AF_IPX]	= { "ipx" },
	[AF_APPLETALK]	= { "appletalk" },
	[AF_NETROM]	= { "netrom" },
	[AF_BRIDGE]	= { "bridge" },
	[AF_ATMPVC]	= { "atmpvc" },
	[AF_X25]	= { "x25" },
	[AF_INET6]	= { "inet6", true },
	[AF_ROSE]	= { "rose" },
	[AF_KEY]	= { "key" },
	[AF_NETLINK]	= { "netlink" },
	[AF_PACKET]	= { "packet" },
	[AF_ATMSVC]	= { "atmsvc" },
	[AF_RDS]	= { "rds" },
	[AF_PPPOX]	= { "pppox" },
	[AF_LLC]	= { "llc" },
	[AF_MPLS]	= { "mpls" },
	[AF_CAN]	= { "can" },
	[AF_TIPC]	= { "tipc", true },
	[AF_BLUETOOTH]	= { "bluetooth" },
	[AF_IUCV]	= { "iucv" },
	[AF_RXRPC]	= { "rxrpc" },
	[AF_ISDN]	= { "isdn" },
	[AF_PHONET]	= { "phonet" },
	[AF_IEEE802154]	= { "ieee802154" },
	[AF_CAIF]	= { "caif" },
	[AF_ALG]	= { "alg" },
	[AF_NFC]	= { "nfc" },
	[AF_VSOCK]	= { "vsock", true, &sockleak_vsock_ops },
	[AF_KCM]	= { "kcm" },
	[AF_QIPCRTR]	= { "qipcrtr" },
	[AF_SMC]	= { "smc", true },
	[AF_XDP]	= { "xdp" },
	[AF_MCTP]	= { "mctp" },
};

/* The family's name; "af<N>" (in @buf) for one this table does not name. */
const char *sockleak_family_name(unsigned int family, char *buf, size_t len)
{
	if (family < AF_MAX && families[family].name)
		return families[family].name;
	snprintf(buf, len, "af%u", family);
	return buf;
}

/* Does the family number sk_state as TCP does (UNCONN, ESTAB, LISTEN)? */
bool sockleak_family_tcp_states(unsigned int family)
{
	return family < AF_MAX && families[family].tcp_states;
}

/* The snapshot values @sk's family adds (process context, @sk held). */
void sockleak_family_snap(struct sock *sk, struct sockleak_snap *s)
{
	const struct sockleak_family_ops *ops;

	ops = s->family < AF_MAX ? families[s->family].ops : NULL;
	if (ops && ops->snap)
		ops->snap(sk, s);
}

/* Attach every family's probes (track=on); a family without them is fine. */
void sockleak_family_probes_start(void)
{
	unsigned int i;

	for (i = 0; i < AF_MAX; i++)
		if (families[i].ops && families[i].ops->probes_start)
			families[i].ops->probes_start();
}

/* Detach them (track=off); no handler of theirs runs after this. */
void sockleak_family_probes_stop(void)
{
	unsigned int i;

	for (i = 0; i < AF_MAX; i++)
		if (families[i].ops && families[i].ops->probes_stop)
			families[i].ops->probes_stop();
}

/* Events their probes missed since track=on. */
unsigned long sockleak_family_probes_missed(void)
{
	unsigned long n = 0;
	unsigned int i;

	for (i = 0; i < AF_MAX; i++)
		if (families[i].ops && families[i].ops->probes_missed)
			n += families[i].ops->probes_missed();
	return n;
}

/* The family named @name (a sockleak_family_name()), or -EINVAL. */
int sockleak_family_parse(const char *name)
{
	unsigned int i;

	for (i = 0; i < AF_MAX; i++)
		if (families[i].name && !strcmp(name, families[i].name))
			return i;
	return -EINVAL;
}

/*
 * The name of @sk's protocol into @buf: a followed protocol's (@proto,
 * sockleak_inet_proto()) as the reports always printed it, any other as
 * its struct proto names itself, in lower case ("unix", "unix-stream",
 * "netlink", "packet", "raw", ...). @sk is referenced by the caller.
 */
void sockleak_sk_proto_name(const struct sock *sk, u16 proto, char *buf,
			    size_t len)
{
	const struct sockleak_proto_ops *ops = sockleak_proto(proto);
	const struct proto *prot;
	size_t i;

	if (ops) {
		strscpy(buf, ops->name, len);
		return;
	}
	prot = READ_ONCE(sk->sk_prot_creator);
	strscpy(buf, prot ? prot->name : "?", len);
	for (i = 0; i < len && buf[i]; i++)
		buf[i] = isspace(buf[i]) ? '_' : tolower(buf[i]);
}
