# The version is written once, in facecompare.control (default_version);
# every build reads it here: the extension (User-Agent, module magic), the
# emulator's --version, META.json's check and the Debian package's check.
FC_VERSION := $(shell sed -n "s/^default_version = '\(.*\)'$$/\1/p" $(dir $(lastword $(MAKEFILE_LIST)))facecompare.control)
ifeq ($(FC_VERSION),)
$(error no default_version in facecompare.control)
endif
