// SPDX-License-Identifier: GPL-2.0
/*
 * tcgprof: a QEMU TCG plugin that counts the guest instructions executed
 * per translation block, for make profile (profile.sh). QEMU counts every
 * instruction, so the profile is exact and does not depend on what else
 * the host runs, like make bench's instruction clock.
 *
 *   -plugin tcgprof.so,out=PREFIX,mark=0xADDR
 *
 * Each time the guest executes the block at ADDR (a kernel function the
 * guest's script calls between phases: the setdomainname system call),
 * the counts since the previous mark are written to PREFIX.N (N = 0, 1,
 * ...: "vaddr instructions" per line, blocks that ran) and reset; the
 * rest at exit. profile-report.py maps addresses to symbols.
 *
 * The few declarations of QEMU's plugin API used here (version 1, QEMU
 * 7.2's) are written out below: Debian ships no qemu-plugin.h.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index,
					    void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
					  qemu_plugin_vcpu_udata_cb_t cb,
					  enum qemu_plugin_cb_flags flags,
					  void *userdata);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
					      enum qemu_plugin_op op,
					      void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

struct block {
	uint64_t vaddr;
	uint64_t insns;		/* executed since the last mark */
};

/* Open addressing, never shrinks; blocks are never freed (stable). */
static struct block **tbl;
static size_t tbl_size, tbl_used;
static const char *out_prefix = "tcgprof";
static uint64_t mark_vaddr;
static unsigned int phase;

static size_t slot_of(uint64_t vaddr, size_t size)
{
	return (size_t)((vaddr * 0x9e3779b97f4a7c15ULL) >> 20) & (size - 1);
}

static void grow(void)
{
	size_t nsize = tbl_size ? tbl_size * 2 : 1 << 16;
	struct block **n = calloc(nsize, sizeof(*n));
	size_t i, j;

	if (!n) {
		perror("tcgprof");
		exit(1);
	}
	for (i = 0; i < tbl_size; i++) {
		if (!tbl[i])
			continue;
		for (j = slot_of(tbl[i]->vaddr, nsize); n[j];
		     j = (j + 1) & (nsize - 1))
			;
		n[j] = tbl[i];
	}
	free(tbl);
	tbl = n;
	tbl_size = nsize;
}

static struct block *block_of(uint64_t vaddr)
{
	size_t j;

	if (2 * (tbl_used + 1) > tbl_size)
		grow();
	for (j = slot_of(vaddr, tbl_size); tbl[j]; j = (j + 1) & (tbl_size - 1))
		if (tbl[j]->vaddr == vaddr)
			return tbl[j];
	tbl[j] = calloc(1, sizeof(*tbl[j]));
	if (!tbl[j]) {
		perror("tcgprof");
		exit(1);
	}
	tbl[j]->vaddr = vaddr;
	tbl_used++;
	return tbl[j];
}

static void dump(void)
{
	char path[4096];
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%s.%u", out_prefix, phase++);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return;
	}
	for (i = 0; i < tbl_size; i++) {
		if (!tbl[i] || !tbl[i]->insns)
			continue;
		fprintf(f, "%" PRIx64 " %" PRIu64 "\n", tbl[i]->vaddr,
			tbl[i]->insns);
		tbl[i]->insns = 0;
	}
	fclose(f);
}

static void on_mark(unsigned int vcpu_index, void *userdata)
{
	(void)vcpu_index;
	(void)userdata;
	dump();
}

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	struct block *b = block_of(vaddr);

	(void)id;
	if (mark_vaddr && vaddr == mark_vaddr)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, on_mark,
						     QEMU_PLUGIN_CB_NO_REGS,
						     NULL);
	qemu_plugin_register_vcpu_tb_exec_inline(tb,
						 QEMU_PLUGIN_INLINE_ADD_U64,
						 &b->insns,
						 qemu_plugin_tb_n_insns(tb));
}

static void on_exit(qemu_plugin_id_t id, void *userdata)
{
	(void)id;
	(void)userdata;
	dump();
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
			int argc, char **argv)
{
	int i;

	(void)info;
	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4))
			out_prefix = argv[i] + 4;
		else if (!strncmp(argv[i], "mark=", 5))
			mark_vaddr = strtoull(argv[i] + 5, NULL, 0);
		else {
			fprintf(stderr, "tcgprof: unknown argument %s\n",
				argv[i]);
			return -1;
		}
	}
	grow();
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
	qemu_plugin_register_atexit_cb(id, on_exit, NULL);
	return 0;
}
