# SPDX-License-Identifier: GPL-2.0
#
# sockleak: out-of-tree module + userspace helper.
#
#   make                 module for the running kernel (KDIR=... for another)
#   make tools           the sockleak helper
#   make check           everything, tested in VMs on every kernel of the matrix
#   make demo            boot a VM, load the module, show its reports
#   make deps            install what the above need (Debian 12, root)
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
BUILD := $(CURDIR)/build
KSRC_TAR ?= /usr/src/linux-source-6.12.tar.xz
KSFT_TREE := $(BUILD)/ksft-tree
KSFT_INSTALL := $(BUILD)/ksft-install

all: module tools

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

module-clean:
	@if [ -d $(KDIR) ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi

tools:
	$(MAKE) -C tools VERSION=$(VERSION)

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

demo: deps tools selftests
	selftests/vm/run.sh --mode demo $$(selftests/vm/kernels.sh | head -1)

clean: module-clean
	$(MAKE) -C tools clean
	rm -rf $(BUILD)

.PHONY: all module module-clean tools deps selftests check demo clean
