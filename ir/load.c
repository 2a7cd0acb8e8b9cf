/*
 * load.c - reading an NF's bitcode, checking its entry points and normalising
 * a copy (undo -O0's optnone/noinline, inline the NF's own functions, promote
 * locals to SSA, fold constants) so every optimisation level looks alike.
 */
#include "ir/lift.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/Error.h>
#include <llvm-c/Transforms/PassBuilder.h>

/* Collects the bitcode reader's diagnostics (no global state). */
struct diag_sink {
    char text[1024];
};

static void diag_handler(LLVMDiagnosticInfoRef info, void *opaque)
{
    struct diag_sink *sink = opaque;
    char *msg = LLVMGetDiagInfoDescription(info);
    size_t used = strlen(sink->text);
    if (used + 3 < sizeof sink->text)
        snprintf(sink->text + used, sizeof sink->text - used, "%s%s", used ? "; " : "", msg);
    LLVMDisposeMessage(msg);
}

/* Checks the bitcode magic: raw 'B' 'C' 0xC0DE, or the wrapper 0x0B17C0DE. */
static int check_magic(const char *path, struct util_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        util_error_set(err, "%s: cannot open: %s", path, strerror(errno));
        return UTIL_EXIT_IO;
    }
    unsigned char m[4] = {0};
    size_t n = fread(m, 1, 4, f);
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    if (read_errno) {       /* a directory, an unreadable device, ... */
        util_error_set(err, "%s: cannot read: %s; give the NF's bitcode file", path,
                       strerror(read_errno));
        return UTIL_EXIT_IO;
    }
    static const unsigned char raw[4] = {'B', 'C', 0xC0, 0xDE};
    static const unsigned char wrapper[4] = {0xDE, 0xC0, 0x17, 0x0B};
    if (n == 4 && (memcmp(m, raw, 4) == 0 || memcmp(m, wrapper, 4) == 0))
        return 0;
    if (n < 4) {
        util_error_set(err, "%s: not LLVM bitcode: the file is %zu bytes long, shorter than "
                       "the 4-byte bitcode magic at offset 0; compile the NF with "
                       "`clang-19 -c -emit-llvm -g nf.c -o nf.bc`", path, n);
    } else {
        util_error_set(err, "%s: not LLVM bitcode: bytes at offset 0 are %02x %02x %02x %02x, "
                       "expected 42 43 c0 de ('BC' 0xC0DE) or the wrapper magic de c0 17 0b; "
                       "compile the NF with `clang-19 -c -emit-llvm -g nf.c -o nf.bc`",
                       path, m[0], m[1], m[2], m[3]);
    }
    return UTIL_EXIT_INPUT;
}

int lift_load(const char *path, LLVMContextRef ctx, LLVMModuleRef *out, struct util_error *err)
{
    int rc = check_magic(path, err);
    if (rc)
        return rc;
    LLVMMemoryBufferRef buf = NULL;
    char *msg = NULL;
    if (LLVMCreateMemoryBufferWithContentsOfFile(path, &buf, &msg)) {
        util_error_set(err, "%s: cannot read: %s", path, msg ? msg : "unknown error");
        LLVMDisposeMessage(msg);
        return UTIL_EXIT_IO;
    }
    struct diag_sink sink = {{0}};
    LLVMContextSetDiagnosticHandler(ctx, diag_handler, &sink);
    LLVMModuleRef mod = NULL;
    LLVMBool failed = LLVMParseBitcodeInContext2(ctx, buf, &mod);
    LLVMDisposeMemoryBuffer(buf);
    LLVMContextSetDiagnosticHandler(ctx, NULL, NULL);
    if (failed) {
        util_error_set(err, "%s: the LLVM 19 bitcode reader rejected the file: %s. If it was "
                       "produced by a clang newer than 19, rebuild it with clang-19; if it is "
                       "truncated, rebuild it", path,
                       sink.text[0] ? sink.text : "no diagnostic");
        return UTIL_EXIT_INPUT;
    }
    char *msg2 = NULL;
    if (LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg2)) {
        util_error_set(err, "%s: malformed LLVM bitcode: the LLVM 19 verifier says: %.1500s"
                       "Rebuild the file with `clang-19 -c -emit-llvm -g`", path,
                       msg2 ? msg2 : "(no message)");
        LLVMDisposeMessage(msg2);
        LLVMDisposeModule(mod);
        return UTIL_EXIT_INPUT;
    }
    LLVMDisposeMessage(msg2);
    *out = mod;
    return 0;
}

