/* The C test suite of libcranebpf: both layers (ubpf.h and cranebpf.h),
 * runs, faults, and every error path. Prints one line per failed check and
 * a summary; exits non-zero on any failure. CI runs it under valgrind.
 * Usage: test_api EXAMPLES_BPF_DIR */
#include <cranebpf.h>
#include <ubpf.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks, failures;
#define CHECK(cond)                                                                   \
    do {                                                                              \
        checks++;                                                                     \
        if (!(cond)) {                                                                \
            failures++;                                                               \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                    \
        }                                                                             \
    } while (0)

/* Instructions, little-endian: opcode, dst|src<<4, off, imm. */
#define INSN(op, dst, src, off, imm) \
    (op), (uint8_t)((dst) | (src) << 4), (uint8_t)((off) & 0xff), (uint8_t)((uint16_t)(off) >> 8), \
        (uint8_t)((imm) & 0xff), (uint8_t)(((imm) >> 8) & 0xff), (uint8_t)(((imm) >> 16) & 0xff), \
        (uint8_t)(((uint32_t)(imm) >> 24) & 0xff)
#define MOV64_IMM(d, i) INSN(0xb7, d, 0, 0, i)
#define MOV64_REG(d, s) INSN(0xbf, d, s, 0, 0)
#define ADD64_REG(d, s) INSN(0x0f, d, s, 0, 0)
#define LDXW(d, s, o) INSN(0x61, d, s, o, 0)
#define LDXDW(d, s, o) INSN(0x79, d, s, o, 0)
#define STW(d, o, i) INSN(0x62, d, 0, o, i)
#define CALL(i) INSN(0x85, 0, 0, 0, i)
#define JA(o) INSN(0x05, 0, 0, o, 0)
#define EXIT INSN(0x95, 0, 0, 0, 0)

/* ------------------------------------------------------------- helpers */

static uint64_t
add3(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
    (void)d, (void)e;
    return a + b + c;
}

/* Declares uBPF's implicit sixth argument: the run's mem pointer. */
static uint64_t
mem_cookie(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, void* mem)
{
    (void)a, (void)b, (void)c, (void)d, (void)e;
    return (uint64_t)(uintptr_t)mem;
}

static uint64_t
dispatch(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, unsigned int index, void* cookie)
{
    (void)b, (void)c, (void)d, (void)e, (void)cookie;
    return a * 100 + index;
}

static bool
only_index_7(unsigned int index, const struct ubpf_vm* vm)
{
    (void)vm;
    return index == 7;
}

static int printed;
static int
count_prints(FILE* stream, const char* format, ...)
{
    (void)stream, (void)format;
    printed++;
    return 0;
}

/* ------------------------------------------------------------ ubpf.h */

static void
test_ubpf_exec_and_compile(void)
{
    /* r0 = *(u32*)(r1 + 0) + r2 */
    uint8_t code[] = {LDXW(0, 1, 0), ADD64_REG(0, 2), EXIT};
    struct ubpf_vm* vm = ubpf_create();
    CHECK(vm != NULL);
    char* err = NULL;
    CHECK(ubpf_load(vm, code, sizeof code, &err) == 0 && err == NULL);
    uint32_t mem = 40;
    uint64_t r0 = 0;
    CHECK(ubpf_exec(vm, &mem, sizeof mem, &r0) == 0 && r0 == 44);
    CHECK(ubpf_exec_ex(vm, &mem, sizeof mem, &r0, NULL, 0) == 0 && r0 == 44);
    ubpf_jit_fn fn = ubpf_compile(vm, &err);
    CHECK(fn != NULL);
    if (fn)
        CHECK(fn(&mem, sizeof mem) == 44);
    CHECK(ubpf_compile(vm, &err) == fn); /* compiled once */
    ubpf_jit_ex_fn ex = ubpf_compile_ex(vm, &err, ExtendedJitMode);
    uint8_t stack[512];
    CHECK(ex != NULL);
    if (ex)
        CHECK(ex(&mem, sizeof mem, stack, sizeof stack) == 44);
    CHECK(ubpf_copy_jit(vm, stack, sizeof stack, &err) == fn);
    /* ubpf_translate is not supported: -1 and a message. */
    size_t size = sizeof stack;
    CHECK(ubpf_translate(vm, stack, &size, &err) == -1 && err != NULL);
    free(err);
    err = NULL;
    /* Reloading needs an unload first. */
    CHECK(ubpf_load(vm, code, sizeof code, &err) == -1 && err != NULL && strstr(err, "unload") != NULL);
    free(err);
    err = NULL;
    ubpf_unload_code(vm);
    /* The compiled function of unloaded code refuses to run. */
    if (fn)
        CHECK(fn(&mem, sizeof mem) == UINT64_MAX);
    CHECK(ubpf_exec(vm, &mem, sizeof mem, &r0) == -1);
    CHECK(ubpf_load(vm, code, sizeof code, &err) == 0);
    ubpf_destroy(vm);
}

