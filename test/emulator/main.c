/*
 * main.c
 *		facecompare-emulator: options, start-up, shutdown.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "emulator.h"
#include "server.h"

EmulatorConfig config = {
	.bind_address = "127.0.0.1",
	.port = 8089,
	.download_timeout_ms = 3000,
};

static const char usage[] =
"facecompare-emulator: a local stand-in for Alibaba Cloud ID Verification's\n"
"FaceCompare API (cloudauth-intl 2022-08-09), for tests and demos.\n"
"It checks V3 signatures like the gateway, answers every documented code and\n"
"scores pictures deterministically.  It is an emulator, not a face matcher.\n"
"\n"
"Usage: facecompare-emulator [options]\n"
"  --bind ADDR               IPv4 or IPv6 address to listen on (default 127.0.0.1)\n"
"  --port N                  port (default 8089; 0 picks a free one)\n"
"  --port-file FILE          write the port there once listening\n"
"  --tls-cert FILE           serve HTTPS with this PEM certificate...\n"
"  --tls-key FILE            ...and this PEM key\n"
"  --access-key-id ID        the main AccessKey ID (default emulator-key-id)\n"
"  --access-key-secret S     its secret (default emulator-key-secret); test-only\n"
"  --key ID:SECRET[:STATE]   another key; STATE is ok, inactive, ram-denied or\n"
"                            account-denied (repeatable)\n"
"  --security-token TOKEN    an STS token to accept (repeatable)\n"
"  --expired-security-token TOKEN\n"
"                            an STS token to answer InvalidSecurityToken.Expired\n"
"                            (repeatable)\n"
"  --qps N                   accept at most N requests per key in any second;\n"
"                            beyond, answer Throttling.Api (default 0: no limit)\n"
"  --latency-ms N            answer every API call N ms late\n"
"  --fail-rate P             answer InternalError to a fraction P (0..1) of\n"
"                            otherwise valid calls\n"
"  --seed N                  seed for --fail-rate and the ids (repeatable runs;\n"
"                            default: random)\n"
"  --download-timeout-ms N   give up on an image URL after N ms: DownloadTimeout\n"
"                            (default 3000)\n"
"  --static-dir DIR          serve DIR's files at GET /static/NAME; ?delay_ms=N\n"
"                            (at most 60000) delays the answer\n"
"  --quiet                   no per-request log line on stderr\n"
"  --version                 print the version and exit\n"
"  --help                    this text\n"
"\n"
"Ready when it prints \"facecompare-emulator listening on URL\" (and has\n"
"written --port-file); GET /healthz answers \"ok\".  SIGINT/SIGTERM stop it.\n"
"See test/emulator/README.md for the codes, the test ids and the scoring.\n";

/* Ensure arg is a whole number in [min, max]; otherwise explain and exit. */
static int
int_option(const char *name, const char *arg, long min, long max)
{
	char	   *end;
	long		value;

	errno = 0;
	value = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || value < min || value > max)
	{
		fprintf(stderr, "facecompare-emulator: --%s takes a whole number from %ld to %ld, not \"%s\"\n",
				name, min, max, arg);
		exit(2);
	}
	return (int) value;
}

/* Ensure arg is a fraction in [0, 1]; otherwise explain and exit. */
static double
fraction_option(const char *name, const char *arg)
{
	char	   *end;
	double		value;

	errno = 0;
	value = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !(value >= 0 && value <= 1))
	{
		fprintf(stderr, "facecompare-emulator: --%s takes a number from 0 to 1, not \"%s\"\n",
				name, arg);
		exit(2);
	}
	return value;
}

/* The STATE of --key ID:SECRET:STATE. */
static const struct
{
	const char *name;
	KeyState	state;
}			key_states[] = {
	{"ok", KEY_OK},
	{"inactive", KEY_INACTIVE},
	{"ram-denied", KEY_RAM_DENIED},
	{"account-denied", KEY_ACCOUNT_DENIED},
};

