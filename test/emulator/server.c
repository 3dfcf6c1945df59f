/*
 * server.c
 *		HTTP: collect each request, route it, answer it, log one line.
 *		POST / is the API; GET /static/NAME serves --static-dir (optionally
 *		after ?delay_ms=N, to make slow URLs); GET /healthz answers "ok".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "emulator.h"
#include "server.h"

/* Far above the service's 1 MB pictures: beyond it the body is not kept. */
#define MAX_BODY (4 * 1024 * 1024)
/*
 * Per-connection memory for the request line and headers: two 1 MB base64
 * pictures in the query, percent-encoded.  libmicrohttpd maps it lazily.
 */
#define QUERY_PICTURES_ROOM (8 * 1024 * 1024)

/* Longest ?delay_ms= honoured on a static file: a minute is slow enough. */
#define MAX_STATIC_DELAY_MS 60000

typedef struct Exchange
{
	Request		req;
	struct timespec started;
} Exchange;

static double
elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000.0 + (now.tv_nsec - since->tv_nsec) / 1e6;
}

static enum MHD_Result
send_answer(struct MHD_Connection *connection, int status, const char *content_type,
			const void *body, size_t len)
{
	struct MHD_Response *response =
		MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(response, "Content-Type", content_type);
	ret = MHD_queue_response(connection, (unsigned int) status, response);
	MHD_destroy_response(response);
	return ret;
}

static const char *
content_type_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot && strcasecmp(dot, ".png") == 0)
		return "image/png";
	if (dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0))
		return "image/jpeg";
	return "application/octet-stream";
}

/* GET /static/NAME from --static-dir: regular files only, no subdirectories. */
static enum MHD_Result
serve_static(Exchange *ex, const char *url)
{
	const char *name = url + strlen("/static/");
	const char *delay = MHD_lookup_connection_value(ex->req.connection, MHD_GET_ARGUMENT_KIND, "delay_ms");
	char		path[4096];
	struct stat st;
	FILE	   *f = NULL;
	char	   *data;
	size_t		size;
	enum MHD_Result ret;

	if (delay)
	{
		long		ms = strtol(delay, NULL, 10);

		pause_ms(ms < 0 ? 0 : ms > MAX_STATIC_DELAY_MS ? MAX_STATIC_DELAY_MS : ms);
	}
	/* MHD has decoded %2F and %2E already, so these checks see the real name. */
	if (config.static_dir == NULL || name[0] == '\0' || name[0] == '.' || strchr(name, '/') ||
		strchr(name, '\\') ||
		(size_t) snprintf(path, sizeof(path), "%s/%s", config.static_dir, name) >= sizeof(path) ||
		stat(path, &st) != 0 || !S_ISREG(st.st_mode) || (f = fopen(path, "rb")) == NULL)
	{
		emulator_log(&ex->req, "GET", url, 404, NULL, elapsed_ms(&ex->started));
		return send_answer(ex->req.connection, 404, "text/plain", "not found\n", 10);
	}
	size = (size_t) st.st_size;
	data = malloc(size > 0 ? size : 1);
	if (fread(data, 1, size, f) != size)
		size = 0;
	fclose(f);
	ret = send_answer(ex->req.connection, 200, content_type_of(name), data, size);
	emulator_log(&ex->req, "GET", url, 200, NULL, elapsed_ms(&ex->started));
	free(data);
	return ret;
}

#define HUGE_ANSWER_BYTES (50 * 1024 * 1024)
#define STALL_SECONDS 120

/* A body that sends its first half, then nothing for STALL_SECONDS. */
typedef struct Stall
{
	char	   *body;
	size_t		len;
	int			waited_ms;
} Stall;

static ssize_t
stall_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	Stall	   *st = cls;
	size_t		half = st->len / 2;

	if (pos < half)
	{
		size_t		n = half - pos < max ? half - pos : max;

		memcpy(buf, st->body + pos, n);
		return (ssize_t) n;
	}
	if (st->waited_ms >= STALL_SECONDS * 1000 || !pause_ms(100))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	st->waited_ms += 100;
	return 0;
}

static void
stall_free(void *cls)
{
	Stall	   *st = cls;

	free(st->body);
	free(st);
}

/* 50 MB of JSON-looking padding: a client must cap what it reads. */
static ssize_t
huge_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void) cls;
	if (pos >= HUGE_ANSWER_BYTES)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (max > HUGE_ANSWER_BYTES - pos)
		max = HUGE_ANSWER_BYTES - pos;
	memset(buf, ' ', max);
	if (pos == 0)
		buf[0] = '{';
	return (ssize_t) max;
}