static void
test_ubpf_helpers(void)
{
    uint8_t code[] = {MOV64_IMM(1, 1), MOV64_IMM(2, 2), MOV64_IMM(3, 3), CALL(3), EXIT};
    struct ubpf_vm* vm = ubpf_create();
    char* err = NULL;
    /* A call to an unregistered helper is a load error. */
    CHECK(ubpf_load(vm, code, sizeof code, &err) == -1 && err != NULL && strstr(err, "helper 3") != NULL);
    free(err);
    err = NULL;
    CHECK(ubpf_register(vm, 64, "too_far", add3) == -1); /* index out of range */
    CHECK(ubpf_register(vm, 3, "add3", add3) == 0);
    CHECK(ubpf_load(vm, code, sizeof code, &err) == 0);
    uint64_t r0 = 0;
    CHECK(ubpf_exec(vm, NULL, 0, &r0) == 0 && r0 == 6);
    ubpf_jit_fn fn = ubpf_compile(vm, &err);
    CHECK(fn != NULL && fn(NULL, 0) == 6);
    /* Registering after compiling takes effect. */
    CHECK(ubpf_register(vm, 3, "cookie", as_external_function_t((void*)mem_cookie)) == 0);
    uint8_t mem[8];
    CHECK(ubpf_exec(vm, mem, sizeof mem, &r0) == 0 && r0 == (uint64_t)(uintptr_t)mem);
    CHECK(fn != NULL && fn(mem, sizeof mem) == (uint64_t)(uintptr_t)mem);
    ubpf_destroy(vm);

    /* The dispatcher and its validator. */
    uint8_t call7[] = {MOV64_IMM(1, 5), CALL(7), EXIT};
    uint8_t call8[] = {CALL(8), EXIT};
    vm = ubpf_create();
    CHECK(ubpf_register_external_dispatcher(vm, dispatch, only_index_7) == 0);
    CHECK(ubpf_load(vm, call8, sizeof call8, &err) == -1);
    free(err);
    err = NULL;
    CHECK(ubpf_load(vm, call7, sizeof call7, &err) == 0);
    CHECK(ubpf_exec(vm, NULL, 0, &r0) == 0 && r0 == 507);
    fn = ubpf_compile(vm, &err);
    CHECK(fn != NULL && fn(NULL, 0) == 507);
    ubpf_destroy(vm);

    /* The unwind helper: returning 0 ends the program with r0 = 0. */
    uint8_t unwind[] = {MOV64_IMM(1, 0), CALL(5), MOV64_IMM(0, 9), EXIT};
    vm = ubpf_create();
    CHECK(ubpf_register(vm, 5, "add3", add3) == 0);
    CHECK(ubpf_set_unwind_function_index(vm, 5) == 0);
    CHECK(ubpf_set_unwind_function_index(vm, 6) == -1); /* only one */
    CHECK(ubpf_load(vm, unwind, sizeof unwind, &err) == 0);
    r0 = 1;
    CHECK(ubpf_exec(vm, NULL, 0, &r0) == 0 && r0 == 0);
    fn = ubpf_compile(vm, &err);
    CHECK(fn != NULL && fn(NULL, 0) == 0);
    ubpf_destroy(vm);
}

