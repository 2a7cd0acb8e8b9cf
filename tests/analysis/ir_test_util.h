/*
 * ir_test_util.h - helpers shared by the ir/ tests: lift a test NF, render a
 * key as "ipv4.src,l4.dport", find an access by object, API and port, check a
 * record write.
 */
#ifndef RSSKEY_IR_TEST_UTIL_H
#define RSSKEY_IR_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ir/ir.h"

static const char *const ir_test_levels[] = {"O0", "O2"};

static inline void ir_test_lift(const char *dir, const char *name, const char *level,
                                struct ir_nf *nf)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.%s.bc", dir, name, level);
    struct util_error err = {{0}};
    int rc = ir_analyze_file(path, NULL, nf, &err);
    if (rc)
        fail_msg("%s: %s", path, err.msg);
}

static inline const char *ir_test_key(const struct ir_key *k, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int i = 0; i < k->count; i++) {
        char part[64];
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", i ? "," : "",
                 ir_key_part_format(&k->parts[i], part, sizeof part));
    }
    return buf;
}

static inline int ir_test_object(const struct ir_nf *nf, const char *name)
{
    for (int i = 0; i < nf->n_objects; i++)
        if (strcmp(nf->objects[i].name, name) == 0)
            return i;
    fail_msg("%s: no object named %s", nf->path, name);
    return -1;
}

/* How many accesses match (object name, api, port). */
static inline int ir_test_count(const struct ir_nf *nf, const char *object, enum ir_api api,
                                int port)
{
    int n = 0;
    for (int i = 0; i < nf->n_accesses; i++) {
        const struct ir_access *a = &nf->accesses[i];
        if (strcmp(nf->objects[a->object].name, object) == 0 && a->api == api && a->port == port)
            n++;
    }
    return n;
}

/* The only access matching (object, api, port); fails the test otherwise. */
static inline const struct ir_access *ir_test_access(const struct ir_nf *nf, const char *object,
                                                     enum ir_api api, int port)
{
    const struct ir_access *found = NULL;
    for (int i = 0; i < nf->n_accesses; i++) {
        const struct ir_access *a = &nf->accesses[i];
        if (strcmp(nf->objects[a->object].name, object) != 0 || a->api != api || a->port != port)
            continue;
        if (found)
            fail_msg("%s: more than one %s on %s from port %d", nf->path, ir_api_name(api),
                     object, port);
        found = a;
    }
    if (!found)
        fail_msg("%s: no %s on %s from port %d", nf->path, ir_api_name(api), object, port);
    return found;
}

static inline void ir_test_key_is(const struct ir_nf *nf, const char *object, enum ir_api api,
                                  int port, const char *expected)
{
    char buf[512];
    const struct ir_access *a = ir_test_access(nf, object, api, port);
    ir_test_key(&a->key, buf, sizeof buf);
    if (strcmp(buf, expected) != 0)
        fail_msg("%s: %s on %s port %d: key (%s), expected (%s)", nf->path, ir_api_name(api),
                 object, port, buf, expected);
}

/* The only record write into `object` at byte `offset` on `port` must be
 * `bits` wide with the value `value` ("ipv4.dst"); returns it. */
static inline const struct ir_record_write *ir_test_record_is(const struct ir_nf *nf,
                                                              const char *object, int port,
                                                              int offset, int bits,
                                                              const char *value)
{
    const struct ir_record_write *found = NULL;
    for (int i = 0; i < nf->n_record_writes; i++) {
        const struct ir_record_write *rw = &nf->record_writes[i];
        if (strcmp(nf->objects[rw->object].name, object) != 0 || rw->port != port ||
            rw->offset_unknown || rw->offset != offset)
            continue;
        if (found)
            fail_msg("%s: two record writes to %s[%d] on port %d", nf->path, object, offset,
                     port);
        found = rw;
    }
    if (!found)
        fail_msg("%s: no record write to %s[%d] on port %d", nf->path, object, offset, port);
    char buf[512];
    ir_test_key(&found->value, buf, sizeof buf);
    if (found->bits != bits || strcmp(buf, value) != 0)
        fail_msg("%s: %s[%d] on port %d: %d bits = (%s), expected %d bits = (%s)", nf->path,
                 object, offset, port, found->bits, buf, bits, value);
    assert_int_equal(found->object, ir_test_object(nf, object));
    assert_int_equal(nf->accesses[found->access].api, IR_API_VECTOR_WRITE);
    assert_int_equal(nf->accesses[found->access].object, found->object);
    return found;
}

static inline int ir_test_issues(const struct ir_nf *nf, enum ir_issue_kind kind, int port)
{
    int n = 0;
    for (int i = 0; i < nf->n_issues; i++)
        if (nf->issues[i].kind == kind && nf->issues[i].port == port)
            n++;
    return n;
}

#endif /* RSSKEY_IR_TEST_UTIL_H */
