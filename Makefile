# SPDX-License-Identifier: GPL-2.0
#
# sockleak: out-of-tree module + userspace helper.
#
#   make                 module for the running kernel (KDIR=... for another)
#   make tools           the sockleak helper
#   make check           everything, tested in VMs on every kernel of the matrix
#   make demo            boot a VM, load the module, show its reports
#                        (prepares only the demo's kernel: minutes)
#   make stress          long concurrent stress run in VMs (STRESS_SECONDS)
#   make soak            sockleak run 2x200 times, two at once, some interrupted
#   make bench           benchmarks in VMs (BENCH_PAIRS, BENCH_RUNS,
#                        BENCH_PINGPONG, BENCH_SCALE, BENCH_KERNELS)
#   make profile         where tracking's instructions go, per function, in
#                        VMs under a QEMU plugin (PROFILE_KERNELS):
#                        build/profile/KREL/report.md
#   make hunt            the kernel's own net selftests (mptcp, af_unix,
#                        tcp_ao) under "sockleak run" for HUNT_MINUTES on
#                        the newest kernel: build/hunt/KREL/report.md
#   make hunt-debug      the same on a debug kernel with kmemleak
#   make check-debug     selftests on debug kernels of the newest source:
#                        KASAN/lockdep/kmemleak, and PREEMPT_RT with lockdep
#   make deb             Debian packages sockleak-dkms and sockleak (build/deb/)
#   make check-install   the packages installed in a booted Debian, across a
#                        kernel upgrade, then purged (not part of "make check")
#   make deps            install what the above need (Debian 12, root) and
#                        prepare the kernel matrix (build chroots, kernels)
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
BUILD := $(CURDIR)/build
KSRC_TAR ?= /usr/src/linux-source-6.12.tar.xz
KSFT_TREE := $(BUILD)/ksft-tree
KSFT_INSTALL := $(BUILD)/ksft-install
space := $(subst ,, )
comma := ,

all: module tools

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

