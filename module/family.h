/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockleak - the socket families (family.c): their names, any socket's
 * protocol name, the family table and what a family adds of its own
 * (struct sockleak_family_ops), which the family's file defines (unix.c,
 * vsock.c).
 */
#ifndef _SOCKLEAK_FAMILY_H
#define _SOCKLEAK_FAMILY_H

#include <linux/socket.h>
#include <linux/types.h>

struct sock;
struct sockleak_snap;

/* A protocol's name as the reports print it (family.c), NUL included. */
#define SOCKLEAK_PROTO_NAME_LEN	16

/* family.c */
const char *sockleak_family_name(unsigned int family, char *buf, size_t len);
bool sockleak_family_tcp_states(unsigned int family);
int sockleak_family_parse(const char *name);
void sockleak_family_snap(struct sock *sk, struct sockleak_snap *s);
void sockleak_family_probes_start(void);
void sockleak_family_probes_stop(void);
unsigned long sockleak_family_probes_missed(void);

/*
 * What a family adds of its own (family.c's table points to it; the
 * family's file defines it). Every member may be NULL.
 */
struct sockleak_family_ops {
	/* Snapshot values of its own (snapshot.c; process context, held). */
	void (*snap)(struct sock *sk, struct sockleak_snap *s);
	/* Probes attached at track=on and detached at track=off. */
	void (*probes_start)(void);
	void (*probes_stop)(void);
	unsigned long (*probes_missed)(void);
};
void sockleak_sk_proto_name(const struct sock *sk, u16 proto, char *buf,
			    size_t len);

/* An inet family: addresses, ports and TCP's states. */
static inline bool sockleak_inet_family(unsigned int family)
{
	return family == AF_INET || family == AF_INET6;
}

/* vsock.c */
extern const struct sockleak_family_ops sockleak_vsock_ops;

/* unix.c */
extern const struct sockleak_family_ops sockleak_unix_ops;
bool sockleak_unix_in_flight_known(void);
u32 sockleak_unix_in_flight(u64 cookie, u64 *rcv);

#endif /* _SOCKLEAK_FAMILY_H */
