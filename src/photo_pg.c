/*
 * photo_pg.c
 *		Photo preparation inside the server: the header rules for one side
 *		of a comparison, the preparation itself, and prepare_image() and
 *		image_info().
 *
 * JPEG, PNG and WebP are decoded in the backend: the core asks between rows
 * and steps whether a cancel or die is pending and stops, releases its
 * libraries and returns, and we raise.  Its memory is a context of its own
 * whose reset callback releases any library state an ERROR left behind.
 * HEIC has no such hook (libheif 1.15 decodes a picture in one call, 0.8 s
 * for 12 MP, with a thread of libde265's): it is decoded in a child process
 * forked for the one picture, which the backend kills at once on cancel and
 * which also contains a C++ abort.  The child uses the C library's
 * allocator, never raises, and leaves with _exit.
 */
#include "postgres.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "catalog/pg_type_d.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "fcmem.h"
#include "image.h"
#include "photo_int.h"
#include "photo_pg.h"
#include "redact.h"
#include "settings.h"

extern bool fc_mem_in_child;

static void
current_limits(FcPhotoLimits *limits)
{
	limits->max_pixels = fc_max_image_pixels;
	limits->max_bytes = fc_max_image_bytes;
}

/* The core's error as the side's error value: 22023, the rule and its figures. */
static bool
photo_error(FcError *error, const char *side, const FcPhotoError *pe)
{
	if (pe->rule == FC_RULE_OUT_OF_MEMORY)
	{
		fc_error(error, ERRCODE_OUT_OF_MEMORY, "%s%s%s", side ? side : "", side ? " " : "", pe->message);
		error->always_raise = true;
	}
	else
		fc_error(error, ERRCODE_INVALID_PARAMETER_VALUE, "%s%s%s", side ? side : "", side ? " " : "", pe->message);
	if (pe->detail[0])
		fc_error_detail(error, "%s", pe->detail);
	switch (pe->rule)
	{
		case FC_RULE_UNSUPPORTED:
		case FC_RULE_NOT_BUILT:
			fc_error_hint(error, "Convert the picture to JPEG or PNG before storing it.");
			break;
		case FC_RULE_TOO_SMALL:
			fc_error_hint(error, "Take or upload a larger picture: the service would refuse this one.");
			break;
		default:
			break;
	}
	return false;
}

/* Ensure a cancel or die is acted on now; the core stopped for it. */
static void
raise_interrupt(void)
{
	CHECK_FOR_INTERRUPTS();
	ereport(ERROR,
			(errcode(ERRCODE_QUERY_CANCELED),
			 errmsg("canceling image preparation")));
}

