#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Harness self-test: load a module that WARNs. With panic_on_warn the guest
# dies here; the host must report the splat. Only packed on request.
echo "TAP version 13"
echo "1..1"
insmod "/lib/modules/$(uname -r)/extra/sockleak_splat.ko"
echo "ok 1 guest survived a WARN (panic_on_warn not in effect?)"
