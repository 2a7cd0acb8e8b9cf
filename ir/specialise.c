/*
 * specialise.c - one copy of the normalised module per input port, with
 * nf_process's reads of pkt->port (struct nf_packet byte offset 12, i16)
 * replaced by that port, then folded so the other ports' branches vanish.
 */
#include "ir/lift.h"

#include <stdlib.h>
#include <string.h>

#define PKT_PORT_OFFSET 12

/* True when ptr is pkt + PKT_PORT_OFFSET through constant GEPs. */
static bool is_port_address(LLVMTargetDataRef td, LLVMValueRef ptr, LLVMValueRef pkt)
{
    int64_t total = 0;
    for (int depth = 0; depth < 16; depth++) {
        if (ptr == pkt)
            return total == PKT_PORT_OFFSET;
        int64_t off;
        if ((LLVMIsAGetElementPtrInst(ptr) ||
             (LLVMIsAConstantExpr(ptr) && LLVMGetConstOpcode(ptr) == LLVMGetElementPtr)) &&
            lift_gep_const_offset(td, ptr, &off)) {
            total += off;
            ptr = LLVMGetOperand(ptr, 0);
            continue;
        }
        return false;
    }
    return false;
}

/* A key in canonical order, `src < dst ? (src, dst) : (dst, src)`, often
 * compiles to llvm.umin/umax with no comparison left to split on. Before
 * each min/max call, an unused `icmp ult/slt a, b` over its operands gives
 * the analysis that condition (split.c tries both outcomes; value.c then
 * knows which operand each min/max returns). It decides nothing itself. */
static void add_minmax_conditions(LLVMValueRef fn)
{
    LLVMBuilderRef builder = LLVMCreateBuilderInContext(LLVMGetModuleContext(
        LLVMGetGlobalParent(fn)));
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
            if (!LLVMIsACallInst(in))
                continue;
            LLVMValueRef callee = LLVMGetCalledValue(in);
            size_t len = 0;
            const char *name = callee ? LLVMGetValueName2(callee, &len) : NULL;
            if (!name || len < 10 || strncmp(name, "llvm.", 5) != 0 ||
                (strncmp(name + 5, "umin.", 5) != 0 && strncmp(name + 5, "umax.", 5) != 0 &&
                 strncmp(name + 5, "smin.", 5) != 0 && strncmp(name + 5, "smax.", 5) != 0))
                continue;
            LLVMValueRef a = LLVMGetOperand(in, 0), b = LLVMGetOperand(in, 1);
            if (LLVMGetTypeKind(LLVMTypeOf(a)) != LLVMIntegerTypeKind)
                continue;
            LLVMPositionBuilderBefore(builder, in);
            LLVMBuildICmp(builder, name[5] == 'u' ? LLVMIntULT : LLVMIntSLT, a, b, "minmax.cond");
        }
    LLVMDisposeBuilder(builder);
}

LLVMModuleRef lift_specialise(LLVMModuleRef normalised, int port, struct util_error *err)
{
    LLVMModuleRef mod = LLVMCloneModule(normalised);
    LLVMTargetDataRef td = LLVMGetModuleDataLayout(mod);
    LLVMValueRef fn = LLVMGetNamedFunction(mod, "nf_process");
    LLVMValueRef pkt = LLVMGetParam(fn, 0);
    LLVMTypeRef i16 = LLVMInt16TypeInContext(LLVMGetModuleContext(mod));
    LLVMValueRef port_const = LLVMConstInt(i16, (unsigned long long)port, 0);

    size_t n_dead = 0, cap = 0;
    LLVMValueRef *dead = NULL;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
        for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
            if (!LLVMIsALoadInst(in))
                continue;
            LLVMTypeRef t = LLVMTypeOf(in);
            if (LLVMGetTypeKind(t) != LLVMIntegerTypeKind || LLVMGetIntTypeWidth(t) != 16)
                continue;
            if (!is_port_address(td, LLVMGetOperand(in, 0), pkt))
                continue;
            LLVMReplaceAllUsesWith(in, port_const);
            if (n_dead == cap) {
                cap = cap ? cap * 2 : 8;
                dead = realloc(dead, cap * sizeof *dead);
            }
            dead[n_dead++] = in;
        }
    }
    for (size_t i = 0; i < n_dead; i++)
        LLVMInstructionEraseFromParent(dead[i]);
    free(dead);
    if (lift_run_passes(mod, "function(instcombine<no-verify-fixpoint>,sccp,simplifycfg,adce,simplifycfg)", err)) {
        LLVMDisposeModule(mod);
        return NULL;
    }
    add_minmax_conditions(LLVMGetNamedFunction(mod, "nf_process"));
    return mod;
}