static void
test_ubpf_faults_and_knobs(void)
{
    /* r0 = *(u64*)(r1 + 8): out of bounds for a 4-byte input. */
    uint8_t oob[] = {LDXDW(0, 1, 8), EXIT};
    struct ubpf_vm* vm = ubpf_create();
    char* err = NULL;
    ubpf_set_error_print(vm, count_prints);
    /* Bounds checks stay on, whatever the toggle says. */
    CHECK(ubpf_toggle_bounds_check(vm, false) == true);
    CHECK(ubpf_toggle_bounds_check(vm, true) == false);
    CHECK(ubpf_load(vm, oob, sizeof oob, &err) == 0);
    uint32_t mem = 1;
    uint64_t r0 = 0;
    printed = 0;
    CHECK(ubpf_exec(vm, &mem, sizeof mem, &r0) == -1 && printed == 1);
    ubpf_jit_fn fn = ubpf_compile(vm, &err);
    CHECK(fn != NULL && fn(&mem, sizeof mem) == UINT64_MAX && printed == 2);
    /* NULL mem with a length, NULL result. */
    CHECK(ubpf_exec(vm, NULL, 4, &r0) == -1);
    CHECK(ubpf_exec(vm, &mem, sizeof mem, NULL) == -1);
    /* Knobs accepted after load return what uBPF returns. */
    CHECK(ubpf_set_pointer_secret(vm, 42) == -1);
    CHECK(ubpf_set_execution_profile(vm, UBPF_EXECUTION_PROFILE_SAFE) == -1);
    ubpf_destroy(vm);

    /* The instruction limit applies to both engines. */
    uint8_t loop[] = {JA(-1), EXIT};
    vm = ubpf_create();
    ubpf_set_error_print(vm, count_prints);
    uint32_t prev = 99;
    CHECK(ubpf_set_instruction_limit(vm, 1000, &prev) == 0 && prev == 0);
    CHECK(ubpf_set_pointer_secret(vm, 42) == 0);
    CHECK(ubpf_set_execution_profile(vm, UBPF_EXECUTION_PROFILE_LEGACY) == 0);
    CHECK(ubpf_set_execution_profile(vm, 7) == -1);
    CHECK(ubpf_toggle_constant_blinding(vm, true) == false);
    CHECK(ubpf_toggle_undefined_behavior_check(vm, true) == false);
    CHECK(ubpf_toggle_readonly_bytecode(vm, false) == true);
    CHECK(ubpf_set_jit_code_size(vm, 0) == -1 && ubpf_set_jit_code_size(vm, 65536) == 0);
    CHECK(ubpf_register_data_relocation(vm, NULL, NULL) == 0);
    CHECK(ubpf_register_data_bounds_check(vm, NULL, NULL) == 0);
    CHECK(ubpf_register_stack_usage_calculator(vm, NULL, NULL) == 0);
    CHECK(ubpf_register_debug_fn(vm, NULL, NULL) == 0);
    uint64_t regs[16];
    ubpf_set_registers(vm, regs);
    CHECK(ubpf_get_registers(vm) == regs);
    CHECK(ubpf_load(vm, loop, sizeof loop, &err) == 0);
    printed = 0;
    CHECK(ubpf_exec(vm, NULL, 0, &r0) == -1 && printed == 1);
    fn = ubpf_compile(vm, &err);
    CHECK(fn != NULL && fn(NULL, 0) == UINT64_MAX);
    ubpf_destroy(vm);

    /* A registered region is accessible (read-write with WRITE). */
    uint64_t host_value = 1234;
    uint64_t addr = (uint64_t)(uintptr_t)&host_value;
    uint8_t lddw[] = {INSN(0x18, 1, 0, 0, (uint32_t)addr), INSN(0, 0, 0, 0, (uint32_t)(addr >> 32)),
                      LDXDW(0, 1, 0), EXIT};
    vm = ubpf_create();
    ubpf_set_error_print(vm, count_prints);
    CHECK(ubpf_load(vm, lddw, sizeof lddw, &err) == 0);
    CHECK(ubpf_exec(vm, NULL, 0, &r0) == -1); /* not registered yet */
    struct ubpf_safe_region region = {1, &host_value, sizeof host_value, UBPF_SAFE_REGION_POINTER,
                                      UBPF_SAFE_REGION_READ};
    CHECK(ubpf_register_safe_region(vm, &region) == 0);
    CHECK(ubpf_register_safe_region(vm, NULL) == -1);
    CHECK(ubpf_exec(vm, NULL, 0, &r0) == 0 && r0 == 1234);
    ubpf_destroy(vm);
}

