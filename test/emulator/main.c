/*
 * main.c
 *		facecompare-emulator: options, start-up, shutdown.
 */
#include <getopt.h>
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
"  --bind ADDR               IPv4 address to listen on (default 127.0.0.1)\n"
"  --port N                  port (default 8089; 0 picks a free one)\n"
"  --port-file FILE          write the port there once listening\n"
"  --tls-cert FILE           serve HTTPS with this PEM certificate...\n"
"  --tls-key FILE            ...and this PEM key\n"
"  --access-key-id ID        the main AccessKey ID (default emulator-key-id)\n"
"  --access-key-secret S     its secret (default emulator-key-secret); test-only\n"
"  --key ID:SECRET[:STATE]   another key; STATE is ok, inactive, ram-denied or\n"
"                            account-denied (repeatable)\n"
"  --security-token TOKEN    an STS token to accept (repeatable)\n"
"  --qps N                   accept at most N requests per key in any second;\n"
"                            beyond, answer Throttling.Api (default 0: no limit)\n"
"  --latency-ms N            answer every API call N ms late\n"
"  --fail-rate P             answer InternalError to a fraction P (0..1) of\n"
"                            otherwise valid calls\n"
"  --seed N                  seed for --fail-rate and the ids (repeatable runs)\n"
"  --download-timeout-ms N   give up on an image URL after N ms: DownloadTimeout\n"
"                            (default 3000)\n"
"  --static-dir DIR          serve DIR's files at /static/NAME (?delay_ms=N slows)\n"
"  --quiet                   no per-request log line on stderr\n"
"  --help                    this text\n"
"See test/emulator/README.md for the codes, the test ids and the scoring.\n";

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
	key = &config.keys[config.nkeys];
	key->id = id;
	key->secret = secret;
	if (state == NULL || strcmp(state, "ok") == 0)
		key->state = KEY_OK;
	else if (strcmp(state, "inactive") == 0)
		key->state = KEY_INACTIVE;
	else if (strcmp(state, "ram-denied") == 0)
		key->state = KEY_RAM_DENIED;
	else if (strcmp(state, "account-denied") == 0)
		key->state = KEY_ACCOUNT_DENIED;
	else
		return false;
	config.nkeys++;
	return true;
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
		{"qps", required_argument, NULL, 'q'},
		{"latency-ms", required_argument, NULL, 'l'},
		{"fail-rate", required_argument, NULL, 'f'},
		{"seed", required_argument, NULL, 'S'},
		{"download-timeout-ms", required_argument, NULL, 'd'},
		{"static-dir", required_argument, NULL, 'D'},
		{"quiet", no_argument, NULL, 'Q'},
		{"help", no_argument, NULL, 'h'},
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
			case 'p': config.port = atoi(optarg); break;
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
				if (config.ntokens < MAX_TOKENS)
					config.tokens[config.ntokens++] = optarg;
				break;
			case 'q': config.qps = atoi(optarg); break;
			case 'l': config.latency_ms = atoi(optarg); break;
			case 'f': config.fail_rate = atof(optarg); break;
			case 'S': config.seed = strtoull(optarg, NULL, 10); break;
			case 'd': config.download_timeout_ms = atoi(optarg); break;
			case 'D': config.static_dir = optarg; break;
			case 'Q': config.quiet = true; break;
			case 'h':
				fputs(usage, stdout);
				return 0;
			default:
				fputs(usage, stderr);
				return 2;
		}
	}
	if (config.port < 0 || config.port > 65535 || config.qps < 0 || config.latency_ms < 0 ||
		config.fail_rate < 0 || config.fail_rate > 1 || config.download_timeout_ms <= 0)
	{
		fprintf(stderr, "facecompare-emulator: an option is out of range (see --help)\n");
		return 2;
	}
	{
		char	   *spec = malloc(strlen(main_id) + strlen(main_secret) + 2);

		sprintf(spec, "%s:%s", main_id, main_secret);
		parse_key(spec);
	}

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
	printf("facecompare-emulator listening on %s://%s:%d\n",
		   config.tls_cert ? "https" : "http", config.bind_address, port);
	fflush(stdout);

	sigwait(&stop_signals, &sig);
	MHD_stop_daemon(daemon);
	curl_global_cleanup();
	return 0;
}
