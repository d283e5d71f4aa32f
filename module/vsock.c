// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak - AF_VSOCK: the delayed works that hold a vsock socket for a
 * while after its owner let it go.
 *
 * struct vsock_sock (include/net/af_vsock.h) has three delayed works, and
 * each holds a reference on its socket while it is pending, put by the
 * work itself (or by whoever cancels it):
 *   connect_work  the timeout of a non-blocking connect() (vsock_connect():
 *                 sock_hold(), then the work; vsock_connect_timeout() puts)
 *   close_work    the virtio transports' close timeout: a socket shut down
 *                 waits for its peer's reset, at most VSOCK_CLOSE_TIMEOUT
 *                 (virtio_transport_close())
 *   pending_work  a connection request not accepted in time (VMCI)
 * A closed socket such a work holds is freed when the work runs: its
 * verdict is timer, the work named by "timer" (vsock_connect,
 * vsock_close, vsock_pending), not never. Only the timer's pending bit
 * and expiry are read (a work already queued counts as due now); the
 * vsock module need not be loaded, and sockleak takes no reference of
 * its own.
 *
 * Locking rules: none. The fields are read with the socket held by the
 * caller (a snapshot's reference); a work that fires meanwhile only makes
 * the verdict a moment old, as every other value of the snapshot.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/timer.h>
#include <linux/workqueue.h>
#include <net/af_vsock.h>
#include <net/sock.h>

#include "family.h"
#include "snapshot.h"

/* Is @dw pending? Then *@left_ms is when it runs (0: queued, due now). */
static bool vsock_work_left(struct delayed_work *dw, s64 *left_ms)
{
	if (timer_pending(&dw->timer)) {
		*left_ms = sockleak_snap_left_ms(READ_ONCE(dw->timer.expires));
		return true;
	}
	if (work_pending(&dw->work)) {
		*left_ms = 0;
		return true;
	}
	return false;
}

static void vsock_snap(struct sock *sk, struct sockleak_snap *s)
{
	struct vsock_sock *vsk = vsock_sk(sk);
	s64 left;

	if (vsock_work_left(&vsk->connect_work, &left))
		s->timer = SOCKLEAK_TIMER_VSOCK_CONNECT;
	else if (vsock_work_left(&vsk->close_work, &left))
		s->timer = SOCKLEAK_TIMER_VSOCK_CLOSE;
	else if (vsock_work_left(&vsk->pending_work, &left))
		s->timer = SOCKLEAK_TIMER_VSOCK_PENDING;
	else
		return;
	s->timer_left_ms = left;
}

/* AF_VSOCK's row of the family table (family.c). */
const struct sockleak_family_ops sockleak_vsock_ops = {
	.snap		= vsock_snap,
};
