# facecompare: PGXS build of the extension; see README.md for the demo and tests.

EXTENSION = facecompare
MODULE_big = facecompare
DATA = sql/facecompare--0.1.0.sql sql/facecompare--0.1.0--0.2.0.sql sql/facecompare--0.2.0--0.3.0.sql sql/facecompare--0.3.0--0.4.0.sql

OBJS = \
	src/batch.o \
	src/codes.o \
	src/errors.o \
	src/facecompare.o \
	src/fcerror.o \
	src/fcmem_pg.o \
	src/formenc.o \
	src/formenc_avx512.o \
	src/http.o \
	src/image.o \
	src/memo.o \
	$(PHOTO_OBJS) \
	src/photo_pg.o \
	src/queue.o \
	src/ratelimit.o \
	src/redact.o \
	src/request.o \
	src/response.o \
	src/settings.o \
	src/sharedstate.o \
	src/sign.o \
	src/strbuf.o \
	src/worker.o

# Regression tests need the scratch cluster and emulator that script/test starts.
REGRESS = setup compare memo batch validation errors faults hostile transactions settings security queue photo
REGRESS_OPTS = --load-extension=facecompare

# The version is written once, in the control file; the User-Agent says it too.
FC_VERSION := $(shell sed -n "s/^default_version = '\(.*\)'$$/\1/p" facecompare.control)
ifeq ($(FC_VERSION),)
$(error no default_version in facecompare.control)
endif

PG_CPPFLAGS = -Isrc -DFC_VERSION=\"$(FC_VERSION)\"
# -Wno-unused-parameter: callbacks and fmgr entry points take arguments they ignore.
# -Wno-clobbered: it flags PostgreSQL's own PG_TRY macro; locals that live
# across PG_TRY are declared volatile by hand instead.
# Warnings are errors where we build (script/test, so CI, sets FC_WERROR=1),
# not in a user's build against a compiler or server we have not seen.
PG_CFLAGS = -Wall -Wextra $(if $(FC_WERROR),-Werror) -Wno-unused-parameter -Wno-missing-field-initializers -Wno-clobbered
SHLIB_LINK = -lcurl -lcjson -lcrypto $(PHOTO_LIBS)

# Photo preparation (photo*.c): JPEG and PNG always; WebP and HEIC when their
# libraries are installed (a build without them says which formats it lacks).
PHOTO_SRCS = src/photo.c src/photo_exif.c src/photo_jpeg.c src/photo_png.c src/photo_webp.c src/photo_heif.c src/photo_resize.c
PHOTO_OBJS = $(PHOTO_SRCS:.c=.o)
FC_HAVE_WEBP := $(shell pkg-config --exists libwebp && echo 1)
FC_HAVE_HEIF := $(shell pkg-config --exists libheif && echo 1)
PHOTO_CFLAGS = $(if $(FC_HAVE_WEBP),-DFC_HAVE_WEBP) $(if $(FC_HAVE_HEIF),-DFC_HAVE_HEIF)
PHOTO_LIBS = -ljpeg -lpng16 $(if $(FC_HAVE_WEBP),-lwebp) $(if $(FC_HAVE_HEIF),-lheif -lpthread)
PG_CPPFLAGS += $(PHOTO_CFLAGS)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies unless the server was configured with
# --enable-depend: rebuild every object when any of our headers changes.
$(OBJS): $(wildcard src/*.h) Makefile
src/request.o: facecompare.control

# Programs outside the server: the emulator and the unit tests.
.PHONY: emulator unit-tests
emulator:
	$(MAKE) -C test/emulator

UNIT_TESTS = test/unit/test_sign test/unit/test_response test/unit/test_codes test/unit/test_redact test/unit/test_photo
UNIT_SRCS = src/sign.c src/strbuf.c src/response.c src/codes.c src/image.c src/formenc.c src/formenc_avx512.c test/common/fcmem_libc.c $(PHOTO_SRCS)
unit-tests: $(UNIT_TESTS)
# redact.c's scanner and editors are pure; the rest of the file needs the server.
test/unit/test_redact: test/unit/test_redact.c src/redact.c src/redact.h
	$(CC) -Wall -Wextra -Werror -g -O1 -DFC_REDACT_PURE -Isrc -Itest/common -o $@ $< src/redact.c
test/unit/%: test/unit/%.c $(UNIT_SRCS)
	$(CC) -Wall -Wextra -Werror -g -O1 $(PHOTO_CFLAGS) -Isrc -Itest/common -o $@ $< $(UNIT_SRCS) -lcjson -lcrypto -lm $(PHOTO_LIBS)

# The preparation core as a program of its own, for test/bench and by hand:
# `test/bench/fc_prepare in [out.jpg]` prints the header's facts and the time.
.PHONY: photo-cli
photo-cli: test/bench/fc_prepare
test/bench/fc_prepare: test/bench/fc_prepare.c $(PHOTO_SRCS) src/image.c test/common/fcmem_libc.c $(wildcard src/photo*.h)
	$(CC) -Wall -Wextra -Werror -O2 $(PHOTO_CFLAGS) -Isrc -o $@ $< $(PHOTO_SRCS) src/image.c test/common/fcmem_libc.c $(PHOTO_LIBS) -lm

clean: clean-tests
clean-tests:
	rm -f $(UNIT_TESTS) $(FUZZ_TARGETS) test/bench/fc_prepare
	-$(MAKE) -C test/emulator clean

# libFuzzer targets for the pure parsers; `make fuzz FUZZ_SECONDS=N` runs each.
FUZZ_TARGETS = test/fuzz/fuzz_response test/fuzz/fuzz_image test/fuzz/fuzz_exif test/fuzz/fuzz_photo_jpeg test/fuzz/fuzz_photo_png test/fuzz/fuzz_photo_webp test/fuzz/fuzz_photo_heif
FUZZ_SECONDS ?= 30
test/fuzz/%: test/fuzz/%.c $(UNIT_SRCS)
	clang -g -O1 -fsanitize=fuzzer,address,undefined $(PHOTO_CFLAGS) -Isrc -o $@ $< $(UNIT_SRCS) -lcjson -lcrypto -lm $(PHOTO_LIBS)
.PHONY: fuzz
fuzz: $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzzing $$t for $(FUZZ_SECONDS) s"; \
		mkdir -p $$t.corpus; \
		seeds=; [ -d test/fuzz/seed_$${t##*fuzz_} ] && seeds=test/fuzz/seed_$${t##*fuzz_}; \
		$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 \
			$$t.corpus $$seeds >$$t.log 2>&1 || { tail -40 $$t.log; exit 1; }; \
		grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' $$t.log; \
	done
