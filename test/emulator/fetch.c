/*
 * fetch.c
 *		Download an image URL as the service does: http(s) only, a few
 *		redirects, at most 1 MB, within --download-timeout-ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "emulator.h"

#define MAX_DOWNLOAD (1024 * 1024)

typedef struct Sink
{
	unsigned char *data;
	size_t		len;
	bool		too_large;
} Sink;

static size_t
collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	Sink	   *sink = userdata;
	size_t		n = size * nmemb;

	if (sink->len + n > MAX_DOWNLOAD)
	{
		sink->too_large = true;
		return 0;
	}
	sink->data = realloc(sink->data, sink->len + n);
	memcpy(sink->data + sink->len, ptr, n);
	sink->len += n;
	return n;
}

FetchResult
fetch_url(const char *url, unsigned char **data, size_t *len, char *reason, size_t reason_len)
{
	CURL	   *curl = curl_easy_init();
	Sink		sink = {0};
	char		errbuf[CURL_ERROR_SIZE] = "";
	long		status = 0;
	CURLcode	rc;
	FetchResult result = FETCH_FAILED;

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) config.download_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);

	if (sink.too_large)
		result = FETCH_TOO_LARGE;
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		result = FETCH_TIMEOUT;
	else if (rc != CURLE_OK)
		snprintf(reason, reason_len, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else if (status < 200 || status > 299)
		snprintf(reason, reason_len, "HTTP status %ld", status);
	else
	{
		*data = sink.data;
		*len = sink.len;
		return FETCH_OK;
	}
	free(sink.data);
	return result;
}
