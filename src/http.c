/*
 * http.c
 *		Send requests to the service over the backend's libcurl handles.
 *
 * A multi handle and a pool of easy handles live as long as the backend,
 * so connections and TLS sessions are reused from call to call, and a batch
 * can have up to FC_MAX_CONCURRENCY requests in flight.  The transfer
 * is driven through the multi-socket API: curl tells us which sockets to
 * watch and when its next timer is due, and we wait on those sockets and the
 * process latch together.  Query cancel and statement_timeout set the latch,
 * so a wait ends at once rather than at curl's next progress tick.
 *
 * curl allocates with malloc, outside any memory context: the only such
 * memory held across a possible ERROR is each transfer's header list, and
 * whoever drives transfers calls fc_http_abort_all() in a PG_FINALLY, which
 * detaches every easy handle and frees the lists, so the next call starts
 * clean.
 *
 * Every socket curl opens is reported to fd.c, as postgres_fdw does for its
 * connections, so that up to FC_MAX_CONCURRENCY connections kept alive in
 * curl's cache count against max_files_per_process: open_socket_callback()
 * takes one only after AcquireExternalFD() agrees, and gives it back when
 * curl closes the connection (a transfer removed unfinished, one dropped
 * from the cache) through close_socket_callback().  curl 7.88 to 8.1 close a
 * socket whose connect has not finished (an aborted transfer, the loser of a
 * happy-eyeballs race) without that callback, so counted[] remembers each
 * socket's identity and forget_closed_sockets() gives back those that are
 * gone.  At backend exit nothing needs giving back: the count dies with the
 * process.
 */
#include "postgres.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "http.h"
#include "pgcompat.h"
#include "settings.h"
#include "waitevent.h"

/* Two sockets per transfer at most (happy eyeballs), plus curl's own. */
#define MAX_WATCHED_SOCKETS (2 * FC_MAX_CONCURRENCY + 8)

/* Longest single wait when curl has no timer running: a safety net. */
#define MAX_WAIT_MS 1000

typedef struct WatchedSocket
{
	curl_socket_t fd;
	int			what;			/* CURL_POLL_IN, _OUT or _INOUT */
} WatchedSocket;

/* A socket counted with AcquireExternalFD(), and which one it is. */
typedef struct CountedSocket
{
	curl_socket_t fd;
	dev_t		dev;
	ino_t		ino;
} CountedSocket;

/* Where the write callback puts the answer. */
typedef struct ResponseSink
{
	MemoryContext context;
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		too_large;
	bool		out_of_memory;
} ResponseSink;

/* One request in flight, on one of the pool's easy handles. */
typedef struct Transfer
{
	CURL	   *easy;
	bool		active;
	struct curl_slist *headers;
	ResponseSink sink;
	char		errbuf[CURL_ERROR_SIZE];
	void	   *owner;
	bool		out_of_fds;		/* a socket was refused: fd.c had none left */
} Transfer;

static CURLM *multi_handle = NULL;
static Transfer transfers[FC_MAX_CONCURRENCY];
static int	nactive = 0;
static WatchedSocket watched[MAX_WATCHED_SOCKETS];
static int	nwatched = 0;
static TimestampTz timer_due = 0;	/* 0: curl has no timer running */
static bool socket_table_full = false;

/* As many as curl may hold: see CURLMOPT_MAXCONNECTS in ensure_multi(). */
static CountedSocket counted[MAX_WATCHED_SOCKETS];
static int	ncounted = 0;

/*
 * The set of events we wait on, kept from wait to wait while curl watches
 * the same sockets for the same things: a request body goes out in many
 * writes, and building a set costs an epoll instance and a call per socket.
 * socket_callback() marks it stale whenever what curl watches changes.
 */
static WaitEventSet *wait_set = NULL;
static bool wait_set_stale = true;

/* curl tells us which sockets to watch for what. */
static int
socket_callback(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	int			i;

	for (i = 0; i < nwatched; i++)
		if (watched[i].fd == fd)
			break;

	wait_set_stale = true;
	if (what == CURL_POLL_REMOVE)
	{
		if (i < nwatched)
			watched[i] = watched[--nwatched];
		return 0;
	}
	if (i == nwatched)
	{
		if (nwatched == MAX_WATCHED_SOCKETS)
		{
			socket_table_full = true;
			return -1;
		}
		nwatched++;
	}
	watched[i].fd = fd;
	watched[i].what = what;
	return 0;
}

/* curl tells us when it next needs to be called whatever the sockets do. */
static int
timer_callback(CURLM *multi, long timeout_ms, void *userp)
{
	if (timeout_ms < 0)
		timer_due = 0;
	else
		timer_due = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	return 0;
}

