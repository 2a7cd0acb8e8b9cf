/*
 * util.h - small shared services every module may use: error messages, a JSON
 * writer and reader, whole-file reads and atomic file writes, a terminal
 * progress bar. util/ depends on nothing else in rsskey.
 */
#ifndef RSSKEY_UTIL_H
#define RSSKEY_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- Errors ------------------------------------------------------------ */

/* A module that fails fills one of these and returns non-zero; cmd/ prints
 * it. A message says what was wrong, where, and what to do. */
struct util_error {
    char msg[2048];
};

void util_error_set(struct util_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Exit codes shared by every subcommand. */
enum {
    UTIL_EXIT_OK = 0,
    UTIL_EXIT_FAILURE = 1,      /* the job ran and failed (e.g. checker rejected) */
    UTIL_EXIT_USAGE = 2,        /* bad command line */
    UTIL_EXIT_INPUT = 3,        /* bad input file (bitcode, trace, plan) */
    UTIL_EXIT_IO = 4,           /* could not read or write a file */
    UTIL_EXIT_UNSAT = 5,        /* no plan satisfies the constraints */
};

/* ---- Files ------------------------------------------------------------- */

/* Reads a whole file into a NUL-terminated malloc'd buffer (caller frees).
 * Returns NULL and fills err on failure. */
char *util_read_file(const char *path, size_t *len, struct util_error *err);

/* Writes data to path through a temporary file in the same directory and a
 * rename, so path is either untouched or complete. path "-" writes stdout.
 * Returns 0 on success. */
int util_write_file_atomic(const char *path, const void *data, size_t len,
                           struct util_error *err);

/* One file of a folder written by util_write_dir_atomic. */
struct util_dir_file {
    const char *name;           /* plain file name, no '/' */
    const void *data;
    size_t len;
    bool executable;            /* mode 0777 & ~umask instead of 0666 & ~umask */
};

/* Writes n files as the folder dir, atomically: built in dir.tmp-XXXXXX
 * beside it, then renamed, so dir is never half-written. dir may be absent or
 * empty; a non-empty dir is refused unless replace is true and it holds only
 * regular files including `marker` (a folder this writer made), which are
 * then swapped out in one rename and deleted. Returns a UTIL_EXIT_* code:
 * USAGE for a dir that may not be written, IO when the disk refuses. */
int util_write_dir_atomic(const char *dir, const struct util_dir_file *files, int n,
                          const char *marker, bool replace, struct util_error *err);

/* SHA-256 (FIPS 180-4): the digest, or as 64 lower-case hex digits. */
void util_sha256(const void *data, size_t len, uint8_t digest[32]);
void util_sha256_hex(const void *data, size_t len, char hex[65]);
/* Of a whole file: 0, or -1 with err (cannot read it). */
int util_sha256_file(const char *path, char hex[65], struct util_error *err);

/* Strips leading and trailing white space in place; returns the first
 * non-space character of s (for line-oriented configuration files). */
char *util_trim(char *s);
/* "name=value" as --config spells it: an unsigned integer (decimal, 0x hex,
 * 0 octal) with an optional k, M or G (x1000 each). Copies the name into
 * name[name_size]. Returns 0, or -1 with err set. */
int util_parse_assignment(const char *assignment, char *name, size_t name_size,
                          uint64_t *value, struct util_error *err);

/* A rate as every rate option spells it: a positive decimal number, an
 * optional multiplier k, M or G (x1000 each) and an optional unit "pps" or
 * "bps" (case-insensitive; blanks allowed between): "12.05M", "40Gbps",
 * "12M pps", "1.5e6". value is the number times the multiplier, in units
 * per second ("40Gbps" -> 4e10, unit BPS); scaled says a multiplier was
 * given. What a unit-less number means is the option's business. Returns 0,
 * or -1 with err naming `what` and saying what a rate looks like. */
enum util_rate_unit { UTIL_RATE_NUMBER, UTIL_RATE_PPS, UTIL_RATE_BPS };
struct util_rate {
    double value;
    enum util_rate_unit unit;
    bool scaled;
};
int util_parse_rate(const char *what, const char *s, struct util_rate *out,
                    struct util_error *err);

/* Reads "name = value" lines of a configuration file held in text (modified
 * in place): '#' starts a comment, blank lines are skipped, names and values
 * are trimmed. line is the 1-based number of the line last returned. */
struct util_kv_reader {
    char *next;
    int line;
};

void util_kv_begin(struct util_kv_reader *r, char *text);
/* 1: *name and *value point into the text; 0: end of text; -1: a line with no
 * '=' (err says "PATH:LINE: expected 'name = value', got '...'"). */
int util_kv_next(struct util_kv_reader *r, const char *path, char **name, char **value,
                 struct util_error *err);

/* ---- JSON writer --------------------------------------------------------- */

/* Builds pretty-printed JSON (2-space indent) into a growable buffer. Commas
 * and indentation are handled by the writer. Owner: the caller of
 * util_json_new, who calls util_json_free. */
struct util_json;

struct util_json *util_json_new(void);
void util_json_free(struct util_json *w);
void util_json_object_begin(struct util_json *w);
void util_json_object_end(struct util_json *w);
void util_json_array_begin(struct util_json *w);
void util_json_array_end(struct util_json *w);
/* An array whose items stay on one line ("[0, 1, 2]"): for long lists of
 * numbers such as a RETA. Close it with util_json_array_end. */
void util_json_array_begin_compact(struct util_json *w);
void util_json_key(struct util_json *w, const char *key);   /* inside an object */
void util_json_string(struct util_json *w, const char *s);
void util_json_int(struct util_json *w, int64_t v);
void util_json_uint(struct util_json *w, uint64_t v);
void util_json_double(struct util_json *w, double v);       /* NaN/inf -> null */
void util_json_bool(struct util_json *w, bool v);
void util_json_null(struct util_json *w);
/* The text so far (valid JSON once every begin has its end). */
const char *util_json_text(const struct util_json *w, size_t *len);

/* ---- JSON reader --------------------------------------------------------- */

enum util_jtype { UTIL_JNULL, UTIL_JBOOL, UTIL_JNUMBER, UTIL_JSTRING, UTIL_JARRAY, UTIL_JOBJECT };

struct util_jvalue {
    enum util_jtype type;
    bool boolean;
    double number;
    char *string;                   /* UTIL_JSTRING, NUL-terminated */
    size_t count;                   /* items in an array or object */
    struct util_jvalue *items;      /* array items or object values */
    char **keys;                    /* object keys, parallel to items */
};

/* Parses text; returns a tree the caller frees with util_jvalue_free, or NULL
 * with err naming `source`, the line and column. */
struct util_jvalue *util_json_parse(const char *text, size_t len, const char *source,
                                    struct util_error *err);
void util_jvalue_free(struct util_jvalue *v);
/* A JSON number as an int: INT_MIN when it is NaN or outside int's range
 * (a value every reader's range check then refuses), else truncated. Casting
 * an out-of-range double is undefined behaviour, so readers go through this. */
int util_jnumber_int(double number);
/* As a uint64_t: false (and *out 0) when NaN, negative, not whole or >= 2^64. */
bool util_jnumber_u64(double number, uint64_t *out);

/* Member of an object by key, or NULL (also when v is not an object). */
const struct util_jvalue *util_jobject_get(const struct util_jvalue *v, const char *key);

/* ---- Progress ------------------------------------------------------------ */

/* A one-line progress bar on stderr, drawn only when stderr is a terminal and
 * at most ~10 times a second. */
struct util_progress {
    const char *label;
    uint64_t total;
    bool enabled;
    double last_draw;
};

void util_progress_start(struct util_progress *p, const char *label, uint64_t total);
void util_progress_update(struct util_progress *p, uint64_t done);
void util_progress_finish(struct util_progress *p);

/* Monotonic seconds, for progress and timing. */
double util_now_seconds(void);

#endif /* RSSKEY_UTIL_H */