static bool
interrupt_pending(void *arg)
{
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

/* The whole bytes of a side: a head is read whole only when it must be. */
static void
read_whole(FcImageArg *image)
{
	bytea	   *bytes;

	if (image->avail >= image->len || image->value == (Datum) 0)
		return;
	bytes = DatumGetByteaPP(image->value);
	image->bytes = VARDATA_ANY(bytes);
	image->len = image->avail = VARSIZE_ANY_EXHDR(bytes);
}

bool
fc_photo_check_arg(const FcImageArg *image, FcError *error)
{
	FcPhotoLimits limits;
	FcPhotoInfo info;
	FcPhotoError pe;

	current_limits(&limits);
	if (image->len == 0)
		return fc_error(error, ERRCODE_INVALID_PARAMETER_VALUE, "%s image is empty", image->side);
	/* Ensure the input is within facecompare.max_image_bytes before reading more of it. */
	if ((int64) image->len > limits.max_bytes)
	{
		fc_error(error, ERRCODE_INVALID_PARAMETER_VALUE, "%s image is too large: %zu bytes",
				 image->side, image->len);
		fc_error_detail(error, "facecompare.max_image_bytes allows at most %lld bytes.",
						(long long) limits.max_bytes);
		return false;
	}
	limits.max_bytes = PG_INT64_MAX;	/* the head is not the whole */
	if (!fc_photo_check_header((const unsigned char *) image->bytes, image->avail, &limits, &info, &pe) &&
		pe.rule == FC_RULE_UNDECODABLE && image->avail < image->len)
	{
		/* The header goes on past the head: read it whole (within max_image_bytes). */
		FcImageArg	whole = *image;

		read_whole(&whole);
		if (fc_photo_check_header((const unsigned char *) whole.bytes, whole.avail, &limits, &info, &pe))
			return true;
	}
	else if (pe.rule == FC_RULE_NONE)
		return true;
	return photo_error(error, image->side, &pe);
}

/* Release what the core left live when its context goes (an ERROR too). */
static void
job_reset_callback(void *arg)
{
	fc_photo_job_cleanup((FcPhotoJob *) arg);
}

/* Run the core in this process, with interrupts polled; *out palloc'd in the caller's context. */
static bool
prepare_here(const unsigned char *data, size_t len, const FcPhotoLimits *limits,
			 unsigned char **out, size_t *outlen, FcPhotoError *pe)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext cxt = AllocSetContextCreate(caller, "facecompare photo", ALLOCSET_DEFAULT_SIZES);
	MemoryContextCallback *cb = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));
	FcPhotoJob *job = MemoryContextAlloc(cxt, sizeof(FcPhotoJob));
	unsigned char *made;
	size_t		made_len;
	bool		ok;

	fc_photo_job_init(job, interrupt_pending, NULL);
	cb->func = job_reset_callback;
	cb->arg = job;
	MemoryContextRegisterResetCallback(cxt, cb);
	MemoryContextSwitchTo(cxt);
	if (out == NULL)
		ok = fc_photo_verify(data, len, limits, job, pe);
	else
		ok = fc_photo_prepare(data, len, limits, job, &made, &made_len, pe);
	MemoryContextSwitchTo(caller);
	if (ok && out)
	{
		*out = palloc(made_len);
		memcpy(*out, made, made_len);
		*outlen = made_len;
	}
	MemoryContextDelete(cxt);
	return ok;
}

/* What the child writes before the prepared bytes. */
typedef struct ChildResult
{
	bool		ok;
	FcPhotoError error;
	size_t		len;
} ChildResult;

static pg_noreturn void
child_main(int fd, const unsigned char *data, size_t len, const FcPhotoLimits *limits)
{
	ChildResult res = {0};
	unsigned char *out = NULL;
	sigset_t	none;

	/* No handler of the backend's runs here; the child dies with its parent. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Below the backend, which must get the CPU at once to act on a cancel. */
	(void) setpriority(PRIO_PROCESS, 0, getpriority(PRIO_PROCESS, 0) + 5);
	if (getppid() == 1)
		_exit(1);
	fc_mem_in_child = true;
	res.ok = fc_photo_prepare(data, len, limits, NULL, &out, &res.len, &res.error);
	{
		const char *p = (const char *) &res;
		size_t		left = sizeof(res);

		for (int part = 0; part < 2; part++)
		{
			while (left > 0)
			{
				ssize_t		n = write(fd, p, left);

				if (n < 0)
					_exit(1);
				p += n;
				left -= n;
			}
			p = (const char *) out;
			left = res.ok ? res.len : 0;
		}
	}
	_exit(0);
}

/*
 * Run the core in a child the backend can kill: for a decoder with no way
 * to stop it.  Waits on the pipe and the latch, so cancel acts at once.
 */
