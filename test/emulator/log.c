/*
 * log.c
 *		One line per request on stderr: UTC time, client address, method and
 *		path, MerchantBizId, HTTP status, Code, elapsed time, User-Agent.
 *		Never a body, base64, the Authorization header, a signature or a
 *		secret.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "emulator.h"

/* Longest MerchantBizId, path or User-Agent logged: they come from the client. */
#define MAX_LOGGED_TEXT 96

/*
 * Copy client-chosen text printable and short, so that a request cannot
 * forge log lines (a newline in a MerchantBizId) or flood the log.
 */
static void
sanitize(const char *in, char *out, size_t outlen)
{
	size_t		n = 0;

	if (in == NULL || in[0] == '\0')
	{
		snprintf(out, outlen, "-");
		return;
	}
	for (; *in && n + 4 < outlen; in++)
		out[n++] = (*in > ' ' && *in < 0x7f) ? *in : '?';
	if (*in)
	{
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

static void
client_address(struct MHD_Connection *connection, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char		ip[INET6_ADDRSTRLEN];

	snprintf(out, outlen, "?");
	if (info == NULL || info->client_addr == NULL)
		return;
	if (info->client_addr->sa_family == AF_INET)
	{
		const struct sockaddr_in *in = (const struct sockaddr_in *) info->client_addr;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(out, outlen, "%s:%d", ip, ntohs(in->sin_port));
	}
	else if (info->client_addr->sa_family == AF_INET6)
	{
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) info->client_addr;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(out, outlen, "[%s]:%d", ip, ntohs(in6->sin6_port));
	}
}

void
emulator_log(const Request *req, const char *method, const char *path, int status,
			 const char *code, double ms)
{
	char		addr[INET6_ADDRSTRLEN + 16];
	char		when[32];
	char		safe_method[16],
				safe_path[MAX_LOGGED_TEXT],
				safe_id[MAX_LOGGED_TEXT],
				safe_agent[MAX_LOGGED_TEXT];
	time_t		now = time(NULL);
	struct tm	tm;

	if (config.quiet)
		return;
	client_address(req->connection, addr, sizeof(addr));
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	sanitize(method, safe_method, sizeof(safe_method));
	sanitize(path, safe_path, sizeof(safe_path));
	sanitize(req->merchant_biz_id, safe_id, sizeof(safe_id));
	sanitize(MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND,
										 MHD_HTTP_HEADER_USER_AGENT),
			 safe_agent, sizeof(safe_agent));
	/* One fprintf per line: stdio locks the stream, so lines never interleave. */
	fprintf(stderr, "%s %s %s %s MerchantBizId=%s %d %s %.1fms UserAgent=%s\n",
			when, addr, safe_method, safe_path, safe_id, status, code ? code : "-",
			ms, safe_agent);
}