/*
 * Collect the answer.  Never raise an ERROR here (it would unwind through
 * curl): refusing the data makes curl stop with CURLE_WRITE_ERROR instead.
 */
static size_t
write_callback(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	ResponseSink *sink = (ResponseSink *) userdata;
	size_t		n = size * nmemb;

	if (sink->len + n > FC_MAX_RESPONSE_BYTES)
	{
		sink->too_large = true;
		return 0;
	}
	if (sink->len + n + 1 > sink->cap)
	{
		size_t		cap = Max(sink->cap * 2, sink->len + n + 1);
		char	   *data;

		cap = Min(cap, (size_t) FC_MAX_RESPONSE_BYTES + 1);
		data = MemoryContextAllocExtended(sink->context, cap, MCXT_ALLOC_NO_OOM);
		if (data == NULL)
		{
			sink->out_of_memory = true;
			return 0;
		}
		if (sink->data)
		{
			memcpy(data, sink->data, sink->len);
			pfree(sink->data);
		}
		sink->data = data;
		sink->cap = cap;
	}
	memcpy(sink->data + sink->len, ptr, n);
	sink->len += n;
	sink->data[sink->len] = '\0';
	return n;
}

static void
uncount(int i)
{
	counted[i] = counted[--ncounted];
	ReleaseExternalFD();
}

/* Give back the count of each socket that curl closed without telling us. */
static void
forget_closed_sockets(void)
{
	for (int i = ncounted - 1; i >= 0; i--)
	{
		struct stat st;

		if (fstat(counted[i].fd, &st) != 0 ||
			st.st_dev != counted[i].dev || st.st_ino != counted[i].ino)
			uncount(i);
	}
}

static bool
count_socket(void)
{
	return ncounted < (int) lengthof(counted) && AcquireExternalFD();
}

/*
 * curl needs a socket for a connection: open one only if fd.c can spare it.
 * Refusing makes curl fail the transfer with CURLE_COULDNT_CONNECT, which
 * classify_failure() reports as the shortage it is.  Never an ERROR here.
 */
static curl_socket_t
open_socket_callback(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
	Transfer   *t = (Transfer *) clientp;
	curl_socket_t fd;
	struct stat st;

	if (!count_socket())
	{
		/* Some may be counted still though curl closed them. */
		forget_closed_sockets();
		if (!count_socket())
		{
			t->out_of_fds = true;
			return CURL_SOCKET_BAD;
		}
	}
	fd = socket(address->family, address->socktype, address->protocol);
	if (fd == CURL_SOCKET_BAD || fstat(fd, &st) != 0)
	{
		int			save_errno = errno;

		if (fd != CURL_SOCKET_BAD)
			close(fd);
		ReleaseExternalFD();
		errno = save_errno;
		return CURL_SOCKET_BAD;
	}
	/* The kernel reuses a number only once closed: curl closed it silently. */
	for (int i = 0; i < ncounted; i++)
		if (counted[i].fd == fd)
		{
			uncount(i);
			break;
		}
	counted[ncounted].fd = fd;
	counted[ncounted].dev = st.st_dev;
	counted[ncounted].ino = st.st_ino;
	ncounted++;
	return fd;
}

/*
 * curl closes a socket that open_socket_callback() opened.  The connection
 * keeps the callback of the handle that opened it, so this runs for the
 * socket whichever transfer, if any, holds the connection by then; one
 * already given back as closed is not counted any more.
 */
static int
close_socket_callback(void *clientp, curl_socket_t fd)
{
	for (int i = 0; i < ncounted; i++)
		if (counted[i].fd == fd)
		{
			uncount(i);
			break;
		}
	return close(fd);
}

/* Milliseconds until curl's timer is due, capped; 0 when already due. */
static long
wait_budget_ms(void)
{
	long		secs;
	int			usecs;

	if (timer_due == 0)
		return MAX_WAIT_MS;
	TimestampDifference(GetCurrentTimestamp(), timer_due, &secs, &usecs);
	return Min(secs * 1000 + (usecs + 999) / 1000, MAX_WAIT_MS);
}

