/*
 * ir.c - ir_analyze_file: load, check, normalise, find the objects in
 * nf_init, then lift nf_process once per input port (see lift.h for the
 * files that do each step).
 */
#include "ir/lift.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define IR_MAX_PORTS 64

void ir_nf_free(struct ir_nf *nf)
{
    if (!nf)
        return;
    free(nf->objects);
    free(nf->accesses);
    free(nf->writes);
    free(nf->issues);
    free(nf->record_writes);
    free(nf->derivations);
    memset(nf, 0, sizeof *nf);
}

/* A create call in nf_process is an error: objects live from nf_init on. */
static int check_no_create(LLVMValueRef process, const char *path, struct util_error *err)
{
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(process); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
            if (!LLVMIsACallInst(in) || lift_call_class(in) != CALL_CREATE)
                continue;
            struct ir_location loc;
            lift_location(in, &loc);
            util_error_set(err, "%s: %s:%d (in %s): a state object is created outside nf_init "
                           "(%s called from nf_process); create every object once in nf_init",
                           path, loc.file[0] ? loc.file : "?", loc.line, loc.function,
                           lift_callee_name(in));
            return UTIL_EXIT_INPUT;
        }
    return 0;
}

static int analyze(const char *path, const struct ir_options *opts, LLVMContextRef ctx,
                   struct ir_nf *out, struct util_error *err)
{
    LLVMModuleRef mod = NULL;
    int rc = lift_load(path, ctx, &mod, err);
    if (rc)
        return rc;
    rc = lift_check_entry_points(mod, path, err);
    /* The port count first: nf_config("ports", N) is bound like any value. */
    int ports = opts && opts->ports > 0 ? opts->ports : 0;
    for (int i = 0; !rc && ports == 0 && opts && i < opts->n_config; i++)
        if (strcmp(opts->config[i].name, "ports") == 0 && opts->config[i].value <= IR_MAX_PORTS)
            ports = (int)opts->config[i].value;
    if (!rc && ports == 0)
        ports = lift_config_ports(LLVMGetNamedFunction(mod, "nf_init"));
    if (!rc)
        rc = lift_normalise(mod, err);
    if (!rc)
        rc = lift_bind_config(mod, opts, out, err);
    if (!rc)
        rc = check_no_create(LLVMGetNamedFunction(mod, "nf_process"), path, err);
    struct lift L;
    memset(&L, 0, sizeof L);
    L.nf = out;
    L.mod = mod;
    L.td = LLVMGetModuleDataLayout(mod);
    LLVMValueRef init = LLVMGetNamedFunction(mod, "nf_init");
    if (!rc)
        rc = lift_objects(&L, init, err);
    if (!rc && ports == 0)
        ports = 2;
    if (!rc && (ports < 1 || ports > IR_MAX_PORTS)) {
        util_error_set(err, "%s: %d input ports; rsskey handles 1 to %d (nf_config(\"ports\", N)"
                       " or --ports)", path, ports, IR_MAX_PORTS);
        rc = UTIL_EXIT_INPUT;
    }
    out->n_ports = rc ? 0 : ports;
    for (int port = 0; !rc && port < ports; port++) {
        LLVMModuleRef clone = lift_specialise(mod, port, err);
        if (!clone) {
            rc = UTIL_EXIT_FAILURE;
            break;
        }
        L.td = LLVMGetModuleDataLayout(clone);
        lift_port_begin(&L, LLVMGetNamedFunction(clone, "nf_process"), port);
        rc = lift_port(&L, err);
        lift_port_end(&L);
        LLVMDisposeModule(clone);
    }
    free(L.slots);
    LLVMDisposeModule(mod);
    return rc;
}

static int analyze_here(const char *path, const struct ir_options *opts, struct ir_nf *out,
                        struct util_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", path);
    LLVMContextRef ctx = LLVMContextCreate();
    int rc = analyze(path, opts, ctx, out, err);
    LLVMContextDispose(ctx);
    return rc;
}

/* ---- Running the analysis in a child ---------------------------------------
 * The child sends: rc, the error message, then (rc == 0) the ir_nf header
 * and its six arrays. Every struct is plain data, so bytes suffice. */

static bool write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

struct reader {
    const char *data;
    size_t len, at;
};

static bool take(struct reader *r, void *out, size_t len)
{
    if (r->len - r->at < len)
        return false;
    memcpy(out, r->data + r->at, len);
    r->at += len;
    return true;
}

static bool take_array(struct reader *r, void **out, int count, size_t size)
{
    *out = NULL;
    if (count < 0)
        return false;
    if (count == 0)
        return true;
    *out = malloc((size_t)count * size);
    return *out && take(r, *out, (size_t)count * size);
}

