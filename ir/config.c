/*
 * config.c - configuration values become constants before the analysis.
 *
 * An NF reads its configuration with nf_config("name", default) (usually in
 * nf_init, into a global: `wan_port = nf_config("wan_port", 1)`). Left
 * unknown, a comparison like `pkt->port == wan_port` cannot be decided per
 * port and both ports seem to reach both branches. So every nf_config call
 * with a constant name and default is replaced by the value the user gave
 * (ir_options.config, `--config NAME=VALUE`) or else its default, and a
 * global that nf_init stores exactly once, in its entry block, with what
 * folds to a constant is replaced by that constant wherever nf_process reads
 * it. The values assumed are recorded in ir_nf.config: the plan holds for
 * them only, and the launcher refuses a run whose NF reads other values.
 */
#include <stdlib.h>
#include <string.h>

#include "ir/lift.h"

static const struct ir_config_value *given(const struct ir_options *opts, const char *name,
                                           size_t len)
{
    for (int i = 0; opts && i < opts->n_config; i++)
        if (strlen(opts->config[i].name) == len && memcmp(opts->config[i].name, name, len) == 0)
            return &opts->config[i];
    return NULL;
}

/* Which global each configuration value flows into (in nf_init). */
#define MAX_FLOWS 256
struct flows {
    int n;
    LLVMValueRef global[MAX_FLOWS];
    int config[MAX_FLOWS];
};

static void trace_into_globals(LLVMValueRef v, int config, struct flows *f, int depth)
{
    if (depth > 8)
        return;
    for (LLVMUseRef u = LLVMGetFirstUse(v); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        if (LLVMIsAStoreInst(user)) {
            LLVMValueRef to = LLVMGetOperand(user, 1);
            if (LLVMGetOperand(user, 0) == v && LLVMIsAGlobalVariable(to) && f->n < MAX_FLOWS) {
                f->global[f->n] = to;
                f->config[f->n++] = config;
            }
            continue;
        }
        if (!LLVMIsAInstruction(user))
            continue;
        switch (LLVMGetInstructionOpcode(user)) {
        case LLVMTrunc: case LLVMZExt: case LLVMSExt: case LLVMAdd: case LLVMSub: case LLVMMul:
        case LLVMUDiv: case LLVMSDiv: case LLVMURem: case LLVMSRem: case LLVMShl: case LLVMLShr:
        case LLVMAShr: case LLVMAnd: case LLVMOr: case LLVMXor: case LLVMSelect: case LLVMPHI:
        case LLVMFreeze: case LLVMICmp:
            trace_into_globals(user, config, f, depth + 1);
            break;
        default:
            break;
        }
    }
}

static int note_value(struct ir_nf *nf, const char *name, size_t len, uint64_t value,
                      bool from_user, struct util_error *err)
{
    for (int i = 0; i < nf->n_config; i++)
        if (strlen(nf->config[i].name) == len && memcmp(nf->config[i].name, name, len) == 0) {
            if (nf->config[i].value != value) {
                util_error_set(err, "%s: nf_config(\"%s\", ...) is read with two different "
                               "defaults (%llu and %llu); give it with --config %s=VALUE",
                               nf->path, nf->config[i].name,
                               (unsigned long long)nf->config[i].value,
                               (unsigned long long)value, nf->config[i].name);
                return -UTIL_EXIT_INPUT;
            }
            return i;
        }
    if (nf->n_config == IR_MAX_CONFIG || len >= IR_CONFIG_NAME_MAX) {
        util_error_set(err, "%s: more than %d configuration names, or a name of %d characters "
                       "or more: rsskey cannot record what the plan assumes", nf->path,
                       IR_MAX_CONFIG, IR_CONFIG_NAME_MAX);
        return -UTIL_EXIT_INPUT;
    }
    struct ir_config_value *c = &nf->config[nf->n_config++];
    memcpy(c->name, name, len);
    c->name[len] = 0;
    c->value = value;
    c->from_user = from_user;
    return nf->n_config - 1;
}

/* Replaces every nf_config call with a constant name and default. A value
 * read in nf_process affects the plan; one read in nf_init does if it
 * reaches a global nf_process reads (bind_globals decides, from f). */