/* Build the wait set afresh from what curl watches now. */
static void
build_wait_set(void)
{
	if (wait_set)
		FreeWaitEventSet(wait_set);
	wait_set = NULL;
	/* Stays stale if an ERROR cuts this short: the next wait rebuilds it. */
	wait_set_stale = true;
	wait_set = fc_create_wait_event_set(nwatched + 2);
	AddWaitEventToSet(wait_set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(wait_set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int i = 0; i < nwatched; i++)
	{
		uint32		events = 0;

		if (watched[i].what & CURL_POLL_IN)
			events |= WL_SOCKET_READABLE;
		if (watched[i].what & CURL_POLL_OUT)
			events |= WL_SOCKET_WRITEABLE;
		if (events)
			AddWaitEventToSet(wait_set, events, watched[i].fd, NULL, (void *) (intptr_t) i);
	}
	wait_set_stale = false;
}

/*
 * Wait for a watched socket, the latch or curl's timer.  Fills fired[] with
 * the curl event mask of each watched socket (0 when quiet) and returns
 * whether the latch was set.
 */
static bool
wait_for_activity(long timeout_ms, int *fired)
{
	WaitEvent	occurred[MAX_WATCHED_SOCKETS + 2];
	int			noccurred;
	bool		latch_set = false;

	memset(fired, 0, sizeof(int) * MAX_WATCHED_SOCKETS);
	if (wait_set_stale || wait_set == NULL)
		build_wait_set();
	noccurred = WaitEventSetWait(wait_set, timeout_ms, occurred,
								 lengthof(occurred), fc_wait_event(FC_WAIT_ANSWER));

	for (int i = 0; i < noccurred; i++)
	{
		if (occurred[i].events & WL_LATCH_SET)
			latch_set = true;
		else if (occurred[i].events & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE))
		{
			int			slot = (int) (intptr_t) occurred[i].user_data;

			if (occurred[i].events & WL_SOCKET_READABLE)
				fired[slot] |= CURL_CSELECT_IN;
			if (occurred[i].events & WL_SOCKET_WRITEABLE)
				fired[slot] |= CURL_CSELECT_OUT;
		}
	}
	return latch_set;
}

/* Classify a transfer that did not complete. */
static FcTransportFailure
classify_failure(const Transfer *t, CURLcode rc)
{
	CURL	   *easy = t->easy;
	const ResponseSink *sink = &t->sink;
	long		request_bytes = 0;

	if (rc == CURLE_COULDNT_CONNECT && t->out_of_fds)
		return FC_TRANSPORT_NO_FILE_DESCRIPTOR;
	if (sink->too_large)
		return FC_TRANSPORT_TOO_LARGE;
	if (sink->out_of_memory)
		return FC_TRANSPORT_OUT_OF_MEMORY;
	switch (rc)
	{
		case CURLE_OPERATION_TIMEDOUT:

			/*
			 * Only a request that was never sent cannot have reached the
			 * service.  (The connect time is no guide: on a reused connection
			 * it is zero.)
			 */
			curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_bytes);
			return request_bytes == 0 ? FC_TRANSPORT_CONNECT_TIMEOUT : FC_TRANSPORT_TIMEOUT;
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_COULDNT_CONNECT:
			return FC_TRANSPORT_CONNECT;
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CERTPROBLEM:
			return FC_TRANSPORT_TLS;
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
			return FC_TRANSPORT_BROKEN;
		default:
			return FC_TRANSPORT_OTHER;
	}
}

/* Create the multi handle on first use. */
static void
ensure_multi(void)
{
	if (multi_handle != NULL)
		return;
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not initialize libcurl")));
	multi_handle = curl_multi_init();
	if (multi_handle == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not create a libcurl multi handle.")));
	curl_multi_setopt(multi_handle, CURLMOPT_SOCKETFUNCTION, socket_callback);
	curl_multi_setopt(multi_handle, CURLMOPT_TIMERFUNCTION, timer_callback);
	/* No more idle connections than transfers, so counted[] holds all. */
	curl_multi_setopt(multi_handle, CURLMOPT_MAXCONNECTS, (long) FC_MAX_CONCURRENCY);
}

/* Set the options every request shares; the handle keeps them. */
static void
configure(Transfer *t, const FcHttpRequest *req)
{
	CURL	   *easy = t->easy;

	curl_easy_setopt(easy, CURLOPT_URL, req->url);
	curl_easy_setopt(easy, CURLOPT_POST, 1L);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_callback);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t->sink);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : (long) fc_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long) fc_connect_timeout_ms);
	/* No signals from curl in a backend; we own the waiting. */
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	/* A redirect would carry the signed request elsewhere: never follow. */
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	/* Certificates are always verified; only which CAs to trust is a setting. */
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(easy, CURLOPT_CAINFO,
					 (fc_ca_file && fc_ca_file[0]) ? fc_ca_file : NULL);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
	/* Count every socket against max_files_per_process (see the top). */
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_socket_callback);
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, t);
	curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, close_socket_callback);
}

/* Detach a transfer and free what curl holds for it. */
static void
release(Transfer *t)
{
	curl_multi_remove_handle(multi_handle, t->easy);
	/* Leave no pointer into memory that is about to be freed. */
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(t->headers);
	t->headers = NULL;
	t->active = false;
	nactive--;
}