static void
test_ubpf_misuse(void)
{
    char* err = NULL;
    uint8_t code[] = {MOV64_IMM(0, 1), EXIT};
    uint64_t r0;
    /* NULL VMs. */
    CHECK(ubpf_load(NULL, code, sizeof code, &err) == -1 && err != NULL);
    free(err);
    err = NULL;
    CHECK(ubpf_exec(NULL, NULL, 0, &r0) == -1);
    CHECK(ubpf_compile(NULL, &err) == NULL && err != NULL);
    free(err);
    err = NULL;
    CHECK(ubpf_register(NULL, 1, "x", add3) == -1);
    ubpf_destroy(NULL);
    ubpf_unload_code(NULL);
    /* A stale handle: use after destroy and double destroy are detected. */
    struct ubpf_vm* vm = ubpf_create();
    ubpf_destroy(vm);
    CHECK(ubpf_exec(vm, NULL, 0, &r0) == -1);
    CHECK(ubpf_register(vm, 1, "x", add3) == -1);
    ubpf_destroy(vm);
    /* Bad code: a length that is not a multiple of 8, NULL code, garbage. */
    vm = ubpf_create();
    CHECK(ubpf_load(vm, code, 12, &err) == -1 && err != NULL && strstr(err, "multiple of 8") != NULL);
    free(err);
    err = NULL;
    CHECK(ubpf_load(vm, NULL, 16, &err) == -1);
    free(err);
    err = NULL;
    uint8_t bad[] = {INSN(0xff, 0, 0, 0, 0)};
    CHECK(ubpf_load(vm, bad, sizeof bad, &err) == -1 && err != NULL);
    free(err);
    err = NULL;
    CHECK(ubpf_compile(vm, &err) == NULL && err != NULL); /* nothing loaded */
    free(err);
    err = NULL;
    CHECK(ubpf_compile_ex(vm, &err, 5) == NULL);
    free(err);
    err = NULL;
    CHECK(ubpf_load_elf(vm, code, sizeof code, &err) == -1 && err != NULL); /* not an ELF */
    free(err);
    ubpf_destroy(vm);
}

static void
test_ubpf_elf(const char* dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/hist.o", dir);
    FILE* f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    static uint8_t elf[1 << 20];
    size_t n = fread(elf, 1, sizeof elf, f);
    fclose(f);
    struct ubpf_vm* vm = ubpf_create();
    char* err = NULL;
    CHECK(ubpf_load_elf_ex(vm, elf, n, "no_such_section", &err) == -1 && err != NULL);
    free(err);
    err = NULL;
    CHECK(ubpf_load_elf(vm, elf, n, &err) == 0);
    if (err)
        printf("  (ubpf_load_elf: %s)\n", err);
    free(err);
    ubpf_destroy(vm);
}

/* --------------------------------------------------------- cranebpf.h */

/* A helper that reads 4 bytes at r1 through the run's memory, adds r2 and
 * writes the sum back; fails when r2 is 0. */
static int
native_helper(void* user, struct cranebpf_mem* mem, const uint64_t* args, uint64_t* ret)
{
    int* calls = user;
    (*calls)++;
    if (args[1] == 0)
        return 22;
    uint32_t v;
    if (cranebpf_mem_read(mem, args[0], (uint8_t*)&v, sizeof v) != CRANEBPF_OK)
        return 1;
    v += (uint32_t)args[1];
    if (cranebpf_mem_write(mem, args[0], (const uint8_t*)&v, sizeof v) != CRANEBPF_OK)
        return 1;
    /* Out of the run's memory: refused, not a crash. */
    if (cranebpf_mem_read(mem, 8, (uint8_t*)&v, sizeof v) != CRANEBPF_ERR_ARG)
        return 1;
    *ret = v;
    return 0;
}

