/*
 * ir.c - ir_analyze_file: load, check, normalise, find the objects in
 * nf_init, then lift nf_process once per input port (see lift.h for the
 * files that do each step).
 */
#include "ir/lift.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IR_MAX_PORTS 64

void ir_nf_free(struct ir_nf *nf)
{
    if (!nf)
        return;
    free(nf->objects);
    free(nf->accesses);
    free(nf->writes);
    free(nf->issues);
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
    if (!rc)
        rc = lift_normalise(mod, err);
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
    int ports = opts && opts->ports > 0 ? opts->ports : 0;
    if (!rc && ports == 0)
        ports = lift_config_ports(init);
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

int ir_analyze_file(const char *bitcode_path, const struct ir_options *opts,
                    struct ir_nf *out, struct util_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", bitcode_path);
    LLVMContextRef ctx = LLVMContextCreate();
    int rc = analyze(bitcode_path, opts, ctx, out, err);
    LLVMContextDispose(ctx);
    if (rc) {
        char path[256];
        memcpy(path, out->path, sizeof path);
        ir_nf_free(out);
        memcpy(out->path, path, sizeof path);
    }
    return rc;
}
