/*
 * emulator.h
 *		The FaceCompare emulator: a local stand-in for the service that checks
 *		requests the way the gateway and the API do.  Shared declarations.
 */
#ifndef EMULATOR_H
#define EMULATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a key may do (--key ID:SECRET:STATE). */
typedef enum KeyState
{
	KEY_OK,
	KEY_INACTIVE,
	KEY_RAM_DENIED,
	KEY_ACCOUNT_DENIED
} KeyState;

typedef struct AccessKey
{
	char	   *id;
	char	   *secret;
	KeyState	state;
} AccessKey;

#define MAX_KEYS 32
#define MAX_TOKENS 8

typedef struct EmulatorConfig
{
	const char *bind_address;
	int			port;
	const char *port_file;
	const char *tls_cert;
	const char *tls_key;
	const char *static_dir;
	AccessKey	keys[MAX_KEYS];
	int			nkeys;
	const char *tokens[MAX_TOKENS];
	int			ntokens;
	const char *expired_tokens[MAX_TOKENS];	/* answered InvalidSecurityToken.Expired */
	int			nexpired_tokens;
	int			qps;			/* 0: unlimited */
	int			latency_ms;
	double		fail_rate;
	uint64_t	seed;
	int			download_timeout_ms;
	bool		quiet;
} EmulatorConfig;

extern EmulatorConfig config;

/* Ways to misbehave on purpose (test ids EMUFault...): see README.md. */
typedef enum Fault
{
	FAULT_NONE,
	FAULT_STALL,				/* send half the answer, then nothing */
	FAULT_HUGE,					/* a 50 MB answer */
	FAULT_REDIRECT				/* 302 to another host */
} Fault;

/* An API or gateway answer to send. */
typedef struct Answer
{
	int			status;
	char	   *body;			/* malloc'd */
	const char *code;			/* for the log */
	const char *content_type;	/* NULL: JSON */
	Fault		fault;
} Answer;

/* faults.c: the EMUFault and EMUFlaky test ids; true when it answered */
extern bool answer_fault(const char *merchant_biz_id, Answer *answer);

/* One request as received. */
typedef struct Request
{
	struct MHD_Connection *connection;
	char	   *body;
	size_t		body_len;
	bool		body_too_large;
	const char *merchant_biz_id;	/* for the log; may be NULL */
} Request;

/* quality.c: Result.ExtFaceInfo's scores of a picture, 0..100 */
typedef struct QualityScores
{
	double		face_quality;
	double		illumination;
	double		occlusion;
	double		ka_occlusion;
	double		sharpness;
} QualityScores;

extern bool quality_scores(const unsigned char *data, size_t len, QualityScores *out);

/* respond.c: JSON answers; quality NULL: no ExtFaceInfo */
extern void answer_error(Answer *answer, const char *code, const char *message);
extern void answer_gateway_error(Answer *answer, const char *code, const char *message);
extern void answer_verdict(Answer *answer, double score, bool score_as_string,
						   const char *success_code, const QualityScores *quality);
extern void random_hex(char *out, size_t nbytes);

/* auth.c: the gateway's checks; true when the request may go on */
extern bool check_gateway(Request *req, Answer *answer, const AccessKey **key);

/* api.c: the FaceCompare API itself */
extern void handle_face_compare(Request *req, const AccessKey *key, Answer *answer);
extern void answer_code(Answer *answer, const char *code);

/* outage.c: one code answered to every signed call, switched over HTTP */
extern bool outage_answered(Answer *answer);
extern int	outage_control(const char *method, const char *code, char *text, size_t len);

/* compare.c: decoding and scoring, pure */
typedef enum ImageVerdict
{
	IMAGE_OK,
	IMAGE_UNREADABLE,			/* not JPEG/PNG, or undecodable */
	IMAGE_BAD_RESOLUTION,
	IMAGE_NO_FACE
} ImageVerdict;

typedef struct Grids Grids;

typedef struct Signature
{
	Grids	   *grids;			/* shared with the cache: see compare.c */
	double		contrast;		/* luminance standard deviation, 0..128 */
} Signature;

extern ImageVerdict image_signature(const unsigned char *data, size_t len, Signature *sig);
extern void signature_free(Signature *sig);
extern double compare_signatures(const Signature *a, const Signature *b);
extern double score_from_similarity(double similarity);

#define PASS_THRESHOLD 70.0
#define FLAT_CONTRAST 4.0

/* fetch.c: download an image URL */
typedef enum FetchResult
{
	FETCH_OK,
	FETCH_TIMEOUT,
	FETCH_TOO_LARGE,
	FETCH_FAILED
} FetchResult;

extern FetchResult fetch_url(const char *url, unsigned char **data, size_t *len,
							 char *reason, size_t reason_len);

/* pause.c: sleeps that end when the emulator stops; false if it is stopping */
extern bool pause_ms(long ms);
extern void stop_pauses(void);

/* respond.c: seeded, thread-safe, [0, 1) */
extern double random_unit(void);

/* log.c: the one line per request */
extern void emulator_log(const Request *req, const char *method, const char *path,
						 int status, const char *code, double elapsed_ms);

#endif							/* EMULATOR_H */