static void
test_native_runs_and_faults(enum cranebpf_engine engine)
{
    struct cranebpf_vm* vm = NULL;
    CHECK(cranebpf_vm_new(engine, &vm) == CRANEBPF_OK);
    int calls = 0;
    CHECK(cranebpf_vm_register_helper(vm, 9, "add_in_place", native_helper, &calls) == CRANEBPF_OK);
    CHECK(cranebpf_vm_register_helper(vm, 9, "x", NULL, NULL) == CRANEBPF_ERR_NULL);
    /* r2 = *(u32*)(r1 + 4); call 9 (r1 = mem, r2); exit */
    uint8_t code[] = {LDXW(2, 1, 4), CALL(9), EXIT};
    CHECK(cranebpf_vm_load(vm, code, 12) == CRANEBPF_ERR_ARG);
    CHECK(cranebpf_vm_load(vm, code, sizeof code) == CRANEBPF_OK);
    CHECK(cranebpf_vm_load(vm, code, sizeof code) == CRANEBPF_ERR_STATE);
    CHECK(cranebpf_vm_register_helper(vm, 10, "late", native_helper, &calls) == CRANEBPF_ERR_STATE);
    uint32_t mem[2] = {30, 12};
    struct cranebpf_result r;
    CHECK(cranebpf_vm_run(vm, (uint8_t*)mem, sizeof mem, &r) == CRANEBPF_OK);
    CHECK(r.r0 == 42 && mem[0] == 42 && r.fault.kind == CRANEBPF_FAULT_NONE && r.instructions == 3);
    /* The helper fails: a HELPER fault at the call's pc. */
    mem[1] = 0;
    CHECK(cranebpf_vm_run(vm, (uint8_t*)mem, sizeof mem, &r) == CRANEBPF_ERR_FAULT);
    CHECK(r.fault.kind == CRANEBPF_FAULT_HELPER && r.fault.pc == 1 && r.fault.helper_id == 9);
    CHECK(strstr(cranebpf_last_error(), "22") != NULL);
    /* Too short an input: OUT_OF_BOUNDS with the address and size. */
    CHECK(cranebpf_vm_run(vm, (uint8_t*)mem, 4, &r) == CRANEBPF_ERR_FAULT);
    CHECK(r.fault.kind == CRANEBPF_FAULT_OUT_OF_BOUNDS && r.fault.pc == 0 &&
          r.fault.addr == (uint64_t)(uintptr_t)mem + 4 && r.fault.size == 4 && r.fault.access == 1);
    CHECK(cranebpf_vm_run(vm, NULL, 4, &r) == CRANEBPF_ERR_NULL);
    CHECK(cranebpf_vm_run(vm, (uint8_t*)mem, sizeof mem, NULL) == CRANEBPF_ERR_NULL);
    struct cranebpf_stats st;
    CHECK(cranebpf_vm_stats(vm, &st) == CRANEBPF_OK && st.runs == 3 && st.faults == 2);
    CHECK(engine == CRANEBPF_ENGINE_INTERPRETER ? st.code_size == 0 : st.code_size > 0);
    CHECK(calls == 2);
    CHECK(cranebpf_vm_free(vm) == CRANEBPF_OK);
    /* Double free and use after free are detected. */
    CHECK(cranebpf_vm_free(vm) == CRANEBPF_ERR_HANDLE);
    CHECK(cranebpf_vm_run(vm, (uint8_t*)mem, sizeof mem, &r) == CRANEBPF_ERR_HANDLE);

    /* Budget, call to an unknown helper id through callx. */
    uint8_t loop[] = {JA(-1), EXIT};
    CHECK(cranebpf_vm_new(engine, &vm) == CRANEBPF_OK);
    CHECK(cranebpf_vm_set_budget(vm, 500) == CRANEBPF_OK);
    CHECK(cranebpf_vm_load(vm, loop, sizeof loop) == CRANEBPF_OK);
    CHECK(cranebpf_vm_run(vm, NULL, 0, &r) == CRANEBPF_ERR_FAULT);
    CHECK(r.fault.kind == CRANEBPF_FAULT_BUDGET && r.fault.size == 500);
    CHECK(cranebpf_vm_run_xdp(vm, (uint8_t*)mem, &(size_t){8}, 8, &r) == CRANEBPF_ERR_STATE);
    cranebpf_vm_free(vm);
    uint8_t unknown[] = {CALL(77), EXIT};
    CHECK(cranebpf_vm_new(engine, &vm) == CRANEBPF_OK);
    CHECK(cranebpf_vm_load(vm, unknown, sizeof unknown) == CRANEBPF_ERR_LOAD);
    CHECK(strlen(cranebpf_last_error()) > 0);
    CHECK(cranebpf_vm_run(vm, NULL, 0, &r) == CRANEBPF_ERR_STATE);
    cranebpf_vm_free(vm);
}

