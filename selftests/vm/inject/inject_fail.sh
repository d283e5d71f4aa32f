#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Harness self-test: a test that always fails. Only packed on request.
echo "TAP version 13"
echo "1..1"
echo "not ok 1 deliberate failure from the harness self-test"
exit 1