/* Send an EMUFault answer that a plain buffer cannot express. */
static enum MHD_Result
send_fault(Exchange *ex, Answer *answer)
{
	struct MHD_Response *response = NULL;
	enum MHD_Result ret;

	switch (answer->fault)
	{
		case FAULT_REDIRECT:
			response = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
			MHD_add_response_header(response, "Location", "http://127.0.0.1:9/redirected");
			break;
		case FAULT_STALL:
			{
				Stall	   *st = calloc(1, sizeof(Stall));

				st->body = answer->body;
				st->len = strlen(answer->body);
				answer->body = NULL;
				response = MHD_create_response_from_callback(st->len, 4096, stall_reader, st, stall_free);
				break;
			}
		case FAULT_HUGE:
			response = MHD_create_response_from_callback(HUGE_ANSWER_BYTES, 64 * 1024,
														 huge_reader, NULL, NULL);
			break;
		case FAULT_NONE:
			break;
	}
	MHD_add_response_header(response, "Content-Type", "application/json;charset=utf-8");
	ret = MHD_queue_response(ex->req.connection, (unsigned int) answer->status, response);
	MHD_destroy_response(response);
	return ret;
}

static enum MHD_Result
serve_api(Exchange *ex)
{
	const char *id = MHD_lookup_connection_value(ex->req.connection, MHD_GET_ARGUMENT_KIND,
												 "MerchantBizId");
	Answer		answer = {0};
	const AccessKey *key = NULL;
	enum MHD_Result ret;

	/* Logged even when the gateway refuses the call: it is the caller's own id. */
	ex->req.merchant_biz_id = id;
	if (config.latency_ms > 0 && !pause_ms(config.latency_ms))
	{
		/* Stopping: drop the connection, as a server going away does. */
		emulator_log(&ex->req, "POST", "/", 0, "Stopping", elapsed_ms(&ex->started));
		return MHD_NO;
	}
	/* A reset models a request lost in transit: the gateway never saw it. */
	if (id && strncmp(id, "EMUFaultReset", 13) == 0)
	{
		emulator_log(&ex->req, "POST", "/", 0, "Reset", elapsed_ms(&ex->started));
		return MHD_NO;
	}
	if (ex->req.body_too_large)
		answer_error(&answer, "ToolargeImage", "The request body is larger than the service accepts.");
	else if (check_gateway(&ex->req, &answer, &key) && !outage_answered(&answer))
		handle_face_compare(&ex->req, key, &answer);
	if (answer.fault != FAULT_NONE)
		ret = send_fault(ex, &answer);
	else
		ret = send_answer(ex->req.connection, answer.status,
						  answer.content_type ? answer.content_type : "application/json;charset=utf-8",
						  answer.body, strlen(answer.body));
	emulator_log(&ex->req, "POST", "/", answer.status, answer.code, elapsed_ms(&ex->started));
	free(answer.body);
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	Exchange   *ex = *con_cls;

	(void) cls;
	(void) version;

	if (ex == NULL)
	{
		ex = calloc(1, sizeof(Exchange));
		ex->req.connection = connection;
		clock_gettime(CLOCK_MONOTONIC, &ex->started);
		*con_cls = ex;
		return MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		if (ex->req.body_len + *upload_data_size > MAX_BODY)
			ex->req.body_too_large = true;
		else
		{
			ex->req.body = realloc(ex->req.body, ex->req.body_len + *upload_data_size + 1);
			memcpy(ex->req.body + ex->req.body_len, upload_data, *upload_data_size);
			ex->req.body_len += *upload_data_size;
			ex->req.body[ex->req.body_len] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (strcmp(method, "POST") == 0 && strcmp(url, "/") == 0)
		return serve_api(ex);
	if (strcmp(method, "GET") == 0 && strncmp(url, "/static/", 8) == 0)
		return serve_static(ex, url);
	if (strcmp(url, "/emulator/outage") == 0)
	{
		char		text[128];
		int			status = outage_control(method,
											MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "code"),
											text, sizeof(text));

		emulator_log(&ex->req, method, url, status, NULL, elapsed_ms(&ex->started));
		return send_answer(connection, status, "text/plain", text, strlen(text));
	}
	if (strcmp(method, "GET") == 0 && strcmp(url, "/healthz") == 0)
	{
		emulator_log(&ex->req, method, url, 200, NULL, elapsed_ms(&ex->started));
		return send_answer(connection, 200, "text/plain", "ok\n", 3);
	}
	{
		Answer		answer = {0};
		enum MHD_Result ret;

		answer_gateway_error(&answer, "InvalidApi.NotFound",
							 "Specified api is not found, please check your url and method.");
		ret = send_answer(connection, answer.status, "application/json;charset=utf-8",
						  answer.body, strlen(answer.body));
		emulator_log(&ex->req, method, url, answer.status, answer.code, elapsed_ms(&ex->started));
		free(answer.body);
		return ret;
	}
}

static void
completed(void *cls, struct MHD_Connection *connection, void **con_cls,
		  enum MHD_RequestTerminationCode toe)
{
	Exchange   *ex = *con_cls;

	(void) cls;
	(void) connection;
	(void) toe;

	if (ex)
	{
		free(ex->req.body);
		free(ex);
		*con_cls = NULL;
	}
}

static char *
read_file(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	long		size;
	char	   *data;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	data = calloc(1, (size_t) size + 1);
	if (fread(data, 1, (size_t) size, f) != (size_t) size)
	{
		free(data);
		data = NULL;
	}
	fclose(f);
	return data;
}

/*
 * libmicrohttpd's own complaints (TLS handshakes, broken clients), marked as
 * such.  Not the one about our handler refusing a request: that is
 * EMUFaultReset or a shutdown, already logged as the request's own line.
 */
static void
library_log(void *cls, const char *fmt, va_list ap)
{
	char		text[512];

	(void) cls;
	vsnprintf(text, sizeof(text), fmt, ap);
	if (strstr(text, "Application reported internal error") != NULL)
		return;
	fprintf(stderr, "facecompare-emulator: libmicrohttpd: %s%s", text,
			text[0] && text[strlen(text) - 1] == '\n' ? "" : "\n");
}

/* The TLS material must outlive the daemon: freed by stop_server. */
static char *tls_cert_pem;
static char *tls_key_pem;

struct MHD_Daemon *
start_server(int *port)
{
	unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
		(config.quiet ? 0 : MHD_USE_ERROR_LOG);
	struct sockaddr_storage addr = {0};
	struct sockaddr_in *in4 = (struct sockaddr_in *) &addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &addr;
	struct MHD_Daemon *daemon;
	const union MHD_DaemonInfo *info;

	if (inet_pton(AF_INET, config.bind_address, &in4->sin_addr) == 1)
	{
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t) config.port);
	}
	else if (inet_pton(AF_INET6, config.bind_address, &in6->sin6_addr) == 1)
	{
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t) config.port);
		flags |= MHD_USE_IPv6;
	}
	else
	{
		fprintf(stderr, "facecompare-emulator: --bind must be an IPv4 or IPv6 address, not \"%s\"\n",
				config.bind_address);
		return NULL;
	}
	if (config.tls_cert || config.tls_key)
	{
		tls_cert_pem = config.tls_cert ? read_file(config.tls_cert) : NULL;
		tls_key_pem = config.tls_key ? read_file(config.tls_key) : NULL;
		if (tls_cert_pem == NULL || tls_key_pem == NULL)
		{
			fprintf(stderr, "facecompare-emulator: TLS needs readable --tls-cert and --tls-key files\n");
			return NULL;
		}
		flags |= MHD_USE_TLS;
	}
	daemon = MHD_start_daemon(flags, (uint16_t) config.port, NULL, NULL, handle, NULL,
							  MHD_OPTION_EXTERNAL_LOGGER, library_log, NULL,
							  MHD_OPTION_SOCK_ADDR, &addr,
							  MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
							  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 120,
							  /* Room for two base64 pictures in the query string, as older SDKs sent them. */
							  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) QUERY_PICTURES_ROOM,
							  tls_cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, tls_cert_pem,
							  MHD_OPTION_HTTPS_MEM_KEY, tls_key_pem,
							  MHD_OPTION_END);
	if (daemon == NULL)
		return NULL;
	info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
	*port = info ? info->port : config.port;
	return daemon;
}

void
stop_server(struct MHD_Daemon *daemon)
{
	/* Wake every sleeping request first, or stopping waits for the longest. */
	stop_pauses();
	MHD_stop_daemon(daemon);
	free(tls_cert_pem);
	free(tls_key_pem);
}