/* Add the key of "ID:SECRET[:STATE]" (split in place). */
static bool
parse_key(char *spec)
{
	char	   *id = spec;
	char	   *secret = strchr(id, ':');
	char	   *state;
	AccessKey  *key;

	if (secret == NULL || config.nkeys == MAX_KEYS)
		return false;
	*secret++ = '\0';
	state = strchr(secret, ':');
	if (state)
		*state++ = '\0';
	if (id[0] == '\0')
		return false;
	for (size_t i = 0; i < sizeof(key_states) / sizeof(key_states[0]); i++)
		if (strcmp(state ? state : "ok", key_states[i].name) == 0)
		{
			key = &config.keys[config.nkeys++];
			key->id = id;
			key->secret = secret;
			key->state = key_states[i].state;
			return true;
		}
	return false;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{"bind", required_argument, NULL, 'b'},
		{"port", required_argument, NULL, 'p'},
		{"port-file", required_argument, NULL, 'P'},
		{"tls-cert", required_argument, NULL, 'c'},
		{"tls-key", required_argument, NULL, 'k'},
		{"access-key-id", required_argument, NULL, 'i'},
		{"access-key-secret", required_argument, NULL, 's'},
		{"key", required_argument, NULL, 'K'},
		{"security-token", required_argument, NULL, 't'},
		{"expired-security-token", required_argument, NULL, 'x'},
		{"qps", required_argument, NULL, 'q'},
		{"latency-ms", required_argument, NULL, 'l'},
		{"fail-rate", required_argument, NULL, 'f'},
		{"seed", required_argument, NULL, 'S'},
		{"download-timeout-ms", required_argument, NULL, 'd'},
		{"static-dir", required_argument, NULL, 'D'},
		{"quiet", no_argument, NULL, 'Q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}
	};
	const char *main_id = "emulator-key-id";
	const char *main_secret = "emulator-key-secret";
	struct MHD_Daemon *daemon;
	sigset_t	stop_signals;
	int			port,
				opt,
				sig;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1)
	{
		switch (opt)
		{
			case 'b': config.bind_address = optarg; break;
			case 'p': config.port = int_option("port", optarg, 0, 65535); break;
			case 'P': config.port_file = optarg; break;
			case 'c': config.tls_cert = optarg; break;
			case 'k': config.tls_key = optarg; break;
			case 'i': main_id = optarg; break;
			case 's': main_secret = optarg; break;
			case 'K':
				if (!parse_key(optarg))
				{
					fprintf(stderr, "facecompare-emulator: --key takes ID:SECRET[:ok|inactive|ram-denied|account-denied]\n");
					return 2;
				}
				break;
			case 't':
			case 'x':
				{
					const char **list = opt == 't' ? config.tokens : config.expired_tokens;
					int		   *n = opt == 't' ? &config.ntokens : &config.nexpired_tokens;

					if (*n == MAX_TOKENS)
					{
						fprintf(stderr, "facecompare-emulator: at most %d tokens of each kind\n", MAX_TOKENS);
						return 2;
					}
					list[(*n)++] = optarg;
					break;
				}
			case 'q': config.qps = int_option("qps", optarg, 0, 1000000); break;
			case 'l': config.latency_ms = int_option("latency-ms", optarg, 0, 3600000); break;
			case 'f': config.fail_rate = fraction_option("fail-rate", optarg); break;
			case 'S': config.seed = (uint64_t) int_option("seed", optarg, 0, 2147483647); break;
			case 'd': config.download_timeout_ms = int_option("download-timeout-ms", optarg, 1, 3600000); break;
			case 'D': config.static_dir = optarg; break;
			case 'Q': config.quiet = true; break;
			case 'h':
				fputs(usage, stdout);
				return 0;
			case 'V':
				printf("facecompare-emulator %s\n", FC_VERSION);
				return 0;
			default:
				fputs(usage, stderr);
				return 2;
		}
	}
	if (optind < argc)
	{
		fprintf(stderr, "facecompare-emulator: unexpected argument \"%s\" (see --help)\n", argv[optind]);
		return 2;
	}
	{
		unsigned char addr[sizeof(struct in6_addr)];

		if (inet_pton(AF_INET, config.bind_address, addr) != 1 &&
			inet_pton(AF_INET6, config.bind_address, addr) != 1)
		{
			fprintf(stderr, "facecompare-emulator: --bind takes an IPv4 or IPv6 address, not \"%s\"\n",
					config.bind_address);
			return 2;
		}
	}
	/* The main key comes after the --key ones, which may redefine its id. */
	if (main_id[0] == '\0' || config.nkeys == MAX_KEYS)
	{
		fprintf(stderr, "facecompare-emulator: --access-key-id must not be empty, and at most %d keys\n",
				MAX_KEYS);
		return 2;
	}
	config.keys[config.nkeys++] = (AccessKey) {(char *) main_id, (char *) main_secret, KEY_OK};

	curl_global_init(CURL_GLOBAL_ALL);
	/* Stop on SIGINT/SIGTERM: block them in every thread, wait for them here. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	daemon = start_server(&port);
	if (daemon == NULL)
	{
		fprintf(stderr, "facecompare-emulator: could not listen on %s:%d\n", config.bind_address, config.port);
		return 1;
	}
	if (config.port_file)
	{
		char		tmp[4096];
		FILE	   *f;

		/* Write then rename, so a reader never sees a half-written port. */
		snprintf(tmp, sizeof(tmp), "%s.tmp", config.port_file);
		f = fopen(tmp, "w");
		if (f == NULL || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, config.port_file) != 0)
		{
			fprintf(stderr, "facecompare-emulator: could not write %s\n", config.port_file);
			return 1;
		}
	}
	/* An IPv6 address goes in brackets in a URL. */
	printf("facecompare-emulator listening on %s://%s%s%s:%d\n",
		   config.tls_cert ? "https" : "http", strchr(config.bind_address, ':') ? "[" : "",
		   config.bind_address, strchr(config.bind_address, ':') ? "]" : "", port);
	fflush(stdout);

	sigwait(&stop_signals, &sig);
	stop_server(daemon);
	curl_global_cleanup();
	return 0;
}