static int bind_calls(LLVMModuleRef mod, const struct ir_options *opts, struct ir_nf *nf,
                      struct flows *f, struct util_error *err)
{
    LLVMValueRef init = LLVMGetNamedFunction(mod, "nf_init");
    size_t n_dead = 0, cap = 0;
    LLVMValueRef *dead = NULL;
    int rc = 0;
    for (LLVMValueRef fn = LLVMGetFirstFunction(mod); fn && !rc; fn = LLVMGetNextFunction(fn))
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb && !rc;
             bb = LLVMGetNextBasicBlock(bb))
            for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in && !rc;
                 in = LLVMGetNextInstruction(in)) {
                if (!LLVMIsACallInst(in) || LLVMGetNumArgOperands(in) != 2)
                    continue;
                const char *callee = lift_callee_name(in);
                if (!callee || strcmp(callee, "nf_config") != 0)
                    continue;
                size_t len;
                const char *name = lift_constant_string(LLVMGetOperand(in, 0), &len);
                int64_t def;
                if (!name || !lift_const_int(LLVMGetOperand(in, 1), &def))
                    continue;           /* stays a value the analysis cannot know */
                const struct ir_config_value *g = given(opts, name, len);
                uint64_t value = g ? g->value : (uint64_t)def;
                int k = note_value(nf, name, len, value, g != NULL, err);
                if (k < 0) {
                    rc = -k;
                    break;
                }
                if (fn == init && strcmp(nf->config[k].name, "ports") != 0)
                    trace_into_globals(in, k, f, 0);
                else
                    nf->config[k].affects_plan = true;
                LLVMReplaceAllUsesWith(in, LLVMConstInt(LLVMTypeOf(in), value, 0));
                if (n_dead == cap) {
                    cap = cap ? cap * 2 : 8;
                    LLVMValueRef *grown = realloc(dead, cap * sizeof *dead);
                    if (!grown) {
                        util_error_set(err, "out of memory");
                        rc = UTIL_EXIT_FAILURE;
                        break;
                    }
                    dead = grown;
                }
                dead[n_dead++] = in;
            }
    for (size_t i = 0; i < n_dead; i++)
        LLVMInstructionEraseFromParent(dead[i]);
    free(dead);
    return rc;
}

/* The constant nf_init stores into g once, in its entry block, when every
 * other use of g is a plain load; else NULL. */
static LLVMValueRef stored_once(LLVMValueRef g, LLVMValueRef init)
{
    LLVMValueRef value = NULL;
    for (LLVMUseRef u = LLVMGetFirstUse(g); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        if (LLVMIsALoadInst(user) && LLVMGetOperand(user, 0) == g)
            continue;
        if (!LLVMIsAStoreInst(user) || LLVMGetOperand(user, 1) != g || value)
            return NULL;
        LLVMBasicBlockRef bb = LLVMGetInstructionParent(user);
        if (LLVMGetBasicBlockParent(bb) != init || bb != LLVMGetEntryBasicBlock(init))
            return NULL;
        value = LLVMGetOperand(user, 0);
        if (!LLVMIsAConstantInt(value))
            return NULL;
    }
    return value;
}

/* Globals nf_init set once to a constant read as that constant outside it;
 * the configuration values that flowed into such a global affect the plan. */
static void bind_globals(LLVMModuleRef mod, const struct flows *f, struct ir_nf *nf)
{
    LLVMValueRef init = LLVMGetNamedFunction(mod, "nf_init");
    if (!init)
        return;
    for (LLVMValueRef g = LLVMGetFirstGlobal(mod); g; g = LLVMGetNextGlobal(g)) {
        LLVMValueRef value = stored_once(g, init);
        if (!value)
            continue;
        LLVMValueRef load = NULL;
        for (LLVMUseRef u = LLVMGetFirstUse(g); u; u = load ? LLVMGetFirstUse(g) : NULL) {
            load = NULL;
            for (; u; u = LLVMGetNextUse(u)) {
                LLVMValueRef user = LLVMGetUser(u);
                if (LLVMIsALoadInst(user) && LLVMTypeOf(user) == LLVMTypeOf(value) &&
                    LLVMGetBasicBlockParent(LLVMGetInstructionParent(user)) != init) {
                    load = user;
                    break;
                }
            }
            if (!load)
                break;
            LLVMReplaceAllUsesWith(load, value);
            LLVMInstructionEraseFromParent(load);
            for (int i = 0; i < f->n; i++)
                if (f->global[i] == g)
                    nf->config[f->config[i]].affects_plan = true;
        }
    }
}

static int check_given(const struct ir_options *opts, const struct ir_nf *nf,
                       struct util_error *err);

int lift_bind_config(LLVMModuleRef mod, const struct ir_options *opts, struct ir_nf *nf,
                     struct util_error *err)
{
    struct flows *f = calloc(1, sizeof *f);
    if (!f) {
        util_error_set(err, "out of memory");
        return UTIL_EXIT_FAILURE;
    }
    int rc = bind_calls(mod, opts, nf, f, err);
    if (rc == 0)
        rc = check_given(opts, nf, err);
    /* Fold nf_init so what it stores is a constant where it can be. */
    if (rc == 0)
        rc = lift_run_passes(mod, "function(instcombine<no-verify-fixpoint>,sccp)", err);
    if (rc == 0)
        bind_globals(mod, f, nf);
    free(f);
    return rc;
}

/* Every --config name must be one the NF reads. */
static int check_given(const struct ir_options *opts, const struct ir_nf *nf,
                       struct util_error *err)
{
    for (int i = 0; opts && i < opts->n_config; i++) {
        bool read = false;
        for (int k = 0; k < nf->n_config && !read; k++)
            read = strcmp(nf->config[k].name, opts->config[i].name) == 0;
        if (!read) {
            char names[512] = "";
            size_t at = 0;
            for (int k = 0; k < nf->n_config && at < sizeof names; k++)
                at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", k ? ", " : "",
                                       nf->config[k].name);
            util_error_set(err, "%s: --config %s: the NF reads no configuration value of that "
                           "name (it reads: %s)", nf->path, opts->config[i].name,
                           nf->n_config ? names : "none");
            return UTIL_EXIT_USAGE;
        }
    }
    return 0;
}