/* A function with a body, or NULL. */
static LLVMValueRef defined_function(LLVMModuleRef mod, const char *name)
{
    LLVMValueRef fn = LLVMGetNamedFunction(mod, name);
    if (fn && LLVMCountBasicBlocks(fn) == 0)
        return NULL;
    return fn;
}

int lift_check_entry_points(LLVMModuleRef mod, const char *path, struct util_error *err)
{
    LLVMValueRef process = defined_function(mod, "nf_process");
    if (!process) {
        util_error_set(err, "%s: no definition of nf_process; an NF defines "
                       "`int nf_process(struct nf_packet *pkt)` (include/rsskey/nf.h)", path);
        return UTIL_EXIT_INPUT;
    }
    LLVMTypeRef ft = LLVMGlobalGetValueType(process);
    LLVMTypeRef ret = LLVMGetReturnType(ft);
    bool ok = LLVMCountParamTypes(ft) == 1 && !LLVMIsFunctionVarArg(ft) &&
              LLVMGetTypeKind(ret) == LLVMIntegerTypeKind && LLVMGetIntTypeWidth(ret) == 32;
    if (ok) {
        LLVMTypeRef param;
        LLVMGetParamTypes(ft, &param);
        ok = LLVMGetTypeKind(param) == LLVMPointerTypeKind;
    }
    if (!ok) {
        char *sig = LLVMPrintTypeToString(ft);
        util_error_set(err, "%s: nf_process has type %s, expected i32 (ptr): "
                       "`int nf_process(struct nf_packet *pkt)`", path, sig);
        LLVMDisposeMessage(sig);
        return UTIL_EXIT_INPUT;
    }
    if (!defined_function(mod, "nf_init")) {
        util_error_set(err, "%s: no definition of nf_init; an NF defines `int nf_init(void)` "
                       "and creates its state objects there", path);
        return UTIL_EXIT_INPUT;
    }
    return 0;
}

int lift_run_passes(LLVMModuleRef mod, const char *passes, struct util_error *err)
{
    LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
    LLVMErrorRef e = LLVMRunPasses(mod, passes, NULL, opts);
    LLVMDisposePassBuilderOptions(opts);
    if (e) {
        char *msg = LLVMGetErrorMessage(e);
        util_error_set(err, "internal error: LLVM pass pipeline \"%s\" failed: %s", passes, msg);
        LLVMDisposeErrorMessage(msg);
        return UTIL_EXIT_FAILURE;
    }
    return 0;
}

static void remove_fn_attr(LLVMValueRef fn, const char *name)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    if (kind && LLVMGetEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex, kind))
        LLVMRemoveEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex, kind);
}

/* Makes every NF function except the entry points inlinable (and forced),
 * then simplifies. The module is the caller's private copy. */
int lift_normalise(LLVMModuleRef mod, struct util_error *err)
{
    LLVMContextRef ctx = LLVMGetModuleContext(mod);
    unsigned always = LLVMGetEnumAttributeKindForName("alwaysinline", 12);
    for (LLVMValueRef fn = LLVMGetFirstFunction(mod); fn; fn = LLVMGetNextFunction(fn)) {
        if (LLVMCountBasicBlocks(fn) == 0)
            continue;
        remove_fn_attr(fn, "optnone");
        remove_fn_attr(fn, "noinline");
        size_t len;
        const char *name = LLVMGetValueName2(fn, &len);
        if (strcmp(name, "nf_process") == 0 || strcmp(name, "nf_init") == 0)
            continue;
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                                LLVMCreateEnumAttribute(ctx, always, 0));
    }
    return lift_run_passes(mod,
        "always-inline,function(sroa,mem2reg,instcombine<no-verify-fixpoint>,sccp,simplifycfg,early-cse,"
        "gvn,instcombine<no-verify-fixpoint>,simplifycfg)", err);
}
