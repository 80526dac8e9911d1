# Top-level targets.  The module itself is built by kernel/Makefile; the
# harness lives in tests/vm/ (see tests/vm/check.sh for what "check" runs).
#
#   make                 build kernel/spl_kmem.ko in place against KDIR
#   make check           deps + host checks + VM tests on $(KERNELS)
#                        (default: every kernel in tests/vm/kernels.list);
#                        the last line is "N passed, N failed"
#   make check-host      deps + W=1/sparse builds + export clash checks
#   make check-vm KERNELS="6.1"   deps + VM tests on the given kernels
#   make user            build splkmemctl (and lib/libsplkmem.a)
#   make demo            boot the VM and show splkmemctl and spl-kmemd at work
#   make bench           benchmarks: writes BENCHMARKS.md and BENCHMARKS.png
#   make check-packaging deps + packaging checks + install journeys (Debian 12, 13)
#   make deb             Debian packages in build/deb (DEB_RELEASES="bookworm trixie")
#   make rpm             the noarch spl-kmem-dkms RPM in build/rpm, spec checks
#   make rpm-all         every RPM (on Fedora/RHEL)
#   make install         splkmemctl, spl-kmemd, unit, config, man pages (PREFIX=/usr/local)
#   make install-dkms    the module through DKMS, for every kernel with headers
#   make uninstall-dkms  remove it from DKMS and /usr/src
#   make deps            install the host packages
#   make clean           remove build output (keeps the trixie chroot)
#   make distclean       also remove build/; the caches (Debian 13 chroot,
#                        debug kernel) stay: make distclean-cache

SHELL := /bin/bash
# Kernel ids from tests/vm/kernels.list; empty: all of them.
KERNELS ?=
PREFIX ?= /usr/local
# Releases whose spl-kmem-tools "make deb" builds; empty: this machine's.
DEB_RELEASES ?=

# Headers of the running kernel when installed, else the newest installed
# non-RT ones, else any.
KDIR ?= $(shell \
	d=/lib/modules/$$(uname -r)/build; \
	if [ -d "$$d" ]; then echo "$$d"; exit; fi; \
	ls -d /lib/modules/*/build 2>/dev/null | grep -v -- '-rt-' | sort -V | tail -n1 | grep . || \
	ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n1)

.PHONY: all modules user daemon demo bench check check-host check-vm check-packaging \
	deb rpm rpm-all install install-dkms uninstall-dkms deps clean distclean distclean-cache help

all: modules user

modules:
	@test -n "$(KDIR)" || { echo "no kernel headers found: run tests/vm/deps.sh or pass KDIR=" >&2; exit 1; }
	$(MAKE) -C kernel KDIR=$(KDIR)

user:
	$(MAKE) -C ctl

daemon:
	$(MAKE) -C daemon

deb:
	@packaging/build-deb.sh $(DEB_RELEASES)

rpm:
	@packaging/build-rpm.sh

rpm-all:
	@packaging/build-rpm.sh --all

# From source, without packages; the module: install-dkms.
install: user daemon
	$(MAKE) -C ctl install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)
	$(MAKE) -C daemon install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)
	install -D -m 644 packaging/spl-kmem.modules-load.conf \
		$(DESTDIR)$(PREFIX)/lib/modules-load.d/spl-kmem.conf

install-dkms:
	@DESTDIR=$(DESTDIR) packaging/dkms-install.sh

uninstall-dkms:
	@DESTDIR=$(DESTDIR) packaging/dkms-install.sh --uninstall

demo:
	@tests/vm/deps.sh
	@tests/genl/run-vm.sh --demo $(or $(DEMO_KERNEL),6.1)
	@tests/daemon/run-vm.sh --demo $(or $(DEMO_KERNEL),6.1)

bench:
	@tests/vm/deps.sh
	@tests/bench/run.sh $(BENCH_ARGS)

check:
	@tests/vm/check.sh --deps --host --vm --packaging $(KERNELS)

check-host:
	@tests/vm/check.sh --deps --host

check-vm:
	@tests/vm/check.sh --deps --vm $(KERNELS)

check-packaging:
	@tests/vm/check.sh --deps --packaging

deps:
	@tests/vm/deps.sh

clean:
	-@if [ -n "$(KDIR)" ]; then \
		$(MAKE) -C kernel KDIR=$(KDIR) clean; \
		if [ -f tests/kmod/Makefile ]; then $(MAKE) -C tests/kmod KDIR=$(KDIR) clean; fi; \
	fi
	-$(MAKE) -C ctl clean
	-$(MAKE) -C tests/genl/tools clean
	rm -rf build/obj build/vm build/check build/deb build/rpm
	@bash -c 'shopt -s nullglob; . tests/vm/lib.sh; for r in build/journey/*/rootfs; do \
		CHROOT_DIR=$$(realpath $$r); chroot_umount_all; done'
	rm -rf --one-file-system build/journey

distclean: clean
	@bash -c '. tests/vm/lib.sh && chroot_umount_all'
	rm -rf --one-file-system build

# What a machine keeps between clones: the Debian 13 chroot and the debug
# kernel (SPLKMEM_CACHE, default /var/cache/spl-kmem).
distclean-cache: distclean
	rm -rf --one-file-system $${SPLKMEM_CACHE:-/var/cache/spl-kmem}

help:
	@sed -n '3,23s/^# \{0,1\}//p' Makefile