bool
fc_http_start(const FcHttpRequest *req, void *owner)
{
	Transfer   *t = NULL;

	ensure_multi();

	/*
	 * The wait set's epoll descriptor is an external fd too: take it before
	 * curl's sockets can have the last one.  A rebuild frees the old set
	 * before it makes the new one, so it never needs one more.
	 */
	if (wait_set == NULL)
		build_wait_set();
	for (int i = 0; i < FC_MAX_CONCURRENCY; i++)
		if (!transfers[i].active)
		{
			t = &transfers[i];
			break;
		}
	if (t == NULL)
		return false;
	if (t->easy == NULL && (t->easy = curl_easy_init()) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not create a libcurl easy handle.")));

	memset(&t->sink, 0, sizeof(t->sink));
	t->sink.context = CurrentMemoryContext;
	t->errbuf[0] = '\0';
	t->owner = owner;
	t->out_of_fds = false;
	configure(t, req);
	for (int i = 0; i < req->nheaders; i++)
	{
		struct curl_slist *appended = curl_slist_append(t->headers, req->headers[i]);

		if (appended == NULL)
		{
			curl_slist_free_all(t->headers);
			t->headers = NULL;
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
		}
		t->headers = appended;
	}
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
	if (curl_multi_add_handle(multi_handle, t->easy) != CURLM_OK)
	{
		curl_slist_free_all(t->headers);
		t->headers = NULL;
		elog(ERROR, "could not add a libcurl handle to its multi handle");
	}
	t->active = true;
	nactive++;
	return true;
}

/* Move finished transfers into done[]; returns how many. */
static int
collect_finished(FcHttpCompletion *done, int max_done)
{
	CURLMsg    *msg;
	int			pending;
	int			n = 0;

	while (n < max_done && (msg = curl_multi_info_read(multi_handle, &pending)) != NULL)
	{
		Transfer   *t = NULL;
		FcHttpResponse *resp = &done[n].response;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &t);
		memset(resp, 0, sizeof(*resp));
		if (msg->data.result == CURLE_OK)
			curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &resp->status);
		else
		{
			resp->failure = classify_failure(t, msg->data.result);
			strlcpy(resp->cause, t->errbuf[0] ? t->errbuf : curl_easy_strerror(msg->data.result),
					sizeof(resp->cause));
		}
		resp->body = t->sink.data ? t->sink.data : MemoryContextAllocZero(t->sink.context, 1);
		resp->len = t->sink.len;
		done[n].owner = t->owner;
		release(t);
		n++;
	}
	return n;
}

int
fc_http_drive(long max_wait_ms, FcHttpCompletion *done, int max_done)
{
	TimestampTz give_up = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), max_wait_ms);
	int			running = 0;
	int			fired[MAX_WATCHED_SOCKETS];
	int			ndone;

	ensure_multi();
	socket_table_full = false;
	curl_multi_socket_action(multi_handle, CURL_SOCKET_TIMEOUT, 0, &running);
	while ((ndone = collect_finished(done, max_done)) == 0 && nactive > 0)
	{
		curl_socket_t fds[MAX_WATCHED_SOCKETS];
		int			nfds = nwatched;
		bool		any_fired = false;
		long		secs;
		int			usecs;
		long		left_ms;

		TimestampDifference(GetCurrentTimestamp(), give_up, &secs, &usecs);
		left_ms = secs * 1000 + usecs / 1000;
		if (left_ms <= 0)
			break;
		if (wait_for_activity(Min(wait_budget_ms(), left_ms), fired))
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}

		/* The callbacks below may reshuffle watched[]: act on a copy. */
		for (int i = 0; i < nfds; i++)
			fds[i] = watched[i].fd;
		for (int i = 0; i < nfds; i++)
		{
			if (fired[i] == 0)
				continue;
			any_fired = true;
			curl_multi_socket_action(multi_handle, fds[i], fired[i], &running);
		}
		if (!any_fired || (timer_due != 0 && GetCurrentTimestamp() >= timer_due))
			curl_multi_socket_action(multi_handle, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	forget_closed_sockets();
	if (socket_table_full)
		elog(ERROR, "libcurl opened more sockets than facecompare can watch");
	return ndone;
}

void
fc_http_abort_all(void)
{
	for (int i = 0; i < FC_MAX_CONCURRENCY; i++)
		if (transfers[i].active)
			release(&transfers[i]);
	/* Those still connecting were closed without close_socket_callback(). */
	forget_closed_sockets();
}

int
fc_http_active(void)
{
	return nactive;
}
