/* A uBPF host, written the way uBPF's own tools use ubpf.h: for each test,
 * create a VM, register the conformance helper, load raw bytecode, run it
 * with the interpreter (ubpf_exec) and with the JIT (ubpf_compile), and
 * compare r0 with the expected value.
 *
 * Input: lines "NAME CODE MEM RESULT" (hex; MEM "-" for none), as written by
 * `cargo run -p cranebpf-capi --example conformance_export`.
 * Output: one line per failure and "interpreter: P/N passed, jit: P/N passed".
 * Exit status 0 only if every test passed on both engines. */
#include <ubpf.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Helper 5 of the conformance suite: returns its first argument; as the
 * unwind helper, a 0 result ends the program (uBPF's plugin does the same). */
static uint64_t
identity(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
    (void)b, (void)c, (void)d, (void)e;
    return a;
}

static size_t
unhex(const char* s, uint8_t** out)
{
    size_t n = strcmp(s, "-") == 0 ? 0 : strlen(s) / 2;
    *out = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(s + 2 * i, "%2x", &v);
        (*out)[i] = (uint8_t)v;
    }
    return n;
}

/* 1 if the test passed on engine `jit` (0: interpreter). */
static int
run_one(const char* name, const uint8_t* code, size_t code_len, const uint8_t* mem, size_t mem_len,
        uint64_t want, int jit)
{
    struct ubpf_vm* vm = ubpf_create();
    char* errmsg = NULL;
    int ok = 0;
    uint8_t* buf = malloc(mem_len ? mem_len : 1);
    memcpy(buf, mem, mem_len);
    if (ubpf_register(vm, 5, "identity", identity) != 0 || ubpf_set_unwind_function_index(vm, 5) != 0) {
        printf("FAIL %s: registering the helper\n", name);
    } else if (ubpf_load(vm, code, (uint32_t)code_len, &errmsg) != 0) {
        printf("FAIL %s: load: %s\n", name, errmsg ? errmsg : "?");
    } else if (jit) {
        ubpf_jit_fn fn = ubpf_compile(vm, &errmsg);
        if (!fn) {
            printf("FAIL %s (jit): compile: %s\n", name, errmsg ? errmsg : "?");
        } else {
            uint64_t r0 = fn(mem_len ? buf : NULL, mem_len);
            ok = r0 == want;
            if (!ok)
                printf("FAIL %s (jit): r0 = 0x%" PRIx64 ", expected 0x%" PRIx64 "\n", name, r0, want);
        }
    } else {
        uint64_t r0 = 0;
        if (ubpf_exec(vm, mem_len ? buf : NULL, mem_len, &r0) != 0) {
            printf("FAIL %s (interpreter): ubpf_exec returned -1\n", name);
        } else {
            ok = r0 == want;
            if (!ok)
                printf("FAIL %s (interpreter): r0 = 0x%" PRIx64 ", expected 0x%" PRIx64 "\n", name, r0, want);
        }
    }
    free(errmsg);
    free(buf);
    ubpf_destroy(vm);
    return ok;
}

int
main(int argc, char** argv)
{
    FILE* in = argc > 1 ? fopen(argv[1], "r") : stdin;
    if (!in) {
        perror(argv[1]);
        return 2;
    }
    static char name[4096], code_hex[1 << 20], mem_hex[1 << 16];
    uint64_t want;
    int total = 0, passed[2] = {0, 0};
    while (fscanf(in, "%4095s %1048575s %65535s %" SCNx64, name, code_hex, mem_hex, &want) == 4) {
        uint8_t *code, *mem;
        size_t code_len = unhex(code_hex, &code), mem_len = unhex(mem_hex, &mem);
        total++;
        for (int jit = 0; jit < 2; jit++)
            passed[jit] += run_one(name, code, code_len, mem, mem_len, want, jit);
        free(code);
        free(mem);
    }
    if (in != stdin)
        fclose(in);
    printf("interpreter: %d/%d passed, jit: %d/%d passed\n", passed[0], total, passed[1], total);
    return total > 0 && passed[0] == total && passed[1] == total ? 0 : 1;
}