static void
test_native_misuse(void)
{
    struct cranebpf_vm* vm = NULL;
    CHECK(cranebpf_vm_new(5, &vm) == CRANEBPF_ERR_ARG);
    CHECK(cranebpf_vm_new(CRANEBPF_ENGINE_JIT, NULL) == CRANEBPF_ERR_NULL);
    CHECK(cranebpf_vm_free(NULL) == CRANEBPF_ERR_NULL);
    CHECK(cranebpf_vm_set_budget(NULL, 1) == CRANEBPF_ERR_NULL);
    CHECK(cranebpf_vm_set_budget((struct cranebpf_vm*)0x1234560, 1) == CRANEBPF_ERR_HANDLE);
    CHECK(cranebpf_vm_load(NULL, NULL, 0) == CRANEBPF_ERR_NULL);
    CHECK(cranebpf_map_free(NULL) == CRANEBPF_ERR_NULL);
    CHECK(cranebpf_mem_read(NULL, 0, NULL, 0) == CRANEBPF_ERR_NULL);
    CHECK(cranebpf_version() != NULL && strlen(cranebpf_version()) > 0);
    CHECK(cranebpf_vm_new(CRANEBPF_ENGINE_INTERPRETER, &vm) == CRANEBPF_OK);
    /* A VM handle is not a map handle. */
    CHECK(cranebpf_map_free((struct cranebpf_map*)vm) == CRANEBPF_ERR_HANDLE);
    uint8_t not_elf[16] = {0};
    CHECK(cranebpf_vm_load_elf(vm, not_elf, sizeof not_elf, NULL) == CRANEBPF_ERR_LOAD);
    struct cranebpf_map* map;
    CHECK(cranebpf_vm_map(vm, "flows", &map) == CRANEBPF_ERR_NOT_FOUND);
    cranebpf_vm_free(vm);
}