static bool
prepare_in_child(const unsigned char *data, size_t len, const FcPhotoLimits *limits,
				 unsigned char **out, size_t *outlen, FcPhotoError *pe)
{
	int			fds[2];
	volatile pid_t pid;
	volatile bool ok = false;
	ChildResult res;
	char	   *volatile buf = NULL;
	volatile size_t got = 0;
	volatile size_t want = sizeof(ChildResult);

	if (pipe2(fds, O_CLOEXEC) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create a pipe for image preparation: %m")));
	pid = fork();
	if (pid < 0)
	{
		close(fds[0]);
		close(fds[1]);
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not fork to decode an image: %m")));
	}
	if (pid == 0)
	{
		close(fds[0]);
		child_main(fds[1], data, len, limits);
	}
	close(fds[1]);
	(void) fcntl(fds[0], F_SETFL, O_NONBLOCK);
	buf = palloc(sizeof(ChildResult));
	PG_TRY();
	{
		for (;;)
		{
			ssize_t		n = read(fds[0], buf + got, want - got);

			if (n > 0)
			{
				got += n;
				if (got == want && want == sizeof(ChildResult))
				{
					memcpy(&res, buf, sizeof(res));
					if (!res.ok || res.len == 0 || res.len > FC_PHOTO_MAX_OUTPUT)
						break;
					want += res.len;
					buf = repalloc(buf, want);
				}
				else if (got == want)
					break;
				continue;
			}
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				break;
			(void) WaitLatchOrSocket(MyLatch, WL_LATCH_SET | WL_SOCKET_READABLE | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
									 fds[0], 100, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}
	PG_FINALLY();
	{
		int			status = 0;

		close(fds[0]);
		/* Done or not, the child goes now: nothing of it outlives the call. */
		kill(pid, SIGKILL);
		(void) waitpid(pid, &status, 0);
	}
	PG_END_TRY();

	if (got >= sizeof(ChildResult))
	{
		*pe = res.error;
		ok = res.ok && got == want;
		if (res.ok && !ok)
			fc_photo_fail(pe, FC_RULE_UNDECODABLE, "image cannot be decoded: the decoder's process ended early");
	}
	else
		fc_photo_fail(pe, FC_RULE_UNDECODABLE, "image cannot be decoded: the decoder's process crashed");
	if (ok)
	{
		*outlen = res.len;
		*out = palloc(res.len);
		memcpy(*out, buf + sizeof(ChildResult), res.len);
	}
	pfree(buf);
	return ok;
}

/* Prepare bytes as the settings say (out NULL: verify only); raises only on cancel and the like. */
static bool
prepare_bytes(const unsigned char *data, size_t len, unsigned char **out, size_t *outlen,
			  FcPhotoError *pe)
{
	FcPhotoLimits limits;
	bool		ok;

	current_limits(&limits);
	if (out && fc_photo_format(data, len) == FC_PHOTO_HEIF)
		ok = prepare_in_child(data, len, &limits, out, outlen, pe);
	else
		ok = prepare_here(data, len, &limits, out, outlen, pe);
	if (!ok && pe->rule == FC_RULE_INTERRUPTED)
		raise_interrupt();
	return ok;
}

bool
fc_photo_prepare_arg(FcImageArg *image, FcError *error)
{
	FcPhotoInfo info;
	FcPhotoError pe;
	unsigned char *out;
	size_t		outlen;
	FcPhotoLimits limits;

	if (image->is_url || image->missing || image->prepare == FC_PREPARE_OFF || image->prepared)
		return true;
	read_whole(image);
	current_limits(&limits);
	if (!fc_photo_check_header((const unsigned char *) image->bytes, image->len, &limits, &info, &pe))
		return photo_error(error, image->side, &pe);
	/* Sent as it is: decoded only to be sure the service can (JPEG and PNG, small). */
	if (!fc_photo_needs_preparing(&info, (FcPrepareMode) image->prepare))
		return prepare_bytes((const unsigned char *) image->bytes, image->len, NULL, NULL, &pe) ||
			photo_error(error, image->side, &pe);
	if (!prepare_bytes((const unsigned char *) image->bytes, image->len, &out, &outlen, &pe))
		return photo_error(error, image->side, &pe);
	image->bytes = (const char *) out;
	image->len = image->avail = outlen;
	image->value = (Datum) 0;
	image->prepared = true;
	return true;
}

/*
 * facecompare.prepare_image(image bytea) RETURNS bytea: the picture as a
 * comparison would send it under the current settings.
 */
PG_FUNCTION_INFO_V1(facecompare_prepare_image);
Datum
facecompare_prepare_image(PG_FUNCTION_ARGS)
{
	FcImageArg	image;
	FcError		error;
	bytea	   *result;

	fc_redact_note_image_call();
	/* "the image is too large": the messages name a side, here the only one. */
	fc_image_from_datum(&image, "the", false, PG_GETARG_DATUM(0), false, false);
	if (!fc_check_image_arg(&image, &error) || !fc_photo_prepare_arg(&image, &error))
		fc_raise_error(&error);
	if (!image.prepared)
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	result = palloc(VARHDRSZ + image.len);
	SET_VARSIZE(result, VARHDRSZ + image.len);
	memcpy(VARDATA(result), image.bytes, image.len);
	PG_RETURN_BYTEA_P(result);
}

#define INFO_NCOLUMNS 8
#define INFO_MAX_PROBLEMS 8

/*
 * facecompare.image_info(image bytea): what the header says, and whether
 * the service would take the picture as it is.  Depends on no setting.
 */
PG_FUNCTION_INFO_V1(facecompare_image_info);
Datum
facecompare_image_info(PG_FUNCTION_ARGS)
{
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	const unsigned char *data = (const unsigned char *) VARDATA_ANY(bytes);
	size_t		len = VARSIZE_ANY_EXHDR(bytes);
	FcPhotoLimits limits = {PG_INT64_MAX, PG_INT64_MAX};
	FcPhotoInfo info;
	FcPhotoError pe;
	const char *problems[INFO_MAX_PROBLEMS];
	Datum		problem_datums[INFO_MAX_PROBLEMS + 1];
	int			nproblems = 0;
	bool		ok;
	TupleDesc	tupdesc;
	Datum		values[INFO_NCOLUMNS];
	bool		nulls[INFO_NCOLUMNS] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "image_info must return a row");
	tupdesc = BlessTupleDesc(tupdesc);

	/* The settings-free rules only: image_info is IMMUTABLE. */
	ok = fc_photo_check_header(data, len, &limits, &info, &pe);
	if (!ok)
		problem_datums[nproblems++] = CStringGetTextDatum(pe.message);
	if (info.header_ok)
	{
		int			n;

		ok = fc_photo_acceptable(&info, problems, INFO_MAX_PROBLEMS, &n) && ok;
		for (int i = 0; i < n && i < INFO_MAX_PROBLEMS; i++)
			if (pe.rule != FC_RULE_TOO_SMALL || strstr(problems[i], "smaller") == NULL)
				problem_datums[nproblems++] = CStringGetTextDatum(problems[i]);
	}
	else if (info.format != FC_PHOTO_UNKNOWN && info.format != FC_PHOTO_JPEG && info.format != FC_PHOTO_PNG &&
			 pe.rule != FC_RULE_UNSUPPORTED && pe.rule != FC_RULE_NOT_BUILT)
		problem_datums[nproblems++] = CStringGetTextDatum("the service takes only JPEG or PNG");

	values[0] = info.format == FC_PHOTO_UNKNOWN ? (nulls[0] = true, (Datum) 0)
		: CStringGetTextDatum(fc_photo_format_name(info.format));
	values[1] = Int32GetDatum(info.width);
	nulls[1] = !info.header_ok;
	values[2] = Int32GetDatum(info.height);
	nulls[2] = !info.header_ok;
	values[3] = Int32GetDatum(info.orientation);
	nulls[3] = !info.header_ok;
	values[4] = Int64GetDatum((int64) len);
	values[5] = BoolGetDatum(info.has_metadata);
	nulls[5] = !info.header_ok;
	values[6] = BoolGetDatum(ok && nproblems == 0);
	values[7] = PointerGetDatum(construct_array(problem_datums, nproblems, TEXTOID, -1, false, TYPALIGN_INT));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
