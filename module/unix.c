// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - AF_UNIX: who holds a closed unix socket that is not freed.
 *
 * A connected unix socket holds a reference on its peer (unix_peer(),
 * taken at connect or socketpair()). When one end is closed, the other
 * keeps that reference until it is closed itself (a stream peer) or
 * until it sends or connects again (a datagram peer): the closed socket,
 * and whatever it sent that still sits in the peer's queue (its wmem),
 * live on for as long as an owner keeps the peer open. That is no leak:
 * the socket is held by its peer's owner. sockleak_unix_peer_holder()
 * finds such a peer among the sockets of the track table.
 *
 * Locking rules: none of its own. The track table hands out referenced
 * sockets (sockleak_track_grab()); a peer pointer is read with READ_ONCE()
 * and only compared, never followed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <net/af_unix.h>
#include <net/sock.h>

#include "sockleak.h"
#include "track.h"
#include "walk.h"

#define UNIX_BATCH	16

/*
 * The cookie of a live (not closed) unix socket whose peer is @sk, 0 for
 * none the track table knows. Process context; @sk is referenced.
 */
u64 sockleak_unix_peer_holder(const struct sock *sk)
{
	struct sockleak_ref refs[UNIX_BATCH];
	unsigned long pos = 0;
	u64 found = 0;
	int i, n;

	while (!found && (n = sockleak_track_grab(&pos, SOCKLEAK_TRACK_UNHASHED,
						  0, refs, NULL, UNIX_BATCH))) {
		for (i = 0; i < n && !found; i++) {
			struct sock *p = refs[i].sk;

			if (p == sk || p->sk_family != AF_UNIX ||
			    sock_flag(p, SOCK_DEAD) ||
			    READ_ONCE(unix_sk(p)->peer) != sk)
				continue;
			found = sockleak_sk_cookie(p);
		}
		sockleak_walk_put(refs, n);
	}
	return found;
}