static void
test_native_elf_maps(const char* dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/firewall.o", dir);
    FILE* f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    static uint8_t elf[1 << 20];
    size_t n = fread(elf, 1, sizeof elf, f);
    fclose(f);
    struct cranebpf_vm* vm = NULL;
    CHECK(cranebpf_vm_new(CRANEBPF_ENGINE_JIT, &vm) == CRANEBPF_OK);
    CHECK(cranebpf_vm_load_elf(vm, elf, n, "no_such_program") == CRANEBPF_ERR_LOAD);
    CHECK(cranebpf_vm_load_elf(vm, elf, n, "xdp") == CRANEBPF_OK);
    /* A UDP packet: Ethernet, IPv4 (proto 17), UDP ports. */
    uint8_t pkt[256] = {0};
    size_t len = 14 + 20 + 8;
    pkt[12] = 0x08, pkt[13] = 0x00, pkt[14] = 0x45, pkt[16] = 0, pkt[17] = 28, pkt[22] = 64, pkt[23] = 17;
    pkt[26] = 192, pkt[27] = 168, pkt[28] = 1, pkt[29] = 10, pkt[30] = 10, pkt[33] = 1;
    pkt[34] = 0x9c, pkt[35] = 0x40, pkt[36] = 0, pkt[37] = 53, pkt[39] = 8;
    struct cranebpf_result r;
    CHECK(cranebpf_vm_run_xdp(vm, pkt, &len, sizeof pkt, &r) == CRANEBPF_OK && r.r0 <= 4);
    size_t big = 300;
    CHECK(cranebpf_vm_run_xdp(vm, pkt, &big, sizeof pkt, &r) == CRANEBPF_ERR_ARG);

    struct cranebpf_map* stats = NULL;
    CHECK(cranebpf_vm_map(vm, "proto_stats", &stats) == CRANEBPF_OK);
    struct cranebpf_map_info info;
    CHECK(cranebpf_map_info(stats, &info) == CRANEBPF_OK);
    CHECK(info.map_type == 2 && info.key_size == 4 && info.value_size == 16 && info.max_entries == 256);
    uint32_t key = 17;
    uint64_t value[2] = {0, 0};
    CHECK(cranebpf_map_lookup(stats, (uint8_t*)&key, sizeof key, (uint8_t*)value, sizeof value) == CRANEBPF_OK);
    CHECK(value[0] == 1);
    /* Wrong lengths and flags are errors. */
    CHECK(cranebpf_map_lookup(stats, (uint8_t*)&key, 8, (uint8_t*)value, sizeof value) == CRANEBPF_ERR_ARG);
    CHECK(cranebpf_map_lookup(stats, (uint8_t*)&key, sizeof key, (uint8_t*)value, 8) == CRANEBPF_ERR_ARG);
    CHECK(cranebpf_map_update(stats, (uint8_t*)&key, sizeof key, (uint8_t*)value, sizeof value, 9) ==
          CRANEBPF_ERR_ARG);
    value[0] = 1000;
    CHECK(cranebpf_map_update(stats, (uint8_t*)&key, sizeof key, (uint8_t*)value, sizeof value, 0) == CRANEBPF_OK);
    CHECK(cranebpf_map_lookup(stats, (uint8_t*)&key, sizeof key, (uint8_t*)value, sizeof value) == CRANEBPF_OK &&
          value[0] == 1000);
    key = 999; /* past max_entries */
    CHECK(cranebpf_map_lookup(stats, (uint8_t*)&key, sizeof key, (uint8_t*)value, sizeof value) ==
          CRANEBPF_ERR_NOT_FOUND);

    /* The flow table: iterate, delete. */
    struct cranebpf_map* flows = NULL;
    CHECK(cranebpf_vm_map(vm, "flows", &flows) == CRANEBPF_OK);
    uint8_t k[16], next[16];
    int count = 0;
    const uint8_t* prev = NULL;
    while (cranebpf_map_next_key(flows, prev, sizeof k, next) == CRANEBPF_OK && count < 2000) {
        memcpy(k, next, sizeof k);
        prev = k;
        count++;
    }
    CHECK(count == 1);
    CHECK(cranebpf_map_delete(flows, k, sizeof k) == CRANEBPF_OK);
    CHECK(cranebpf_map_delete(flows, k, sizeof k) == CRANEBPF_ERR_NOT_FOUND);
    CHECK(cranebpf_map_next_key(flows, NULL, sizeof k, next) == CRANEBPF_ERR_NOT_FOUND);
    /* A map handle outlives its VM; freeing it twice is detected. */
    cranebpf_vm_free(vm);
    CHECK(cranebpf_map_info(stats, &info) == CRANEBPF_OK);
    CHECK(cranebpf_map_free(stats) == CRANEBPF_OK);
    CHECK(cranebpf_map_free(stats) == CRANEBPF_ERR_HANDLE);
    CHECK(cranebpf_map_info(stats, &info) == CRANEBPF_ERR_HANDLE);
    CHECK(cranebpf_map_free(flows) == CRANEBPF_OK);
}

int
main(int argc, char** argv)
{
    const char* dir = argc > 1 ? argv[1] : "examples/bpf";
    test_ubpf_exec_and_compile();
    test_ubpf_helpers();
    test_ubpf_faults_and_knobs();
    test_ubpf_misuse();
    test_ubpf_elf(dir);
    test_native_runs_and_faults(CRANEBPF_ENGINE_INTERPRETER);
    test_native_runs_and_faults(CRANEBPF_ENGINE_JIT);
    test_native_misuse();
    test_native_elf_maps(dir);
    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
