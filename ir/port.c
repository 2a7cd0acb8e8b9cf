/*
 * port.c - what lifting one port's nf_process starts from: the pointer map
 * the domain memoises values in (ptrmap), and the per-port setup and
 * teardown of struct lift (blocks, reachability, value cache).
 */
#include "ir/lift.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ptrmap --------------------------------------------------------------- */

void ptrmap_init(struct ptrmap *m)
{
    memset(m, 0, sizeof *m);
}

void ptrmap_free(struct ptrmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static size_t ptr_hash(const void *p, size_t cap)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x & (cap - 1);
}

void *ptrmap_get(const struct ptrmap *m, const void *key, bool *found)
{
    if (found)
        *found = false;
    if (m->cap == 0)
        return NULL;
    for (size_t i = ptr_hash(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == NULL)
            return NULL;
        if (m->keys[i] == key) {
            if (found)
                *found = true;
            return m->vals[i];
        }
    }
}

void ptrmap_put(struct ptrmap *m, const void *key, void *val)
{
    if ((m->count + 1) * 2 > m->cap) {
        struct ptrmap bigger = {0};
        bigger.cap = m->cap ? m->cap * 2 : 64;
        bigger.keys = calloc(bigger.cap, sizeof *bigger.keys);
        bigger.vals = calloc(bigger.cap, sizeof *bigger.vals);
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i])
                ptrmap_put(&bigger, m->keys[i], m->vals[i]);
        ptrmap_free(m);
        *m = bigger;
    }
    size_t i = ptr_hash(key, m->cap);
    while (m->keys[i] != NULL && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    if (m->keys[i] == NULL)
        m->count++;
    m->keys[i] = (void *)key;
    m->vals[i] = val;
}

/* ---- Per-port setup -------------------------------------------------------- */

void lift_port_begin(struct lift *L, LLVMValueRef fn, int port)
{
    L->fn = fn;
    L->port = port;
    L->pkt = LLVMGetParam(fn, 0);
    ptrmap_init(&L->calls);
    ptrmap_init(&L->call_objects);
    ptrmap_init(&L->values);
    ptrmap_init(&L->inprogress);
    ptrmap_init(&L->block_index);
    L->n_blocks = (int)LLVMCountBasicBlocks(fn);
    L->blocks = calloc((size_t)L->n_blocks + 1, sizeof *L->blocks);
    LLVMGetBasicBlocks(fn, L->blocks);
    for (int i = 0; i < L->n_blocks; i++)
        ptrmap_put(&L->block_index, LLVMBasicBlockAsValue(L->blocks[i]), (void *)(intptr_t)(i + 1));
    /* Predecessor lists from the terminators' successors. */
    int *count = calloc((size_t)L->n_blocks + 1, sizeof *count);
    int total = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            L->pred_start = calloc((size_t)L->n_blocks + 1, sizeof *L->pred_start);
            for (int i = 0; i < L->n_blocks; i++)
                L->pred_start[i + 1] = L->pred_start[i] + count[i];
            L->preds = calloc((size_t)total + 1, sizeof *L->preds);
            memset(count, 0, ((size_t)L->n_blocks + 1) * sizeof *count);
        }
        for (int i = 0; i < L->n_blocks; i++) {
            LLVMValueRef term = LLVMGetBasicBlockTerminator(L->blocks[i]);
            if (!term)
                continue;
            unsigned n = LLVMGetNumSuccessors(term);
            for (unsigned s = 0; s < n; s++) {
                int j = (int)(intptr_t)ptrmap_get(&L->block_index,
                                                  LLVMBasicBlockAsValue(LLVMGetSuccessor(term, s)),
                                                  NULL) - 1;
                if (j < 0)
                    continue;
                if (pass == 0) {
                    count[j]++;
                    total++;
                } else {
                    L->preds[L->pred_start[j] + count[j]++] = i;
                }
            }
        }
    }
    free(count);
}

void lift_port_end(struct lift *L)
{
    for (size_t i = 0; i < L->values.cap; i++)
        if (L->values.keys[i])
            free(L->values.vals[i]);
    ptrmap_free(&L->values);
    ptrmap_free(&L->calls);
    ptrmap_free(&L->call_objects);
    ptrmap_free(&L->inprogress);
    ptrmap_free(&L->block_index);
    free(L->blocks);
    free(L->pred_start);
    free(L->preds);
    L->blocks = NULL;
    L->pred_start = L->preds = NULL;
}

int lift_access_of_call(struct lift *L, LLVMValueRef call)
{
    return (int)(intptr_t)ptrmap_get(&L->calls, call, NULL) - 1;
}