module-clean:
	@if [ -d $(KDIR) ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi

# The helper, and a static build of it for the guests (build/tools/).
tools:
	$(MAKE) -C tools VERSION=$(VERSION)
	$(MAKE) -C tools static VERSION=$(VERSION) STATIC_OUT=$(BUILD)/tools

deps:
	selftests/vm/deps.sh

# The kselftest framework (lib.mk, kselftest_harness.h, runner) comes from
# Debian's linux-source package at build time; it is not part of this tree.
$(KSFT_TREE)/.stamp: $(KSRC_TAR)
	rm -rf $(KSFT_TREE) && mkdir -p $(KSFT_TREE)
	tar -xJf $(KSRC_TAR) -C $(KSFT_TREE) --strip-components=1 \
		--wildcards '*/tools/testing/selftests/lib.mk' \
		'*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/run_kselftest.sh' \
		'*/tools/testing/selftests/kselftest/*' \
		'*/scripts/subarch.include' \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
	touch $@

selftests: $(KSFT_TREE)/.stamp
	rm -rf $(KSFT_TREE)/tools/testing/selftests/sockleak $(KSFT_INSTALL)
	mkdir -p $(KSFT_TREE)/tools/testing/selftests/sockleak $(KSFT_INSTALL)
	cd selftests && cp -r $$(ls -A | grep -v -E '^(vm|faultmod)$$') \
		$(KSFT_TREE)/tools/testing/selftests/sockleak/
	$(MAKE) -C $(KSFT_TREE)/tools/testing/selftests/sockleak \
		OUTPUT=$(KSFT_TREE)/tools/testing/selftests/sockleak \
		install INSTALL_PATH=$(KSFT_INSTALL)/sockleak
	cd $(KSFT_TREE)/tools/testing/selftests && \
		cp -r run_kselftest.sh kselftest $(KSFT_INSTALL)/
	$(MAKE) -s --no-print-directory \
		-C $(KSFT_TREE)/tools/testing/selftests/sockleak \
		OUTPUT=$(KSFT_TREE)/tools/testing/selftests/sockleak \
		emit_tests COLLECTION=sockleak > $(KSFT_INSTALL)/kselftest-list.txt

check: deps tools selftests
	selftests/vm/check.sh

# The demo prepares only its kernel (demo-prep.sh: bookworm's 6.12, built
# for with the host's compiler, no chroot, no kselftest tree).
demo:
	out=$$(selftests/vm/demo-prep.sh) || exit 1; set -e; set -- $$out; \
	$(MAKE) -C tools static VERSION=$(VERSION) STATIC_OUT=$(BUILD)/tools; \
	SOCKLEAK_HEADERS=$$2 SOCKLEAK_KSFT=$$3 selftests/vm/run.sh --mode demo $$1

# The long stress run (the short one is part of "make check").
STRESS_SECONDS ?= 300
STRESS_RELOADS ?= 50
stress: deps tools selftests
	for k in $$(selftests/vm/kernels.sh); do \
		selftests/vm/run.sh --only stress.sh \
			--env STRESS_SECONDS=$(STRESS_SECONDS) \
			--env STRESS_RELOADS=$(STRESS_RELOADS) \
			--timeout $$(( $(STRESS_SECONDS) * 3 + 300 )) $$k || exit 1; \
	done

# The soak of "sockleak run" (the short one is part of "make check"):
# SOAK_RUNS rounds of two runs at once, one in SOAK_KILL_EVERY interrupted.
SOAK_RUNS ?= 200
SOAK_KILL_EVERY ?= 10
soak: deps tools selftests
	for k in $$(selftests/vm/kernels.sh); do \
		selftests/vm/run.sh --only run_soak.sh \
			--env SOAK_RUNS=$(SOAK_RUNS) \
			--env SOAK_KILL_EVERY=$(SOAK_KILL_EVERY) \
			--timeout $$(( $(SOAK_RUNS) * 30 + 300 )) $$k || exit 1; \
	done

# Benchmarks in the VM (4 GiB): "cat sockets" against /proc/net/tcp and
# ss, summary, owner scan, churn with the module absent/loaded/tracking,
# and BENCH_SCALE tracked sockets. The guest's clock counts instructions
# (QEMU -icount, shift 0: one instruction per ns), so its rates and times
# do not depend on what else the host runs; BENCH_ICOUNT= (empty) runs on
# the host's clock instead.
BENCH_PAIRS ?= 5000 25000
BENCH_RUNS ?= 5
BENCH_CHURN_SECONDS ?= 2
BENCH_CHURN_ROUNDS ?= 6
BENCH_CHAIN ?= 5000 20000
BENCH_PINGPONG ?= 2000
BENCH_SCALE ?=
BENCH_ICOUNT ?= 0
BENCH_MEM ?= 4096
BENCH_KERNELS ?= $$(selftests/vm/kernels.sh)
bench: deps tools selftests
	@for k in $(BENCH_KERNELS); do \
		SOCKLEAK_VM_MEM=$(BENCH_MEM) SOCKLEAK_VM_ICOUNT=$(BENCH_ICOUNT) \
		selftests/vm/run.sh \
			--script selftests/vm/bench.sh --timeout 3600 \
			--env BENCH_PAIRS="$(subst $(space),:,$(BENCH_PAIRS))" \
			--env BENCH_RUNS=$(BENCH_RUNS) \
			--env BENCH_CHURN_SECONDS=$(BENCH_CHURN_SECONDS) \
			--env BENCH_CHURN_ROUNDS=$(BENCH_CHURN_ROUNDS) \
			--env BENCH_CHAIN="$(subst $(space),:,$(BENCH_CHAIN))" \
			--env BENCH_PINGPONG=$(BENCH_PINGPONG) \
			--env BENCH_SCALE="$(subst $(space),:,$(BENCH_SCALE))" \
			--env BENCH_SETTLE=$(if $(BENCH_ICOUNT),1,0) \
			$$k >/dev/null || exit 1; \
		selftests/vm/bench-report.sh $(BUILD)/vm/$$k-demo/results.log.txt $$k \
			| tee $(BUILD)/bench-$$k.txt; \
		grep '^BENCH ' $(BUILD)/vm/$$k-demo/results.log.txt \
			> $(BUILD)/bench-$$k.data; \
	done

# The instruction profile of tracking (selftests/vm/profile-run.sh: the
# tcgprof QEMU plugin counts every guest instruction per block; TCP and
# unix churn with tracking off, on, and without stacks; then the reads of
# `sockets` and /proc/net/tcp{,6} over PROFILE_READ sockets, 0: none;
# PROFILE_MODES=loaded:tracking picks the churn modes, - none).
PROFILE_KERNELS ?= $$(selftests/vm/kernels.sh)
profile: deps tools selftests
	selftests/vm/profile-run.sh $(PROFILE_KERNELS)

# The debug kernels (KASAN, lockdep, kmemleak...; the second one also
# PREEMPT_RT) from the newest Debian kernel source of the matrix, built
# once each with that kernel's compiler, run the selftests and the stress.
check-debug: deps tools selftests
	set -e; for v in "" --rt; do \
		tree=$$(selftests/vm/debug-kernel.sh $$v); \
		SOCKLEAK_VM_MEM=3072 selftests/vm/run.sh --tree $$tree \
			--env SL_SLOW=1 --timeout 5400 debug; \
	done

# The hunt for real leaks (selftests/vm/hunt.sh): HUNT_TESTS=a,b (names
# or prefixes, e.g. mptcp_join), HUNT_KERNEL (default: the newest).
HUNT_MINUTES ?= 60
HUNT_TESTS ?=
HUNT_KERNEL ?=
export HUNT_KERNEL
# The baseline (every test once without sockleak) runs in a second guest
# beside the hunt's; the report, made again once both are done, compares.
HUNT_TIMEOUT ?= 1800
hunt: deps tools selftests
	k=$${HUNT_KERNEL:-$$(selftests/vm/kernels.sh | tail -n 1)}; \
	selftests/vm/hunt.sh --baseline-only --timeout $(HUNT_TIMEOUT) \
		$(if $(HUNT_TESTS),--tests $(HUNT_TESTS)) $$k & \
	selftests/vm/hunt.sh --no-baseline --minutes $(HUNT_MINUTES) \
		--timeout $(HUNT_TIMEOUT) $(if $(HUNT_TESTS),--tests $(HUNT_TESTS)) $$k; \
	rc=$$?; wait $$! || rc=1; \
	selftests/vm/hunt.sh --report-only $$k || rc=1; exit $$rc

# The same on a debug kernel of the newest source with kmemleak (built
# once: debug-kernel.sh --hunt), whose reports the hunt compares with
# sockleak's.
HUNT_DEBUG_MINUTES ?= 30
hunt-debug: deps tools selftests
	tree=$$(selftests/vm/debug-kernel.sh --hunt) && \
	selftests/vm/hunt.sh --minutes $(HUNT_DEBUG_MINUTES) \
		$(if $(HUNT_TESTS),--tests $(HUNT_TESTS)) --tree $$tree

# Real upstream leaks, each with its fix reverted (selftests/bugs/*.sh,
# REVERTED_BUGS=a,b to pick): the bug's modules rebuilt from each
# kernel's own source (revert.sh), the reproducer run under "sockleak run"
# on the fixed and on the reverted modules (revert-guest.sh).
REVERTED_BUGS ?=
check-reverted: deps tools selftests
	set -e; \
	bugs="$(subst $(comma),$(space),$(REVERTED_BUGS))"; \
	[ -n "$$bugs" ] || bugs=$$(cd selftests/bugs && ls *.sh | sed 's/\.sh$$//'); \
	for k in $$(selftests/vm/kernels.sh); do \
		for b in $$bugs; do \
			d=$$(selftests/vm/revert.sh $$k $$b); \
			SOCKLEAK_VM_EXTRA=$$d selftests/vm/run.sh --timeout 600 \
				--script selftests/vm/revert-guest.sh $$k; \
		done; \
	done

# Debian packages (debian/), built from a copy of the tree in build/deb/
# and checked by lintian; then installed with apt in a Debian root booted
# under QEMU, across a kernel upgrade, and purged.
# SOCKLEAK_INSTALL_SUITE=sid runs check-install on sid.
deb:
	selftests/vm/deb.sh

# "make deb" from a release tarball (no .git): HEAD as git archive makes
# it, unpacked in build/deb-tarball/.
deb-tarball:
	rm -rf $(BUILD)/deb-tarball && mkdir -p $(BUILD)/deb-tarball
	git archive HEAD | tar -x -C $(BUILD)/deb-tarball
	$(MAKE) -C $(BUILD)/deb-tarball deb

check-install: deb deb-tarball
	selftests/vm/check-install.sh

clean: module-clean
	$(MAKE) -C tools clean
	rm -rf $(BUILD)

.PHONY: all module module-clean tools deps selftests check demo stress soak bench \
	check-debug deb deb-tarball check-install clean hunt hunt-debug profile \
	check-reverted