static void child_main(int fd, pid_t parent, const char *path, const struct ir_options *opts)
{
    /* The child dies with its parent: one killed during a long analysis
     * (timeout(1), SIGKILL, a fuzzer's own timeout) must not leave LLVM
     * looping on corrupt bitcode as an orphan. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(1);
    /* A crash must end the child, not run a handler the caller installed
     * (a test framework's longjmp would resume the caller's code here). */
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        signal(fatal[i], SIG_DFL);
    struct ir_nf nf;
    struct util_error err;
    memset(&err, 0, sizeof err);
    int rc = analyze_here(path, opts, &nf, &err);
    bool ok = write_all(fd, &rc, sizeof rc) && write_all(fd, err.msg, sizeof err.msg);
    if (ok && rc == 0)
        ok = write_all(fd, &nf, sizeof nf) &&
             write_all(fd, nf.objects, (size_t)nf.n_objects * sizeof *nf.objects) &&
             write_all(fd, nf.accesses, (size_t)nf.n_accesses * sizeof *nf.accesses) &&
             write_all(fd, nf.writes, (size_t)nf.n_writes * sizeof *nf.writes) &&
             write_all(fd, nf.issues, (size_t)nf.n_issues * sizeof *nf.issues) &&
             write_all(fd, nf.record_writes,
                       (size_t)nf.n_record_writes * sizeof *nf.record_writes) &&
             write_all(fd, nf.derivations,
                       (size_t)nf.n_derivations * sizeof *nf.derivations);
    _exit(ok ? 0 : 1);
}

/* How long the analysis child may run without sending anything. */
#define ANALYSIS_DEADLINE_MS 30000

static int analyze_isolated(const char *path, const struct ir_options *opts, struct ir_nf *out,
                            struct util_error *err)
{
    int fds[2];
    if (pipe(fds) != 0)
        return analyze_here(path, opts, out, err);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return analyze_here(path, opts, out, err);
    }
    if (pid == 0) {
        close(fds[0]);
        child_main(fds[1], parent, path, opts);
    }
    close(fds[1]);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    /* Corrupt bitcode can also send LLVM into a loop: the child gets a
     * deadline (an NF's analysis takes milliseconds). */
    bool timed_out = false;
    for (;;) {
        if (len == cap)
            buf = realloc(buf, cap *= 2);
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int ready = poll(&pfd, 1, ANALYSIS_DEADLINE_MS);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0) {
            timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        ssize_t n = read(fds[0], buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    struct reader r = {buf, len, 0};
    int rc = UTIL_EXIT_FAILURE;
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && take(&r, &rc, sizeof rc) &&
              take(&r, err->msg, sizeof err->msg);
    if (ok && rc == 0) {
        struct ir_nf nf;
        ok = take(&r, &nf, sizeof nf);
        if (ok) {
            memcpy(out, &nf, sizeof nf);
            out->objects = NULL, out->accesses = NULL, out->writes = NULL, out->issues = NULL;
            out->record_writes = NULL, out->derivations = NULL;
            ok = take_array(&r, (void **)&out->objects, nf.n_objects, sizeof *out->objects) &&
                 take_array(&r, (void **)&out->accesses, nf.n_accesses, sizeof *out->accesses) &&
                 take_array(&r, (void **)&out->writes, nf.n_writes, sizeof *out->writes) &&
                 take_array(&r, (void **)&out->issues, nf.n_issues, sizeof *out->issues) &&
                 take_array(&r, (void **)&out->record_writes, nf.n_record_writes,
                            sizeof *out->record_writes) &&
                 take_array(&r, (void **)&out->derivations, nf.n_derivations,
                            sizeof *out->derivations);
        }
    }
    free(buf);
    if (timed_out) {
        util_error_set(err, "%s: the analysis did not finish in %d s (LLVM 19 loops on some "
                       "corrupt bitcode); rebuild the file with `clang-19 -c -emit-llvm -g`",
                       path, ANALYSIS_DEADLINE_MS / 1000);
        return UTIL_EXIT_INPUT;
    }
    if (!ok) {
        if (WIFSIGNALED(status))
            util_error_set(err, "%s: corrupt LLVM bitcode: LLVM 19 crashed while reading or "
                           "transforming it (signal %d). Rebuild the file with "
                           "`clang-19 -c -emit-llvm -g`", path, WTERMSIG(status));
        else
            util_error_set(err, "%s: internal error: the analysis process ended without a "
                           "result (exit status %d)", path,
                           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return UTIL_EXIT_INPUT;
    }
    return rc;
}

int ir_analyze_file(const char *bitcode_path, const struct ir_options *opts,
                    struct ir_nf *out, struct util_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = opts && opts->in_process ? analyze_here(bitcode_path, opts, out, err)
                                      : analyze_isolated(bitcode_path, opts, out, err);
    if (rc) {
        ir_nf_free(out);
    }
    snprintf(out->path, sizeof out->path, "%s", bitcode_path);
    return rc;
}
